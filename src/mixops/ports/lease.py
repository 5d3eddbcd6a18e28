"""A lease per stack and namespace, so two applies against one namespace run one after the other.

Mixpeek has no lock endpoint, so the lease is a resource whose name is the
lock: an empty collection `mixops_lock_<stack>` (`source: {type: none}`, no
feature extractor: it holds no documents and costs nothing). Why a collection:
mixops never plans, exports or drift-checks collections, so the lease cannot
show up as a change, and the live reader drops it from the collections it
reports. Its metadata says who holds it and until when:

    metadata: {managed_by: mixops, mixops_stack: <stack>,
               mixops_lease: {holder: "user@host pid 123", token: ..., expires_at: ISO, acquired_at: ISO}}

- Acquire = create. Collection names are unique per namespace, so of two
  concurrent creates exactly one succeeds: the name is the compare-and-set.
- A lease past its expiry (a crashed apply) is taken over by deleting THAT
  lease by id, then creating again. A competitor that already took it over has
  created a new collection with a new id, so our delete of the old id is a 404
  and our create loses cleanly: no two holders.
- The holder renews the expiry while it works (a background task), and
  deletes the lease when done.
- Waiting is bounded by `timeout`; then `LeaseTimeoutError` names the holder
  and the expiry.
- `check()` tells the holder, between phases of its work, whether the lease is
  still its own: lost when a renewal found it taken over, and also when every
  renewal failed (transiently) until the expiry last written has passed, since
  from then on another apply may take it over at any moment.
- Releasing never hides the error that ended the work: a release that fails
  then is added as a note to that error, and after success it is a warning
  (the lease expires by itself).

Hazard: expiry compares wall clocks of different machines; keep the TTL well
above any plausible clock skew (the default is two minutes, renewed every 30s).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import getpass
import os
import socket
import uuid
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

from mixops.errors import ApiError, LeaseLostError, LeaseTimeoutError
from mixops.ports.client import MixpeekClient

LOCK_PREFIX = "mixops_lock_"
LEASE_KEY = "mixops_lease"
DEFAULT_TTL = 120.0
Clock = Callable[[], dt.datetime]


def lock_name(stack: str) -> str:
    return f"{LOCK_PREFIX}{stack}"


def is_lock(collection_name: str) -> bool:
    return collection_name.startswith(LOCK_PREFIX)


def default_holder() -> str:
    run = os.environ.get("GITHUB_RUN_ID")
    where = f"GitHub run {run}" if run else f"{_user()}@{socket.gethostname()}"
    return f"{where} pid {os.getpid()}"


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return "unknown"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _iso(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).isoformat(timespec="seconds")


def _parse(text: Any) -> dt.datetime | None:
    if not isinstance(text, str):
        return None
    try:
        t = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


class Lease:
    """The stack's lease in one namespace: `async with Lease(...).hold(timeout):` around an apply."""

    def __init__(
        self,
        client: MixpeekClient,
        stack: str,
        *,
        holder: str | None = None,
        ttl: float = DEFAULT_TTL,
        poll: float = 1.0,
        clock: Clock = _now,
    ) -> None:
        self.client = client
        self.stack = stack
        self.name = lock_name(stack)
        self.holder = holder or default_holder()
        self.token = uuid.uuid4().hex
        self.ttl = ttl
        self.poll = poll
        self.clock = clock
        self.lease_id: str | None = None
        self.lost = False
        self.expires_at: dt.datetime | None = None  # the expiry we last wrote successfully
        self.warn: Callable[[str], None] = lambda _line: None
        self._renewer: asyncio.Task[None] | None = None
        self._timeout = 0.0

    def _record(self) -> dict[str, Any]:
        now = self.clock()
        return {
            "holder": self.holder,
            "token": self.token,
            "acquired_at": _iso(now),
            "expires_at": _iso(now + dt.timedelta(seconds=self.ttl)),
        }

    def _metadata(self, record: dict[str, Any]) -> dict[str, Any]:
        return {"managed_by": "mixops", "mixops_stack": self.stack, LEASE_KEY: record}

    async def _try_create(self) -> bool:
        record = self._record()
        body = {
            "collection_name": self.name,
            "description": f"mixops lease for stack {self.stack}: serialises applies (safe to delete when stale)",
            "source": {"type": "none"},
            "metadata": self._metadata(record),
        }
        try:
            out = await self.client.request("POST", "/v1/collections", json=body, idempotent=False)
        except ApiError as err:
            if err.status == 409 or (err.status == 400 and "exist" in err.info.message.lower()):
                return False
            if err.status not in (0, 500, 502, 503, 504):
                raise
            # Ambiguous (the client never repeats a create): the lease is ours if it carries our token.
            current = await self._current()
            if current is None or ((current.get("metadata") or {}).get(LEASE_KEY) or {}).get("token") != self.token:
                return False
            out = current
        self.lease_id = str(out["collection_id"])
        self.expires_at = _parse(record["expires_at"])
        return True

    async def _current(self) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = await self.client.request("GET", f"/v1/collections/{self.name}")
        except ApiError as err:
            if err.status == 404:
                return None
            raise
        return found

    async def acquire(self, timeout: float = 0.0) -> None:
        """Take the lease, waiting up to `timeout` seconds for its holder to finish."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(timeout, 0.0)
        while True:
            if await self._try_create():
                return
            current = await self._current()
            if current is None:  # released between our create and our read: try again soon
                if loop.time() > deadline + 10 * self.poll:
                    raise LeaseTimeoutError(
                        f"could not create the lease collection {self.name!r} (it is refused "
                        "as existing, yet cannot be read)"
                    )
                await asyncio.sleep(min(self.poll, 0.05))
                continue
            record = (current.get("metadata") or {}).get(LEASE_KEY) or {}
            expires = _parse(record.get("expires_at"))
            if expires is None or expires <= self.clock():
                await self._delete(str(current["collection_id"]))  # expired (or unreadable): take it over
                continue
            left = deadline - loop.time()
            if left <= 0:
                raise LeaseTimeoutError(
                    f"another apply holds the lease of stack {self.stack!r} in this namespace: "
                    f"{record.get('holder', 'unknown holder')}, since {record.get('acquired_at', '?')}, "
                    f"expiring {_iso(expires)} unless renewed "
                    f"(wait with --lock-timeout, e.g. --lock-timeout 10m; a crashed holder's lease expires "
                    f"by itself, or delete collection {self.name!r})"
                )
            await asyncio.sleep(min(self.poll, left))

    async def renew(self) -> None:
        if self.lease_id is None:
            return
        record = self._record()
        try:
            await self.client.request(
                "PATCH", f"/v1/collections/{self.lease_id}", json={"metadata": self._metadata(record)}
            )
            self.expires_at = _parse(record["expires_at"])
        except ApiError as err:
            if err.status == 404:
                self.lost = True
                raise LeaseLostError(
                    f"the lease of stack {self.stack!r} expired and was taken over by another apply"
                ) from None
            raise

    def check(self) -> None:
        """Raise LeaseLostError unless the lease is still ours (call it before starting more work)."""
        if not self.lost and self.expires_at is not None and self.clock() >= self.expires_at:
            self.lost = True
        if self.lost:
            raise LeaseLostError(
                f"the lease of stack {self.stack!r} was lost (taken over, or not renewed before it expired at "
                f"{_iso(self.expires_at) if self.expires_at else 'an unknown time'}): another apply may run "
                "now, so no further changes were started; run `mixops plan` to check the namespace"
            )

    async def release(self) -> None:
        if self.lease_id is not None:
            await self._delete(self.lease_id)
            self.lease_id = None

    async def _delete(self, lease_id: str) -> None:
        try:
            await self.client.request("DELETE", f"/v1/collections/{lease_id}")
        except ApiError as err:
            if err.status != 404:  # already gone: someone else took it over or released it
                raise

    async def _renew_forever(self) -> None:
        while True:
            await asyncio.sleep(self.ttl / 4)
            try:
                await self.renew()
            except LeaseLostError:
                return
            except ApiError:
                continue  # a transient failure; the next renewal may succeed before expiry

    def hold(self, timeout: float = 0.0, warn: Callable[[str], None] | None = None) -> Self:
        """`async with lease.hold(timeout, warn):`; `warn` hears about a release that failed after success."""
        self._timeout = timeout
        if warn is not None:
            self.warn = warn
        return self

    async def __aenter__(self) -> Self:
        await self.acquire(self._timeout)
        self._renewer = asyncio.create_task(self._renew_forever())
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
            self._renewer = None
        try:
            await self.release()
        except Exception as err:
            if exc is None and not isinstance(err, ApiError):
                raise  # a bug in the release itself, with nothing else to report
            note = (
                f"the lease collection {self.name!r} could not be released ({err}); "
                f"it expires by itself at {_iso(self.expires_at) if self.expires_at else 'its expiry'}"
            )
            if exc is not None:
                # The error that ended the work is what the user must see; the release is a footnote.
                exc.add_note(note)
            else:
                self.warn(f"warning: {note}")
