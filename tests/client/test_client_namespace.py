"""A namespace that does not exist is a clear error, never an empty namespace (issue 12 item 8)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from mixops.errors import ApiError
from mixops.ports.client import MixpeekClient
from mixops.ports.lease import Lease

MakeClient = Callable[..., MixpeekClient]
UNRESOLVED = {"resource": "namespace", "reason": "unresolved", "next_step": "check the name"}


def _not_found(request: httpx.Request) -> httpx.Response:
    error = {"type": "not_found", "code": "namespace_not_found", "message": "Namespace 'ns-test' not found"}
    return httpx.Response(404, json={"success": False, "status": 404, "error": error})


async def test_the_error_says_how_to_fix_it(make_client: MakeClient) -> None:
    client = make_client(lambda request: httpx.Response(200, json={"results": [], "warnings": [UNRESOLVED]}))
    with pytest.raises(ApiError) as caught:
        await client.list_retrievers()
    message = caught.value.info.message
    assert "namespace 'ns-test' does not exist" in message and "create_namespace: true" in message


async def test_a_404_naming_the_namespace_means_the_same(make_client: MakeClient) -> None:
    client = make_client(_not_found)
    with pytest.raises(ApiError) as caught:
        await client.list_taxonomies()
    assert caught.value.info.type == "namespace_unresolved" and caught.value.status == 404


async def test_a_read_by_id_in_a_missing_namespace_is_not_a_missing_resource(make_client: MakeClient) -> None:
    """A 404 `namespace_not_found` to GET one collection is the namespace error, not "no such
    collection" (which a planner would read as "create it")."""
    with pytest.raises(ApiError) as caught:
        await make_client(_not_found).get_collection("products")
    assert caught.value.info.type == "namespace_unresolved" and caught.value.status == 404
    assert "namespace 'ns-test' does not exist" in caught.value.info.message


async def test_an_answer_marked_unresolved_is_the_namespace_error_on_any_route(make_client: MakeClient) -> None:
    answer = httpx.Response(200, json={"collection_id": "col_1"}, headers={"X-Namespace-Unresolved": "1"})
    with pytest.raises(ApiError, match="namespace_unresolved"):
        await make_client(lambda request: answer).get_collection("products")


async def test_an_unscoped_404_stays_a_plain_not_found(make_client: MakeClient) -> None:
    """Namespace routes carry no X-Namespace: their 404 is about the namespace asked for."""
    with pytest.raises(ApiError) as caught:
        await make_client(_not_found).request("GET", "/v1/namespaces/ns-other")
    assert caught.value.info.type == "not_found" and caught.value.status == 404


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, json={"results": [], "warnings": [UNRESOLVED]}),
        httpx.Response(200, json={"results": [], "total_count": 0}, headers={"X-Namespace-Unresolved": "1"}),
    ],
)
async def test_check_namespace_reads_the_collections_list(make_client: MakeClient, answer: httpx.Response) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer

    with pytest.raises(ApiError, match="namespace_unresolved"):
        await make_client(handler).check_namespace()
    assert [(r.method, r.url.path, r.url.params.get("limit")) for r in seen] == [("POST", "/v1/collections/list", "1")]


async def test_a_namespace_that_resolves_passes(make_client: MakeClient) -> None:
    client = make_client(lambda request: httpx.Response(200, json={"results": [], "total_count": 0}))
    await client.check_namespace()


async def test_no_lease_is_created_in_a_missing_namespace(make_client: MakeClient, tmp_path: Path) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        return _not_found(request)

    with pytest.raises(ApiError, match="namespace_unresolved"):
        async with Lease(make_client(handler), "catalog").hold():
            pass
    assert seen == ["POST /v1/collections/list"]
