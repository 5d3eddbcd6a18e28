"""The one way mixops talks to Mixpeek (cloud, or the local backend in-process).

Public interface::

    async with MixpeekClient(base_url, api_key=key, namespace="catalog",
                             transport=None,          # or httpx.ASGITransport(app=local_app)
                             parallelism=8, timeout=30.0, max_retries=5,
                             backoff_base=0.25, backoff_max=10.0, deadline=60.0) as client:
        body = await client.request("POST", "/v1/retrievers/list", json={}, idempotent=True)
        retrievers = await client.list_retrievers()       # every page, as the API returns rows
        client.stats.requests, client.stats.retries, client.stats.by_status

``request(method, path, *, json=None, params=None, idempotent=None)`` returns the decoded JSON
(None for an empty body or JSON null) and raises :class:`mixops.errors.ApiError` for every
failure: an error envelope (``info.status/type/code/message/details``), a non-JSON error page,
or, after retries, a network failure (``status 0``, ``type "connection_error"``, ``code`` the
failure, e.g. ``"read_timeout"``). A malformed list (a repeated cursor) raises
:class:`mixops.ports.pagination.PaginationError`, a :class:`~mixops.errors.MixopsError`.

Typed helpers (each returns the API's own dict, unwrapped where the API wraps it):

* lists, every page: ``list_retrievers list_taxonomies list_clusters list_collections``,
  and ``list_all(path_prefix, body=None, page_size=1000)`` for any ``POST .../list``;
* collections: ``get_collection collection_features`` (the ``features`` list);
* retrievers: ``create_retriever patch_retriever clone_retriever delete_retriever
  execute_retriever execute_adhoc_retriever get_retriever_execution``;
* taxonomies: ``create_taxonomy patch_taxonomy clone_taxonomy create_taxonomy_version
  delete_taxonomy execute_taxonomy``;
* clusters: ``create_cluster patch_cluster delete_cluster execute_cluster (a task)
  get_cluster_execution (None if never run) execute_adhoc_clustering``;
* tasks: ``get_task wait_task``; namespaces: ``get_namespace create_namespace ensure_namespace``.

Headers: ``Authorization: Bearer <key>`` when a key is given, ``X-Namespace`` on every call
but ``/v1/namespaces*`` and ``/v1/manifest*`` (which the API scopes by path). The key never
appears in an exception, the repr, or a log line: it lives only in the request headers, and
server text is scrubbed of it before it reaches an error.

Retries (see :mod:`mixops.ports.retry`): 429 always, honouring ``Retry-After``; 502/503/504
and dropped connections only for requests safe to repeat (GET/HEAD/PUT/DELETE/OPTIONS/PATCH,
or ``idempotent=True``: lists and executes); connection failures before sending always.
Creates are never repeated once they may have reached the server. A DELETE that is retried
may answer 404 when the first attempt did land: callers deleting should accept a 404.

Deadline: ``deadline`` seconds bound one call from its first attempt to its last answer,
retries and waits included (``timeout`` bounds each attempt; the last attempt gets only
what is left). A server that accepts connections and never answers costs one deadline,
not ``(max_retries + 1) * timeout``; the error then says so (``code "deadline_exceeded"``).
``None`` means no deadline. Users set it per environment (``request_deadline`` in
mixops.yaml) or for a run (``MIXOPS_REQUEST_DEADLINE``); see :mod:`mixops.ports.target`.

Concurrency: one semaphore of ``parallelism`` slots bounds requests in flight across every
call on this client; a request waiting out a backoff holds no slot.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
import logging
import random
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from mixops import __version__
from mixops.errors import ApiError, ApiErrorInfo, MixopsError
from mixops.ports.envelope import parse_error, redact
from mixops.ports.pagination import ENVELOPES, Envelope, Page, PaginationError, collect, read_page
from mixops.ports.retry import (
    BackoffWait,
    RetryableResponse,
    is_safe,
    parse_retry_after,
    status_is_retryable,
    transport_error_is_retryable,
)

log = logging.getLogger("mixops.client")

Sleep = Callable[[float], Awaitable[None]]

DEFAULT_USER_AGENT = f"mixops/{__version__}"
DEFAULT_DEADLINE = 60.0
TERMINAL_TASK_STATUSES = frozenset({"COMPLETED", "FAILED", "CANCELED", "COMPLETED_WITH_ERRORS"})
# The statuses of a task that is still on its way (TaskStatusEnum, mixpeek-api.md 1.7). Any
# other status ends a wait: INTERRUPTED, SKIPPED, an unknown one will not turn into COMPLETED
# by waiting, and the caller says what the status means for it.
RUNNING_TASK_STATUSES = frozenset({"PENDING", "QUEUED", "IN_PROGRESS", "PROCESSING"})

# Bearer auth only: the namespace comes from the path or the manifest, and the API rejects
# nothing for a stray header, but sending one would scope calls we do not mean to scope.
_UNSCOPED_PREFIXES = ("/v1/namespaces", "/v1/manifest")


@dataclass
class ClientStats:
    """Counters for benchmarks and tests. ``by_status[0]`` counts attempts that got no response."""

    requests: int = 0
    retries: int = 0
    by_status: Counter[int] = field(default_factory=Counter)
    in_flight: int = 0
    max_in_flight: int = 0

    def reset(self) -> None:
        self.requests = 0
        self.retries = 0
        self.by_status.clear()
        self.max_in_flight = self.in_flight


def _seg(identifier: str) -> str:
    """A path segment: names may hold characters that mean something in a URL."""
    return quote(identifier, safe="")


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _unwrap(body: Any, key: str) -> dict[str, Any]:
    if isinstance(body, dict) and isinstance(body.get(key), dict):
        inner: dict[str, Any] = body[key]
        return inner
    return _expect_dict(body)


def _expect_dict(body: Any) -> dict[str, Any]:
    if isinstance(body, dict):
        return body
    raise MixopsError(f"expected a JSON object from the API, got {type(body).__name__}")


class MixpeekClient:
    """Async Mixpeek HTTP client: auth, retries, bounded concurrency, pagination, one error type."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None,
        namespace: str | None,
        transport: httpx.AsyncBaseTransport | None = None,
        parallelism: int = 8,
        timeout: float = 30.0,
        max_retries: int = 5,
        backoff_base: float = 0.25,
        backoff_max: float = 10.0,
        user_agent: str = DEFAULT_USER_AGENT,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        secrets: Iterable[str] = (),
        deadline: float | None = DEFAULT_DEADLINE,
    ) -> None:
        """`secrets`: values besides the API key to redact from every error (the stack's
        `${{ env.X }}` values: a 422 may echo the request body that carries them)."""
        if parallelism < 1:
            raise ValueError("parallelism must be at least 1")
        if max_retries < 0:
            raise ValueError("max_retries must not be negative")
        if deadline is not None and deadline <= 0:
            raise ValueError("deadline must be positive (or None)")
        self.deadline = deadline
        # What this run learned of the API's optional capabilities (ports/capabilities.py):
        # asked once per client, so once per command.
        self.capabilities: dict[str, object] = {}
        self._timeout = timeout
        self.base_url = base_url
        self.namespace = namespace
        self.parallelism = parallelism
        self.max_retries = max_retries
        self.stats = ClientStats()
        # Longest first, so a secret containing another is redacted whole.
        self._secrets: tuple[str, ...] = tuple(sorted({s for s in (api_key, *secrets) if s}, key=len, reverse=True))
        self._api_key_set = bool(api_key)
        self._sleep = sleep
        self._wait = BackoffWait(backoff_base, backoff_max, rng)
        self._backoff_max = backoff_max
        self._slots = asyncio.Semaphore(parallelism)
        headers = {"User-Agent": user_agent, "Accept": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._http = httpx.AsyncClient(
            base_url=base_url,
            headers=headers,
            transport=transport,
            timeout=httpx.Timeout(timeout),
            # One pooled connection per slot: more would sit idle, fewer would queue in httpx
            # where PoolTimeout, not our semaphore, would decide.
            limits=httpx.Limits(max_connections=parallelism, max_keepalive_connections=parallelism),
        )

    def __repr__(self) -> str:
        key = "set" if self._api_key_set else "none"
        return (
            f"MixpeekClient(base_url={self.base_url!r}, namespace={self.namespace!r}, "
            f"api_key={key}, parallelism={self.parallelism})"
        )

    def redact_also(self, secrets: Iterable[str]) -> None:
        """Add values to redact from every later error (a plan learns the stack's secrets mid-way)."""
        self._secrets = tuple(sorted({*self._secrets, *(s for s in secrets if s)}, key=len, reverse=True))

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # ---- the core ----------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        idempotent: bool | None = None,
    ) -> Any:
        """Send one API call (retrying where safe) and return its decoded JSON body.

        Wherever the API says the namespace is not there (the X-Namespace-Unresolved header
        on any answer, a 404 `namespace_not_found` to a namespaced call), the error is the
        clear `namespace_unresolved` one: not "this resource is missing", which a planner
        would read as "create it".
        """
        method = method.upper()
        safe = is_safe(method, idempotent)
        request = self._build(method, path, json=json, params=params)
        url = redact(str(request.url), self._secrets)

        def retryable(exc: BaseException) -> bool:
            if isinstance(exc, RetryableResponse):
                return True
            return isinstance(exc, httpx.TransportError) and transport_error_is_retryable(exc, safe)

        def before_sleep(state: RetryCallState) -> None:
            self.stats.retries += 1
            outcome = state.outcome
            exc = outcome.exception() if outcome is not None else None
            wait = state.upcoming_sleep
            log.info(
                "retrying %s %s in %.2fs after %s (attempt %d)", method, url, wait, _describe(exc), state.attempt_number
            )

        started = time.monotonic()
        attempts = stop_after_attempt(self.max_retries + 1)
        ended_by_deadline = False

        def stop(state: RetryCallState) -> bool:
            nonlocal ended_by_deadline
            if attempts(state):
                return True
            # Waiting out the backoff would pass the deadline: stop now, with the last error.
            ended_by_deadline = self._left(started, state.upcoming_sleep) <= 0
            return ended_by_deadline

        retrying = AsyncRetrying(
            stop=stop,
            wait=self._wait,
            retry=retry_if_exception(retryable),
            sleep=self._sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    left = self._left(started)
                    if left <= 0:
                        ended_by_deadline = True
                        raise httpx.ReadTimeout("no time left before the request deadline", request=request)
                    response = await self._attempt(request, safe, min(self._timeout, left))
        except RetryableResponse as exc:
            error = self._error(method, url, exc.response)
            if ended_by_deadline:
                error.info.message += self._deadline_note(retrying)
            raise ApiError(method, url, error.info) from None
        except httpx.TransportError as exc:
            timed_out = ended_by_deadline or (
                isinstance(exc, httpx.TimeoutException) and self._left(started) <= 0 and self.deadline is not None
            )
            raise self._connection_error(method, url, exc, self._deadline_note(retrying) if timed_out else "") from None
        if "X-Namespace-Unresolved" in response.headers:
            raise self._unresolved(method, url, response.status_code)
        return self._decode(response)

    def _build(
        self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None
    ) -> httpx.Request:
        """The request, with X-Namespace on every route that lives in a namespace."""
        headers = {}
        if self.namespace and not path.startswith(_UNSCOPED_PREFIXES):
            headers["X-Namespace"] = self.namespace
        return self._http.build_request(method, path, json=json, params=params, headers=headers)

    def _connection_error(self, method: str, url: str, exc: httpx.TransportError, deadline_note: str) -> ApiError:
        """No answer: `deadline_exceeded` when the deadline ended it (``deadline_note`` says how), else the cause."""
        sent = "" if transport_error_is_retryable(exc, False) else " (the request may have reached the server)"
        info = ApiErrorInfo(
            status=0,
            type="connection_error",
            code="deadline_exceeded" if deadline_note else _snake(type(exc).__name__),
            message=redact(f"{type(exc).__name__}: {exc or 'no detail'}{sent}", self._secrets) + deadline_note,
        )
        return ApiError(method, url, info)

    def _left(self, started: float, after: float = 0.0) -> float:
        """Seconds left before the deadline (infinite without one), once `after` more have passed."""
        if self.deadline is None:
            return float("inf")
        return self.deadline - (time.monotonic() - started) - after

    def _deadline_note(self, retrying: AsyncRetrying) -> str:
        tries = retrying.statistics.get("attempt_number", 1)
        return (
            f"; gave up at the request deadline of {self.deadline:g}s after {tries} attempt(s) "
            "(raise it with request_deadline in mixops.yaml or MIXOPS_REQUEST_DEADLINE)"
        )

    async def _attempt(self, request: httpx.Request, safe: bool, timeout: float) -> httpx.Response:
        # Each attempt gets the per-attempt timeout, or what is left of the deadline if less.
        request.extensions["timeout"] = httpx.Timeout(timeout).as_dict()
        async with self._slots:
            self.stats.requests += 1
            self.stats.in_flight += 1
            self.stats.max_in_flight = max(self.stats.max_in_flight, self.stats.in_flight)
            try:
                response = await self._http.send(request)
            except httpx.TransportError:
                self.stats.by_status[0] += 1
                raise
            finally:
                self.stats.in_flight -= 1
        status = response.status_code
        self.stats.by_status[status] += 1
        log.debug("%s %s -> %d", request.method, request.url, status)
        if status < 400:
            return response
        if status_is_retryable(status, safe):
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise RetryableResponse(response, retry_after)
        raise self._error(request.method, redact(str(request.url), self._secrets), response)

    def _error(self, method: str, url: str, response: httpx.Response) -> ApiError:
        info = parse_error(response.status_code, response.content, response.reason_phrase, self._secrets)
        scoped = "X-Namespace" in response.request.headers
        if response.status_code == 404 and (
            "X-Namespace-Unresolved" in response.headers or (scoped and info.code == "namespace_not_found")
        ):
            # Not "this resource is missing": nothing in an unresolved namespace can be found.
            return self._unresolved(method, url, response.status_code)
        return ApiError(method, url, info)

    def _decode(self, response: httpx.Response) -> Any:
        if not response.content.strip():
            return None
        try:
            return jsonlib.loads(response.content)
        except ValueError:
            snippet = " ".join(response.text.split())[:200]
            info = ApiErrorInfo(
                status=response.status_code,
                type="invalid_response",
                message=redact(f"the response body is not JSON: {snippet!r}", self._secrets),
            )
            raise ApiError(response.request.method, redact(str(response.request.url), self._secrets), info) from None

    # ---- pagination --------------------------------------------------------------------

    async def list_all(
        self, path_prefix: str, *, body: dict[str, Any] | None = None, page_size: int = 1000
    ) -> list[dict[str, Any]]:
        """Every row of ``POST {path_prefix}/list`` (``path_prefix`` may already end in ``/list``)."""
        path = path_prefix.rstrip("/")
        if not path.endswith("/list"):
            path += "/list"
        request_body = dict(body or {})
        # Body values beat query values on this API, so a limit in the body is the page size.
        limit = request_body.get("limit") or request_body.get("page_size") or page_size
        envelope = ENVELOPES.get(path, Envelope())

        async def fetch(params: dict[str, Any]) -> Page:
            return await self._list_page(path, request_body, params, envelope)

        try:
            return await collect(fetch, int(limit))
        except PaginationError as exc:
            raise PaginationError(f"POST {path}: {exc}") from None

    async def _list_page(self, path: str, body: dict[str, Any], params: dict[str, Any], envelope: Envelope) -> Page:
        """One page of a list route; a `namespace_unresolved` error when the namespace is not there.

        The API marks an unresolved namespace on a list rather than failing: the
        X-Namespace-Unresolved header (which `request` turns into the error for every call) or,
        on the lists that document it, a `warnings[]` entry. An empty listing then says nothing
        about the namespace: planning from it would try to create everything again.
        """
        page = read_page(await self.request("POST", path, json=body, params=params, idempotent=True), envelope)
        if page.namespace_unresolved:
            url = redact(str(self._build("POST", path, params=params).url), self._secrets)
            raise self._unresolved("POST", url, 200)
        return page

    def _unresolved(self, method: str, url: str, status: int) -> ApiError:
        info = ApiErrorInfo(
            status=status,
            type="namespace_unresolved",
            message=(
                f"namespace {self.namespace!r} does not exist, or this API key cannot see it: create it "
                "(POST /v1/namespaces, or the Mixpeek console), or set `create_namespace: true` on the "
                "environment in mixops.yaml"
            ),
        )
        return ApiError(method, url, info)

    async def check_namespace(self) -> None:
        """Raise a clear `namespace_unresolved` error unless X-Namespace names a namespace this key sees.

        One page of one row of the collections list (see `_list_page`).
        """
        path = "/v1/collections/list"
        await self._list_page(path, {}, {"limit": 1}, ENVELOPES[path])

    async def list_retrievers(self) -> list[dict[str, Any]]:
        return await self.list_all("/v1/retrievers")

    async def list_taxonomies(self) -> list[dict[str, Any]]:
        return await self.list_all("/v1/taxonomies")

    async def list_clusters(self) -> list[dict[str, Any]]:
        return await self.list_all("/v1/clusters")

    async def list_collections(self) -> list[dict[str, Any]]:
        return await self.list_all("/v1/collections")

    # ---- collections -------------------------------------------------------------------

    async def get_collection(self, identifier: str) -> dict[str, Any]:
        return _expect_dict(await self.request("GET", f"/v1/collections/{_seg(identifier)}"))

    async def create_collection(self, body: dict[str, Any]) -> dict[str, Any]:
        return _expect_dict(await self.request("POST", "/v1/collections", json=body, idempotent=False))

    async def patch_collection(self, collection_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return _expect_dict(await self.request("PATCH", f"/v1/collections/{_seg(collection_id)}", json=body))

    async def delete_collection(self, collection_id: str) -> Any:
        """Synchronous: the collection's documents and vectors go with it (mixpeek-api.md 3.1)."""
        return await self.request("DELETE", f"/v1/collections/{_seg(collection_id)}")

    async def count_documents(self, collection_id: str) -> int | None:
        """The exact number of documents (ListDocumentsResponse.total_documents with
        include_total and limit 1, as the SDK documents for a count); None when not answered."""
        body = {"limit": 1, "include_total": True}
        out = await self.request(
            "POST", f"/v1/collections/{_seg(collection_id)}/documents/list", json=body, idempotent=True
        )
        total = _expect_dict(out).get("total_documents")
        return total if isinstance(total, int) and not isinstance(total, bool) else None

    async def apply_taxonomy(self, collection_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Backfill: run an applied taxonomy over the collection's existing documents (a task)."""
        out = await self.request(
            "POST", f"/v1/collections/{_seg(collection_id)}/apply-taxonomy", json=body, idempotent=False
        )
        return _expect_dict(out)

    async def collection_features(self, identifier: str) -> list[dict[str, Any]]:
        """The collection's feature descriptors (the ``features`` list of the response)."""
        body = _expect_dict(await self.request("GET", f"/v1/collections/{_seg(identifier)}/features"))
        features = body.get("features") or []
        return [f for f in features if isinstance(f, dict)]

    # ---- retrievers --------------------------------------------------------------------

    async def create_retriever(self, body: dict[str, Any]) -> dict[str, Any]:
        return _expect_dict(await self.request("POST", "/v1/retrievers", json=body, idempotent=False))

    async def patch_retriever(self, retriever_id: str, body: dict[str, Any]) -> dict[str, Any]:
        out = await self.request("PATCH", f"/v1/retrievers/{_seg(retriever_id)}", json=body)
        return _unwrap(out, "retriever")

    async def clone_retriever(self, retriever_id: str, body: dict[str, Any]) -> dict[str, Any]:
        out = await self.request("POST", f"/v1/retrievers/{_seg(retriever_id)}/clone", json=body, idempotent=False)
        return _unwrap(out, "retriever")

    async def delete_retriever(self, retriever_id: str) -> Any:
        return await self.request("DELETE", f"/v1/retrievers/{_seg(retriever_id)}")

    async def execute_retriever(self, retriever_id: str, body: dict[str, Any]) -> dict[str, Any]:
        out = await self.request("POST", f"/v1/retrievers/{_seg(retriever_id)}/execute", json=body, idempotent=True)
        return _expect_dict(out)

    async def execute_adhoc_retriever(self, body: dict[str, Any]) -> dict[str, Any]:
        return _expect_dict(await self.request("POST", "/v1/retrievers/execute", json=body, idempotent=True))

    async def get_retriever_execution(self, retriever_id: str, execution_id: str) -> dict[str, Any]:
        out = await self.request("GET", f"/v1/retrievers/{_seg(retriever_id)}/executions/{_seg(execution_id)}")
        return _expect_dict(out)

    # ---- taxonomies --------------------------------------------------------------------

    async def create_taxonomy(self, body: dict[str, Any]) -> dict[str, Any]:
        return _expect_dict(await self.request("POST", "/v1/taxonomies", json=body, idempotent=False))

    async def patch_taxonomy(self, taxonomy_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return _expect_dict(await self.request("PATCH", f"/v1/taxonomies/{_seg(taxonomy_id)}", json=body))

    async def clone_taxonomy(self, taxonomy_id: str, body: dict[str, Any]) -> dict[str, Any]:
        out = await self.request("POST", f"/v1/taxonomies/{_seg(taxonomy_id)}/clone", json=body, idempotent=False)
        return _unwrap(out, "taxonomy")

    async def create_taxonomy_version(self, taxonomy_id: str, body: dict[str, Any]) -> dict[str, Any]:
        out = await self.request("POST", f"/v1/taxonomies/{_seg(taxonomy_id)}/versions", json=body, idempotent=False)
        return _expect_dict(out)

    async def delete_taxonomy(self, taxonomy_id: str) -> Any:
        return await self.request("DELETE", f"/v1/taxonomies/{_seg(taxonomy_id)}")

    async def execute_taxonomy(
        self, identifier: str, body: dict[str, Any], version: int | None = None
    ) -> dict[str, Any]:
        params = {"version": version} if version is not None else None
        out = await self.request(
            "POST", f"/v1/taxonomies/{_seg(identifier)}/execute", json=body, params=params, idempotent=True
        )
        return _expect_dict(out)

    # ---- clusters ----------------------------------------------------------------------

    async def create_cluster(self, body: dict[str, Any]) -> dict[str, Any]:
        return _expect_dict(await self.request("POST", "/v1/clusters", json=body, idempotent=False))

    async def patch_cluster(self, cluster_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Note: the API answers with the write-shaped ClusterModel, not the GET shape."""
        return _expect_dict(await self.request("PATCH", f"/v1/clusters/{_seg(cluster_id)}", json=body))

    async def delete_cluster(self, cluster_id: str, cascade_output_collections: bool = True) -> Any:
        params = {"cascade_output_collections": "true" if cascade_output_collections else "false"}
        return await self.request("DELETE", f"/v1/clusters/{_seg(cluster_id)}", params=params)

    async def execute_cluster(self, cluster_id: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """Start a run; returns the TaskResponse (poll it with :meth:`wait_task`)."""
        out = await self.request("POST", f"/v1/clusters/{_seg(cluster_id)}/execute", json=body, idempotent=True)
        return _expect_dict(out)

    async def get_cluster_execution(self, cluster_id: str, run_id: str | None = None) -> dict[str, Any] | None:
        """One run's results; the latest run when ``run_id`` is None (None if it never ran)."""
        path = f"/v1/clusters/{_seg(cluster_id)}/executions"
        if run_id is not None:
            path += f"/{_seg(run_id)}"
        out = await self.request("GET", path)
        return None if out is None else _expect_dict(out)

    async def execute_adhoc_clustering(self, body: dict[str, Any]) -> dict[str, Any]:
        return _expect_dict(await self.request("POST", "/v1/clusters/execute", json=body, idempotent=True))

    # ---- tasks -------------------------------------------------------------------------

    async def get_task(self, task_id: str) -> dict[str, Any]:
        return _expect_dict(await self.request("GET", f"/v1/tasks/{_seg(task_id)}"))

    async def wait_task(self, task_id: str, timeout: float = 300.0, poll_interval: float = 0.5) -> dict[str, Any]:
        """Poll while the task is pending, queued or in progress; return it with any other status.

        The caller reads the status: COMPLETED, FAILED, CANCELED, INTERRUPTED, SKIPPED or one
        mixops does not know all end the wait (only the running ones are worth waiting for).

        Raises :class:`MixopsError` when ``timeout`` seconds pass first. Time is the larger of
        the clock and the sleeps requested, so an injected instant sleep still times out.
        """
        started = time.monotonic()
        slept = 0.0
        interval = poll_interval
        ceiling = max(poll_interval, self._backoff_max)
        while True:
            task = await self.get_task(task_id)
            status = str(task.get("status", "")).upper()
            if status not in RUNNING_TASK_STATUSES:
                return task
            elapsed = max(time.monotonic() - started, slept)
            remaining = timeout - elapsed
            if remaining <= 0:
                raise MixopsError(
                    f"task {task_id} still {status or 'without a status'} after {timeout:g}s; "
                    "it may yet finish: check it with GET /v1/tasks/" + task_id
                )
            pause = min(interval, remaining)
            await self._sleep(pause)
            slept += pause
            interval = min(interval * 1.5, ceiling)

    # ---- namespaces --------------------------------------------------------------------

    async def get_namespace(self, identifier: str) -> dict[str, Any]:
        return _expect_dict(await self.request("GET", f"/v1/namespaces/{_seg(identifier)}"))

    async def create_namespace(self, name: str) -> dict[str, Any]:
        out = await self.request("POST", "/v1/namespaces", json={"namespace_name": name}, idempotent=False)
        return _expect_dict(out)

    async def ensure_namespace(self, name: str) -> dict[str, Any]:
        """The namespace called ``name``, created if missing (a concurrent creator is tolerated)."""
        try:
            return await self.get_namespace(name)
        except ApiError as exc:
            if exc.status != 404:
                raise
        try:
            return await self.create_namespace(name)
        except ApiError as exc:
            # Someone created it between our GET and POST: theirs is as good as ours.
            if exc.status == 409 or exc.info.code == "namespace_name_taken":
                return await self.get_namespace(name)
            raise


def _describe(exc: BaseException | None) -> str:
    if isinstance(exc, RetryableResponse):
        return f"HTTP {exc.response.status_code}"
    return type(exc).__name__ if exc is not None else "nothing"


__all__ = [
    "DEFAULT_DEADLINE",
    "DEFAULT_USER_AGENT",
    "RUNNING_TASK_STATUSES",
    "TERMINAL_TASK_STATUSES",
    "ClientStats",
    "MixpeekClient",
]
