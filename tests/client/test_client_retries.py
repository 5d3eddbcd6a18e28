"""Which failures the client repeats, and how long it waits before each repeat."""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from tests.client.client_fakes import SleepRecorder, envelope

from mixops.errors import ApiError
from mixops.ports.client import MixpeekClient

MakeClient = Callable[..., MixpeekClient]
OK = {"ok": True}


def scripted(
    *steps: httpx.Response | type[httpx.TransportError],
) -> tuple[Callable[[httpx.Request], httpx.Response], list[httpx.Request]]:
    """A server that answers each request with the next step; the last step repeats."""
    seen: list[httpx.Request] = []
    queue: Iterator[httpx.Response | type[httpx.TransportError]] = iter(steps)
    last: list[httpx.Response | type[httpx.TransportError]] = [steps[-1]]

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        step = next(queue, last[0])
        if isinstance(step, type):
            raise step("simulated network failure", request=request)
        return httpx.Response(step.status_code, headers=step.headers, content=step.content)

    return handler, seen


def retry_after(status: int, value: str) -> httpx.Response:
    response = envelope(status, "slow down", "rate_limited")
    response.headers["Retry-After"] = value
    return response


async def test_429_waits_the_seconds_given_in_retry_after(make_client: MakeClient, sleeps: SleepRecorder) -> None:
    handler, seen = scripted(retry_after(429, "3"), retry_after(429, "1.5"), httpx.Response(200, json=OK))
    client = make_client(handler)
    assert await client.request("GET", "/v1/retrievers/r1") == OK
    assert sleeps.calls == [3.0, 1.5]
    assert len(seen) == 3
    assert client.stats.requests == 3
    assert client.stats.retries == 2
    assert client.stats.by_status == {429: 2, 200: 1}


async def test_429_retry_after_http_date(make_client: MakeClient, sleeps: SleepRecorder) -> None:
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    handler, _ = scripted(retry_after(429, when), httpx.Response(200, json=OK))
    client = make_client(handler, backoff_max=60.0)
    await client.request("GET", "/v1/clusters/c1")
    assert len(sleeps.calls) == 1
    # The date has one-second resolution, and a little time passes before it is read.
    assert 25.0 < sleeps.calls[0] <= 30.0


async def test_retry_after_is_capped_at_backoff_max(make_client: MakeClient, sleeps: SleepRecorder) -> None:
    handler, _ = scripted(retry_after(429, "3600"), httpx.Response(200, json=OK))
    client = make_client(handler, backoff_max=7.0)
    await client.request("GET", "/v1/clusters/c1")
    assert sleeps.calls == [7.0]


async def test_429_is_retried_even_for_a_create(make_client: MakeClient) -> None:
    # The server refused the request outright, so repeating it cannot create a duplicate.
    handler, seen = scripted(retry_after(429, "0"), httpx.Response(200, json={"retriever_id": "ret_1"}))
    client = make_client(handler)
    assert await client.create_retriever({"retriever_name": "r"}) == {"retriever_id": "ret_1"}
    assert len(seen) == 2


async def test_backoff_without_retry_after_is_jittered_exponential(
    make_client: MakeClient, sleeps: SleepRecorder
) -> None:
    handler, _ = scripted(*(envelope(503, "busy") for _ in range(5)), httpx.Response(200, json=OK))
    client = make_client(handler, backoff_base=0.5, backoff_max=3.0)
    await client.request("GET", "/v1/taxonomies/t1")
    assert len(sleeps.calls) == 5
    ceilings = [0.5, 1.0, 2.0, 3.0, 3.0]
    for waited, ceiling in zip(sleeps.calls, ceilings, strict=True):
        assert 0.0 <= waited <= ceiling
    assert len(set(sleeps.calls)) > 1, "full jitter draws a fresh wait each time"


@pytest.mark.parametrize("status", [502, 503, 504])
@pytest.mark.parametrize("method", ["GET", "DELETE", "PATCH", "PUT"])
async def test_gateway_errors_are_retried_for_safe_methods(make_client: MakeClient, status: int, method: str) -> None:
    handler, seen = scripted(envelope(status, "gateway"), httpx.Response(200, json=OK))
    client = make_client(handler)
    assert await client.request(method, "/v1/retrievers/r1", json={} if method in {"PATCH", "PUT"} else None) == OK
    assert len(seen) == 2


async def test_a_create_is_not_repeated_after_a_503(make_client: MakeClient, sleeps: SleepRecorder) -> None:
    handler, seen = scripted(envelope(503, "upstream busy", "service_unavailable"), httpx.Response(200, json=OK))
    client = make_client(handler)
    with pytest.raises(ApiError) as caught:
        await client.create_taxonomy({"taxonomy_name": "t"})
    assert caught.value.status == 503
    assert caught.value.info.message == "upstream busy"
    assert len(seen) == 1
    assert sleeps.calls == []
    assert client.stats.retries == 0


async def test_an_idempotent_post_is_retried_after_a_503(make_client: MakeClient) -> None:
    handler, seen = scripted(envelope(503, "busy"), httpx.Response(200, json={"documents": []}))
    client = make_client(handler)
    assert await client.execute_retriever("ret_1", {"inputs": {}}) == {"documents": []}
    assert len(seen) == 2


async def test_exhausted_retries_raise_the_last_error(make_client: MakeClient, sleeps: SleepRecorder) -> None:
    handler, seen = scripted(envelope(503, "still down", "service_unavailable"))
    client = make_client(handler, max_retries=3)
    with pytest.raises(ApiError) as caught:
        await client.request("GET", "/v1/retrievers/r1")
    assert caught.value.status == 503
    assert caught.value.info.type == "service_unavailable"
    assert len(seen) == 4
    assert len(sleeps.calls) == 3
    assert client.stats.requests == 4
    assert client.stats.retries == 3


@pytest.mark.parametrize("failure", [httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout])
async def test_failures_before_sending_are_retried_even_for_a_create(
    make_client: MakeClient, failure: type[httpx.TransportError]
) -> None:
    handler, seen = scripted(failure, failure, httpx.Response(200, json={"cluster_id": "clust_1"}))
    client = make_client(handler)
    assert await client.create_cluster({"cluster_name": "c"}) == {"cluster_id": "clust_1"}
    assert len(seen) == 3
    assert client.stats.by_status == {0: 2, 200: 1}


@pytest.mark.parametrize(
    ("failure", "code"),
    [
        (httpx.ReadTimeout, "read_timeout"),
        (httpx.RemoteProtocolError, "remote_protocol_error"),
        (httpx.ReadError, "read_error"),
    ],
)
async def test_failures_after_sending_stop_a_create(
    make_client: MakeClient, failure: type[httpx.TransportError], code: str
) -> None:
    handler, seen = scripted(failure, httpx.Response(200, json=OK))
    client = make_client(handler)
    with pytest.raises(ApiError) as caught:
        await client.create_retriever({"retriever_name": "r"})
    assert len(seen) == 1
    info = caught.value.info
    assert (info.status, info.type) == (0, "connection_error")
    assert info.code == code
    assert "may have reached the server" in info.message


@pytest.mark.parametrize("failure", [httpx.ReadTimeout, httpx.RemoteProtocolError])
async def test_failures_after_sending_are_retried_when_safe(
    make_client: MakeClient, failure: type[httpx.TransportError]
) -> None:
    handler, seen = scripted(failure, httpx.Response(200, json=OK))
    client = make_client(handler)
    assert await client.request("GET", "/v1/retrievers/r1") == OK
    assert len(seen) == 2


async def test_network_failure_after_retries_is_a_connection_error(make_client: MakeClient) -> None:
    handler, seen = scripted(httpx.ConnectError)
    client = make_client(handler, max_retries=2)
    with pytest.raises(ApiError) as caught:
        await client.request("GET", "/v1/retrievers/r1")
    assert len(seen) == 3
    assert caught.value.info.status == 0
    assert caught.value.info.type == "connection_error"
    assert caught.value.info.code == "connect_error"
    assert caught.value.method == "GET"
    assert caught.value.url.endswith("/v1/retrievers/r1")


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422, 500])
async def test_other_errors_are_never_retried(make_client: MakeClient, sleeps: SleepRecorder, status: int) -> None:
    handler, seen = scripted(envelope(status, "no"), httpx.Response(200, json=OK))
    client = make_client(handler)
    with pytest.raises(ApiError) as caught:
        await client.request("GET", "/v1/retrievers/r1")
    assert caught.value.status == status
    assert len(seen) == 1
    assert sleeps.calls == []


async def test_max_retries_zero_sends_once(make_client: MakeClient) -> None:
    handler, seen = scripted(retry_after(429, "1"))
    client = make_client(handler, max_retries=0)
    with pytest.raises(ApiError) as caught:
        await client.request("GET", "/v1/retrievers/r1")
    assert caught.value.status == 429
    assert len(seen) == 1


async def test_a_request_waiting_out_a_backoff_holds_no_slot(make_client: MakeClient) -> None:
    # With one slot, a request sleeping after a 429 must not block the others.
    gate = asyncio.Event()
    first_try = True

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal first_try
        if request.url.path.endswith("/slow") and first_try:
            first_try = False
            return retry_after(429, "5")
        return httpx.Response(200, json={"path": request.url.path})

    async def gated_sleep(seconds: float) -> None:
        await gate.wait()

    client = make_client(handler, parallelism=1, sleep=gated_sleep)
    slow = asyncio.create_task(client.request("GET", "/v1/retrievers/slow"))
    await asyncio.sleep(0.01)
    fast = await asyncio.wait_for(client.request("GET", "/v1/retrievers/fast"), timeout=2)
    assert fast == {"path": "/v1/retrievers/fast"}
    assert not slow.done()
    gate.set()
    assert await asyncio.wait_for(slow, timeout=2) == {"path": "/v1/retrievers/slow"}
