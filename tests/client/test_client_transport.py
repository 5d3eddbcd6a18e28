"""Headers, the concurrency bound, counters, and reaching an in-process ASGI app."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import httpx
from tests.client.client_fakes import API_KEY, NAMESPACE

from mixops.ports.client import DEFAULT_USER_AGENT, MixpeekClient

MakeClient = Callable[..., MixpeekClient]


def recording() -> tuple[Callable[[httpx.Request], httpx.Response], list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    return handler, seen


async def test_scoped_calls_carry_auth_and_namespace(make_client: MakeClient) -> None:
    handler, seen = recording()
    client = make_client(handler)
    await client.request("GET", "/v1/retrievers/r1")
    headers = seen[0].headers
    assert headers["authorization"] == f"Bearer {API_KEY}"
    assert headers["x-namespace"] == NAMESPACE
    assert headers["user-agent"] == DEFAULT_USER_AGENT


async def test_namespace_calls_have_no_namespace_header(make_client: MakeClient) -> None:
    handler, seen = recording()
    client = make_client(handler)
    await client.request("GET", "/v1/namespaces/catalog")
    await client.request("POST", "/v1/namespaces", json={"namespace_name": "catalog"})
    assert all("x-namespace" not in r.headers for r in seen)
    assert all(r.headers["authorization"] == f"Bearer {API_KEY}" for r in seen)


async def test_no_key_no_namespace_sends_neither(make_client: MakeClient) -> None:
    handler, seen = recording()
    client = make_client(handler, api_key=None, namespace=None)
    await client.request("GET", "/v1/retrievers/r1")
    assert "authorization" not in seen[0].headers
    assert "x-namespace" not in seen[0].headers
    assert "api_key=none" in repr(client)


async def test_json_body_and_params_are_sent(make_client: MakeClient) -> None:
    handler, seen = recording()
    client = make_client(handler)
    await client.request("POST", "/v1/retrievers/list", json={"search": "a b"}, params={"limit": 5})
    assert seen[0].url.params["limit"] == "5"
    assert json.loads(seen[0].content) == {"search": "a b"}
    assert seen[0].headers["content-type"] == "application/json"


async def test_parallelism_bounds_requests_in_flight(make_client: MakeClient) -> None:
    in_flight = 0
    peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        for _ in range(5):
            await asyncio.sleep(0)
        in_flight -= 1
        return httpx.Response(200, json={"n": request.url.params["n"]})

    client = make_client(handler, parallelism=4)
    results = await asyncio.gather(*(client.request("GET", "/v1/tasks/t", params={"n": i}) for i in range(40)))
    assert [r["n"] for r in results] == [str(i) for i in range(40)]
    assert peak == 4, "the bound is reached and never passed"
    assert client.stats.max_in_flight == 4
    assert client.stats.in_flight == 0
    assert client.stats.requests == 40
    assert client.stats.by_status == {200: 40}


async def test_stats_reset(make_client: MakeClient) -> None:
    handler, _ = recording()
    client = make_client(handler)
    await client.request("GET", "/v1/retrievers/r1")
    client.stats.reset()
    assert (client.stats.requests, client.stats.retries, sum(client.stats.by_status.values())) == (0, 0, 0)


Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


async def test_an_asgi_app_is_reached_in_process() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        body = json.dumps({"path": scope["path"], "namespace": headers.get("x-namespace")}).encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})

    async with MixpeekClient(
        "http://local", api_key=None, namespace="demo", transport=httpx.ASGITransport(app=app)
    ) as client:
        assert await client.request("GET", "/v1/collections/c") == {"path": "/v1/collections/c", "namespace": "demo"}
