"""An opt-in lease per stack and namespace, so two applies against one namespace run one after the other.

By default mixops takes no lease (`lock: none`): it creates nothing in a namespace
that the manifests do not declare, and applies are serialised where they start, in
CI (GitHub Actions `concurrency:`, see docs/ci.md). An environment that sets
`lock: lease` in mixops.yaml opts in to this lease.

Mixpeek has no lock endpoint, so the lease is a resource whose name is the lock,
built only from documented behaviour: a retriever `mixops_lock_<stack>` with no
collections (CreateRetrieverRequest allows an empty `collection_identifiers` for
pipelines that read no documents) and one `sort_attribute` stage (no feature URI,
nothing to validate against a collection). It holds no data and is never executed.
The live reader leaves it out, so it never shows as a change, an export or drift.
Its `metadata` (documented as round-tripping, replaced by PATCH) says who holds it:

    metadata: {managed_by: mixops, mixops_stack: <stack>,
               mixops_lease: {holder: "user@host pid 123", token: ..., expires_at: ISO, acquired_at: ISO}}

- Preflight (`probe_lease`, read-only, also used by `mixops doctor`): the lease's
  route answers a GET by name with the resource or 404. Anything else means the
  primitive is not usable with this key: the apply stops before changing anything.
- Acquire = create. Names are unique per namespace, so of two concurrent creates
  exactly one succeeds: the name is the compare-and-set. A refusal is a conflict
  when `error.type` / `error.code` say so (409, `conflict`, `*_name_taken`,
  `*_already_exists`), never by the message text. Whatever the refusal, the lease
  is then read: if nobody holds it, the refusal itself is the error reported.
- A lease past its expiry (a crashed apply) is taken over by deleting THAT lease by
  id, then creating again. A competitor that already took it over created a new
  resource with a new id, so our delete of the old id is a 404 and our create loses
  cleanly: no two holders.
- The holder renews the expiry while it works (a background task), and deletes the
  lease when done. Waiting is bounded by `timeout`; then `LeaseTimeoutError` names
  the holder and the expiry, or the API's real answer when the lease could not be
  created at all (a 503 is reported as a 503).
- `check()` tells the holder, between phases of its work, whether the lease is still
  its own: lost when a renewal found it taken over, and also when every renewal
  failed (transiently) until the expiry last written has passed.
- Releasing never hides the error that ended the work: a release that fails then is
  added as a note to that error, and after success it is a warning.

Hazard: expiry compares wall clocks of different machines; keep the TTL well above
any plausible clock skew (the default is two minutes, renewed every 30 s).
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
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, Self

from mixops.errors import ApiError, LeaseError, LeaseLostError, LeaseTimeoutError
from mixops.ports.client import MixpeekClient

LOCK_PREFIX = "mixops_lock_"
LEASE_KEY = "mixops_lease"
DEFAULT_TTL = 120.0
LEASE_PATH = "/v1/retrievers"
Clock = Callable[[], dt.datetime]
LockMode = Literal["none", "lease"]

_CONFLICT_TYPES = frozenset({"conflict", "already_exists"})
_CONFLICT_SUFFIXES = ("_name_taken", "_already_exists")
_AMBIGUOUS = (0, 500, 502, 503, 504)  # the create may have landed: read before deciding


def lock_name(stack: str) -> str:
    return f"{LOCK_PREFIX}{stack}"


def is_lock(name: str) -> bool:
    return name.startswith(LOCK_PREFIX)


def is_conflict(err: ApiError) -> bool:
    """A refusal because the name is taken, told by status, `error.type` or `error.code`."""
    code = err.info.code or ""
    return err.status == 409 or err.info.type in _CONFLICT_TYPES or code.endswith(_CONFLICT_SUFFIXES)


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


def _record_of(resource: dict[str, Any]) -> dict[str, Any]:
    record = (resource.get("metadata") or {}).get(LEASE_KEY)
    return record if isinstance(record, dict) else {}


@dataclass(frozen=True)
class LeaseProbe:
    """What a read-only look at the lease found: `usable` is False with a `reason` when the
    primitive cannot serve as a lease here; `holder`/`expires_at` describe a lease now held."""

    usable: bool
    reason: str = ""
    holder: str | None = None
    expires_at: str | None = None


async def probe_lease(client: MixpeekClient, stack: str) -> LeaseProbe:
    """Read-only preflight of the lease primitive (one GET)."""
    try:
        found = await client.request("GET", f"{LEASE_PATH}/{lock_name(stack)}")
    except ApiError as err:
        if err.status == 404:
            return LeaseProbe(usable=True)
        return LeaseProbe(usable=False, reason=f"GET {LEASE_PATH}/{lock_name(stack)} answered {err}")
    record = _record_of(found) if isinstance(found, dict) else {}
    return LeaseProbe(usable=True, holder=record.get("holder"), expires_at=record.get("expires_at"))


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
        check_with: str = "mixops plan",
    ) -> None:
        """`check_with`: the command a lost lease says to run to look at the namespace."""
        self.client = client
        self.check_with = check_with
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
        self._last_refusal: ApiError | None = None

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

    def _body(self, record: dict[str, Any]) -> dict[str, Any]:
        return {
            "retriever_name": self.name,
            "description": f"mixops lease for stack {self.stack}: serialises applies (safe to delete when stale)",
            "collection_identifiers": [],
            "stages": [
                {
                    "stage_name": "lease",
                    "config": {"stage_id": "sort_attribute", "parameters": {"field": "metadata.created_at"}},
                }
            ],
            "metadata": self._metadata(record),
        }

    async def _try_create(self) -> bool:
        record = self._record()
        try:
            out = await self.client.request("POST", LEASE_PATH, json=self._body(record), idempotent=False)
        except ApiError as err:
            self._last_refusal = err
            if is_conflict(err):
                return False
            current = await self._current()
            if err.status not in _AMBIGUOUS:
                if current is None:
                    # Refused, and nobody holds it: the refusal is the cause, whatever it says.
                    raise LeaseError(
                        f"could not create the lease {self.name!r} ({err}); the lease (`lock: lease` in "
                        "mixops.yaml) needs POST /v1/retrievers to accept it: set `lock: none` and "
                        "serialise applies in CI instead (docs/ci.md)"
                    ) from None
                return False
            # Ambiguous (the client never repeats a create): ours if it carries our token.
            if current is None or _record_of(current).get("token") != self.token:
                return False
            out = current
        self.lease_id = str(out["retriever_id"])
        self.expires_at = _parse(record["expires_at"])
        self._last_refusal = None
        return True

    async def _current(self) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = await self.client.request("GET", f"{LEASE_PATH}/{self.name}")
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
            if current is None:  # released meanwhile, or the create failed without landing: try again
                if loop.time() > deadline + 10 * self.poll:
                    cause = f"the API answered: {self._last_refusal}" if self._last_refusal else "no answer"
                    raise LeaseError(f"could not create the lease {self.name!r} ({cause})")
                await asyncio.sleep(min(self.poll, 0.05))
                continue
            record = _record_of(current)
            expires = _parse(record.get("expires_at"))
            if expires is None or expires <= self.clock():
                await self._delete(str(current["retriever_id"]))  # expired (or unreadable): take it over
                continue
            left = deadline - loop.time()
            if left <= 0:
                raise LeaseTimeoutError(
                    f"another apply holds the lease of stack {self.stack!r} in this namespace: "
                    f"{record.get('holder', 'unknown holder')}, since {record.get('acquired_at', '?')}, "
                    f"expiring {_iso(expires)} unless renewed "
                    f"(wait with --lock-timeout, e.g. --lock-timeout 10m; a crashed holder's lease expires "
                    f"by itself, or delete retriever {self.name!r})"
                )
            await asyncio.sleep(min(self.poll, left))

    async def renew(self) -> None:
        if self.lease_id is None:
            return
        record = self._record()
        try:
            await self.client.request(
                "PATCH", f"{LEASE_PATH}/{self.lease_id}", json={"metadata": self._metadata(record)}
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
                f"now, so no further changes were started; run `{self.check_with}` to check the namespace"
            )

    async def release(self) -> None:
        if self.lease_id is not None:
            await self._delete(self.lease_id)
            self.lease_id = None

    async def _delete(self, lease_id: str) -> None:
        try:
            await self.client.request("DELETE", f"{LEASE_PATH}/{lease_id}")
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
        await self.client.check_namespace()  # never a lease in a namespace that does not exist
        probe = await probe_lease(self.client, self.stack)
        if not probe.usable:
            raise LeaseError(
                f"the lease (`lock: lease` in mixops.yaml) cannot be used here: {probe.reason}; set "
                "`lock: none` and serialise applies in CI instead (docs/ci.md)"
            )
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
                f"the lease {self.name!r} could not be released ({err}); "
                f"it expires by itself at {_iso(self.expires_at) if self.expires_at else 'its expiry'}"
            )
            if exc is not None:
                # The error that ended the work is what the user must see; the release is a footnote.
                exc.add_note(note)
            else:
                self.warn(f"warning: {note}")


class NoLock:
    """`lock: none` (the default): nothing is created; applies are serialised by CI."""

    def hold(self, timeout: float = 0.0, warn: Callable[[str], None] | None = None) -> Self:
        return self

    def check(self) -> None:
        return None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None


def stack_lock(
    client: MixpeekClient, stack: str, mode: LockMode, *, ttl: float = DEFAULT_TTL, check_with: str = "mixops plan"
) -> Lease | NoLock:
    """The lock an apply takes for `mode` (an environment's `lock` setting)."""
    return Lease(client, stack, ttl=ttl, check_with=check_with) if mode == "lease" else NoLock()
