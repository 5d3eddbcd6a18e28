"""List endpoints: GET and POST /list, limit/offset/cursor, include_total, envelopes."""

from __future__ import annotations

from pathlib import Path

import httpx
import yaml
from fastapi import FastAPI
from tests.local.conftest import NAMESPACE, SEARCH_STAGE

from mixops.local.seed import load_seed


async def test_cursor_pagination_walks_everything(client: httpx.AsyncClient) -> None:
    for i in range(7):
        r = await client.post(
            "/v1/retrievers",
            json={"retriever_name": f"r{i}", "stages": [SEARCH_STAGE], "collection_identifiers": ["my_collection"]},
        )
        assert r.status_code == 200, r.text
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, object] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/v1/retrievers", params=params)).json()
        assert page["total"] == 8  # the seeded retriever plus seven
        seen += [r["retriever_name"] for r in page["results"]]
        cursor = page["pagination"]["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 8
    # `search` is a substring match over id, name and description (ids are random, so r1
    # may also match another retriever through its id).
    listed = (await client.post("/v1/retrievers/list", json={"search": "r1"})).json()["results"]
    assert "r1" in [r["retriever_name"] for r in listed]
    for r in listed:
        assert "r1" in (r["retriever_id"] + r["retriever_name"] + (r.get("description") or "")).lower()
    assert len(listed) < 8


async def test_include_total_and_offset(client: httpx.AsyncClient) -> None:
    page = (await client.get("/v1/collections", params={"limit": 2})).json()
    assert page["pagination"]["total"] is None and page["total_count"] == 3
    page = (
        await client.post("/v1/collections/list", params={"include_total": True}, json={"offset": 2, "limit": 2})
    ).json()
    assert page["pagination"]["total"] == 3
    assert [c["collection_name"] for c in page["results"]] == ["products_v2"]


async def test_document_list_filters_sort_and_page(client: httpx.AsyncClient) -> None:
    body = {
        "filters": {"AND": [{"field": "category", "operator": "in", "value": ["running", "hiking"]}]},
        "sort": {"field": "price", "direction": "desc"},
        "limit": 3,
        "include_total": True,
    }
    page = (await client.post("/v1/collections/my_collection/documents/list", json=body)).json()
    assert [d["price"] for d in page["results"]] == [200, 150, 120]
    assert page["total_documents"] == 4
    nxt = (
        await client.post(
            "/v1/collections/my_collection/documents/list", json={**body, "cursor": page["pagination"]["next_cursor"]}
        )
    ).json()
    assert [d["price"] for d in nxt["results"]] == [80]
    got = (
        await client.get(
            "/v1/collections/my_collection/documents", params={"filters": '{"brand": "acme"}', "sort": "price:asc"}
        )
    ).json()
    assert [d["document_id"] for d in got["results"]] == ["p1", "p8", "p3"]


async def test_documents_crud_and_text_embedding(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/v1/collections/my_collection/documents", json={"title": "green tennis racket", "metadata": {"a": 1, "b": 2}}
    )
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["document_id"].startswith("doc_") and doc["_internal"]["created_at"]
    got = (
        await client.get(
            f"/v1/collections/my_collection/documents/{doc['document_id']}", params={"return_vectors": True}
        )
    ).json()
    assert len(got["text_extractor_v1_embedding"]) == 384
    p = await client.patch(
        f"/v1/collections/my_collection/documents/{doc['document_id']}", json={"metadata": {"a": None, "c": 3}}
    )
    assert p.json()["metadata"] == {"b": 2, "c": 3}
    features = (await client.get("/v1/collections/my_collection/features")).json()["features"]
    assert features[0]["feature_address"] == "mixpeek://text_extractor@v1/embedding"
    assert features[0]["vector_index"]["dimensions"] == 384
    assert (await client.delete(f"/v1/collections/my_collection/documents/{doc['document_id']}")).status_code == 200
    assert (await client.get(f"/v1/collections/my_collection/documents/{doc['document_id']}")).status_code == 404


async def test_byo_vectors_collection(client: httpx.AsyncClient, app: FastAPI, tmp_path: Path) -> None:
    # Bring-your-own vectors on a collection are a seed-file extension (the API's create
    # body has no vector_configs): the HTTP create refuses the key.
    body = {"collection_name": "byo", "vector_configs": [{"name": "emb", "dimension": 3}]}
    refused = await client.post("/v1/collections", json={**body, "source": {"type": "none"}, "features": ["emb"]})
    assert refused.status_code == 422 and "vector_configs" in refused.json()["error"]["message"]
    seed = tmp_path / "byo.yaml"
    seed.write_text(yaml.safe_dump({"collections": [body]}), encoding="utf-8")
    load_seed(app, seed, NAMESPACE)
    for i, vec in enumerate(([1, 0, 0], [0, 1, 0], [0.9, 0.1, 0])):
        assert (
            await client.post("/v1/collections/byo/documents", json={"document_id": f"d{i}", "vectors": {"emb": vec}})
        ).status_code == 200
    bad = await client.post("/v1/collections/byo/documents", json={"vectors": {"emb": [1, 2]}})
    assert bad.status_code == 422
    stage = {
        "stage_name": "s",
        "config": {
            "stage_id": "feature_search",
            "parameters": {
                "searches": [
                    {
                        "feature_uri": "mixpeek://custom@v1/emb",
                        "query": {"input_mode": "vector", "value": [1, 0, 0]},
                        "top_k": 3,
                    }
                ],
                "final_top_k": 3,
            },
        },
    }
    out = (
        await client.post("/v1/retrievers/execute", json={"collection_identifiers": ["byo"], "stages": [stage]})
    ).json()
    assert [d["document_id"] for d in out["documents"]][:2] == ["d0", "d2"]
