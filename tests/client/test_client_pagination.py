"""list_all reads every row of every list envelope, and refuses to loop on a broken server."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from mixops.errors import ApiError, MixopsError
from mixops.ports.client import MixpeekClient
from mixops.ports.pagination import PaginationError

MakeClient = Callable[..., MixpeekClient]


def rows(n: int, key: str = "retriever_id") -> list[dict[str, Any]]:
    return [{key: f"id_{i:05d}", "name": f"r{i}"} for i in range(n)]


class CursorServer:
    """A list endpoint that pages by opaque cursor, like Mixpeek's typed PaginationResponse."""

    def __init__(self, items: list[dict[str, Any]], max_page: int = 1000) -> None:
        self.items = items
        self.max_page = max_page
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        limit = min(int(request.url.params.get("limit", 10)), self.max_page)
        cursor = request.url.params.get("cursor")
        start = int(base64.urlsafe_b64decode(cursor)) if cursor else 0
        page = self.items[start : start + limit]
        end = start + len(page)
        nxt = base64.urlsafe_b64encode(str(end).encode()).decode() if end < len(self.items) else None
        return httpx.Response(
            200,
            json={
                "results": page,
                "pagination": {"next_cursor": nxt, "page_size": limit, "total": None},
                "total_count": len(self.items),
            },
        )


async def test_cursor_pages_are_followed_to_the_end(make_client: MakeClient) -> None:
    server = CursorServer(rows(2500))
    client = make_client(server)
    got = await client.list_all("/v1/retrievers", body={"search": "r*"})
    assert got == server.items
    assert len(server.requests) == 3
    assert all(r.url.path == "/v1/retrievers/list" and r.method == "POST" for r in server.requests)
    assert all(r.url.params["limit"] == "1000" for r in server.requests)
    assert all(json.loads(r.content) == {"search": "r*"} for r in server.requests)
    assert "cursor" not in server.requests[0].url.params
    assert client.stats.requests == 3


async def test_an_exact_multiple_costs_no_extra_request(make_client: MakeClient) -> None:
    server = CursorServer(rows(2000))
    client = make_client(server)
    assert len(await client.list_all("/v1/taxonomies")) == 2000
    assert len(server.requests) == 2


async def test_cursor_is_followed_when_the_server_caps_pages_below_our_limit(make_client: MakeClient) -> None:
    server = CursorServer(rows(250), max_page=100)
    client = make_client(server)
    assert await client.list_all("/v1/clusters") == server.items
    assert len(server.requests) == 3


async def test_a_short_page_without_cursor_ends_the_listing(make_client: MakeClient) -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        # Retrievers: `total` (defaulting to 0) instead of total_count, optional pagination.
        return httpx.Response(200, json={"results": rows(7), "total": 0})

    client = make_client(handler)
    assert len(await client.list_retrievers()) == 7
    assert len(calls) == 1


async def test_missing_results_means_no_rows(make_client: MakeClient) -> None:
    client = make_client(lambda request: httpx.Response(200, json={"total": 0}))
    assert await client.list_retrievers() == []


async def test_full_pages_without_cursor_fall_back_to_page_numbers(make_client: MakeClient) -> None:
    # Taxonomies carry an untyped pagination dict; here the server only understands ?page=.
    items = rows(25, "taxonomy_id")
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        limit = int(request.url.params["limit"])
        page = int(request.url.params.get("page", 1))
        chunk = items[(page - 1) * limit : page * limit]
        return httpx.Response(200, json={"results": chunk, "pagination": {}, "total_count": len(items)})

    client = make_client(handler)
    assert await client.list_all("/v1/taxonomies", page_size=10) == items
    assert [c.url.params.get("page") for c in calls] == [None, "2", "3"]


async def test_a_full_page_without_cursor_or_total_is_the_end(make_client: MakeClient) -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200, json={"results": rows(10), "pagination": {"next_cursor": None}})

    client = make_client(handler)
    assert len(await client.list_all("/v1/collections", page_size=10)) == 10
    assert len(calls) == 1


async def test_a_repeated_cursor_is_refused(make_client: MakeClient) -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        page = rows(10) if "cursor" not in request.url.params else rows(20)[10:]
        return httpx.Response(200, json={"results": page, "pagination": {"next_cursor": "same"}})

    client = make_client(handler)
    with pytest.raises(PaginationError) as caught:
        await client.list_all("/v1/retrievers", page_size=10)
    assert isinstance(caught.value, MixopsError)
    assert "/v1/retrievers/list" in str(caught.value)
    assert "twice" in str(caught.value)
    assert len(calls) == 2


async def test_a_server_ignoring_the_cursor_is_refused(make_client: MakeClient) -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(200, json={"results": rows(10), "pagination": {"next_cursor": f"c{calls}"}})

    client = make_client(handler)
    with pytest.raises(PaginationError, match="same page twice"):
        await client.list_all("/v1/retrievers", page_size=10)
    assert calls == 2


async def test_an_empty_page_ends_the_listing_even_with_a_cursor(make_client: MakeClient) -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        page = rows(10) if calls == 1 else []
        return httpx.Response(200, json={"results": page, "pagination": {"next_cursor": f"c{calls}"}})

    client = make_client(handler)
    assert len(await client.list_all("/v1/clusters", page_size=10)) == 10
    assert calls == 2


async def test_an_unresolved_namespace_is_an_error_not_an_empty_list(make_client: MakeClient) -> None:
    warning = {"resource": "namespace", "reason": "unresolved", "next_step": "check the name"}
    client = make_client(lambda request: httpx.Response(200, json={"results": [], "warnings": [warning]}))
    with pytest.raises(ApiError) as caught:
        await client.list_retrievers()
    assert caught.value.info.type == "namespace_unresolved"
    assert "ns-test" in caught.value.info.message


async def test_unresolved_namespace_header_is_an_error(make_client: MakeClient) -> None:
    client = make_client(
        lambda request: httpx.Response(
            200, json={"results": [], "total_count": 0, "pagination": {}}, headers={"X-Namespace-Unresolved": "1"}
        )
    )
    with pytest.raises(ApiError, match="namespace_unresolved"):
        await client.list_collections()


async def test_list_errors_are_retried_as_lists_are_safe(make_client: MakeClient) -> None:
    server = CursorServer(rows(30))
    failures = iter([True, False, True])

    def handler(request: httpx.Request) -> httpx.Response:
        if next(failures, False):
            return httpx.Response(503)
        return server(request)

    client = make_client(handler)
    assert await client.list_all("/v1/retrievers", page_size=10) == server.items
    assert client.stats.retries == 2
