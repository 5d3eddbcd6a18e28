"""Update surfaces, name uniqueness and references, as the real API enforces them."""

from __future__ import annotations

import httpx
from tests.local.conftest import SEARCH_STAGE, assert_envelope


def _retriever(name: str = "search", **extra: object) -> dict[str, object]:
    return {
        "retriever_name": name,
        "collection_identifiers": ["my_collection"],
        "input_schema": {"query": {"type": "text", "required": True}, "brand": {"type": "string"}},
        "stages": [SEARCH_STAGE],
        "budget_limits": {"max_credits": 10},
        **extra,
    }


async def test_retriever_read_shape_and_version_bumps(client: httpx.AsyncClient) -> None:
    r = await client.post("/v1/retrievers", json=_retriever())
    assert r.status_code == 200, r.text
    body = r.json()
    col = (await client.get("/v1/collections/my_collection")).json()["collection_id"]
    assert body["retriever_id"].startswith("ret_")
    assert body["collection_ids"] == body["collection_identifiers"] == [col]
    assert body["stages"][0]["parameters"] == body["stages"][0]["config"]["parameters"]
    assert body["version"] == 1 and body["fusion"] == "rrf"
    rid = body["retriever_id"]
    p = await client.patch(f"/v1/retrievers/{rid}", json={"metadata": {"a": 1}, "tags": ["x"]})
    assert p.status_code == 200, p.text
    assert p.json()["retriever"]["version"] == 2
    p = await client.patch(f"/v1/retrievers/{rid}", json={"metadata": {"b": 2}})
    assert p.json()["retriever"]["metadata"] == {"b": 2}  # replace, not merge
    assert p.json()["retriever"]["version"] == 3


async def test_retriever_patch_refuses_budget_and_breaking_schema(client: httpx.AsyncClient) -> None:
    rid = (await client.post("/v1/retrievers", json=_retriever())).json()["retriever_id"]
    err = assert_envelope(await client.patch(f"/v1/retrievers/{rid}", json={"budget_limits": {"max_credits": 1}}), 422)
    assert "budget_limits" in err["message"]
    breaking = {"query": {"type": "integer", "required": True}, "extra": {"type": "text", "required": True}}
    err = assert_envelope(await client.patch(f"/v1/retrievers/{rid}", json={"input_schema": breaking}), 422)
    violations = err["details"]["violations"]
    assert any("brand" in v and "removed" in v for v in violations)
    assert any("query" in v and "type changed" in v for v in violations)
    assert any("extra" in v and "required" in v for v in violations)
    ok = {
        "query": {"type": "text", "required": True, "description": "what to find"},
        "brand": {"type": "string"},
        "color": {"type": "string"},
    }
    r = await client.patch(f"/v1/retrievers/{rid}", json={"input_schema": ok})
    assert r.status_code == 200, r.text
    assert_envelope(await client.patch(f"/v1/retrievers/{rid}", json={}), 400)


async def test_published_retriever_stages_are_frozen(client: httpx.AsyncClient) -> None:
    rid = (await client.post("/v1/retrievers", json=_retriever())).json()["retriever_id"]
    assert (await client.post(f"/v1/retrievers/{rid}/publish")).status_code == 200
    assert_envelope(await client.patch(f"/v1/retrievers/{rid}", json={"stages": [SEARCH_STAGE]}), 422)
    assert (await client.delete(f"/v1/retrievers/{rid}/publish")).status_code == 200
    assert (await client.patch(f"/v1/retrievers/{rid}", json={"stages": [SEARCH_STAGE]})).status_code == 200


async def test_names_unique_per_kind(client: httpx.AsyncClient) -> None:
    assert (await client.post("/v1/retrievers", json=_retriever("dup"))).status_code == 200
    err = assert_envelope(await client.post("/v1/retrievers", json=_retriever("dup")), 409)
    assert err["code"] == "retriever_name_taken"
    err = assert_envelope(
        await client.post(
            "/v1/collections",
            json={
                "collection_name": "my_collection",
                "source": {"type": "bucket", "bucket_ids": ["b"]},
                "features": ["text_search"],
            },
        ),
        409,
    )
    assert err["code"] == "collection_name_taken"


async def test_retriever_clone_and_unknown_collection(client: httpx.AsyncClient) -> None:
    rid = (await client.post("/v1/retrievers", json=_retriever())).json()["retriever_id"]
    c = await client.post(f"/v1/retrievers/{rid}/clone", json={"retriever_name": "search_v2"})
    assert c.status_code == 200, c.text
    assert c.json()["source_retriever_id"] == rid
    assert c.json()["retriever"]["retriever_id"] != rid
    err = assert_envelope(
        await client.post("/v1/retrievers", json={**_retriever("x"), "collection_identifiers": ["nope"]}), 422
    )
    assert err["details"]["missing"] == {"collection_identifiers": ["nope"]}


async def test_taxonomy_patch_surface_and_versions(client: httpx.AsyncClient) -> None:
    config = {
        "taxonomy_type": "flat",
        "retriever_id": "ret_clip_v1",
        "input_mappings": [],
        "source_collection": {"collection_id": "col_products_v1"},
    }
    tid = (await client.post("/v1/taxonomies", json={"taxonomy_name": "t1", "config": config})).json()["taxonomy_id"]
    err = assert_envelope(await client.patch(f"/v1/taxonomies/{tid}", json={"config": config}), 422)
    assert "config" in err["message"]
    assert_envelope(await client.patch(f"/v1/taxonomies/{tid}", json={}), 400)
    r = await client.patch(f"/v1/taxonomies/{tid}", json={"taxonomy_name": "t1b", "metadata": {"k": "v"}})
    assert r.status_code == 200 and r.json()["taxonomy_name"] == "t1b"
    new_config = {**config, "top_k": 3}
    v = await client.post(f"/v1/taxonomies/{tid}/versions", json={"config": new_config})
    assert v.status_code == 200, v.text
    assert v.json()["taxonomy_id"] == tid and v.json()["version"] == 2
    old = (await client.get(f"/v1/taxonomies/{tid}", params={"version": 1})).json()
    assert old["version"] == 1 and old["config"]["top_k"] == 1  # the SDK output default, not version 2's 3
    assert (await client.get(f"/v1/taxonomies/{tid}")).json()["config"]["top_k"] == 3
    versions = (await client.get(f"/v1/taxonomies/{tid}/versions")).json()
    assert [x["version"] for x in versions["results"]] == [2, 1]
    assert_envelope(await client.get(f"/v1/taxonomies/{tid}", params={"version": 9}), 404)
    err = assert_envelope(
        await client.post(
            "/v1/taxonomies", json={"taxonomy_name": "t2", "config": {**config, "retriever_id": "ret_missing"}}
        ),
        422,
    )
    assert "ret_missing" in err["message"]


async def test_cluster_read_shape_patch_surface_and_async_execute(client: httpx.AsyncClient) -> None:
    body = {
        "cluster_name": "groups",
        "collection_ids": ["col_products_v1", "col_products_v2"],
        "cluster_type": "vector",
        "vector_config": {
            "clustering_method": "kmeans",
            "algorithm_params": {"n_clusters": 2},
            "feature_uris": ["mixpeek://text_extractor@v1/embedding"],
        },
    }
    r = await client.post("/v1/clusters", json=body)
    assert r.status_code == 200, r.text
    meta = r.json()
    assert meta["cluster_id"].startswith("clust_")
    assert meta["input_collections"] == ["col_products_v1", "col_products_v2"]
    assert meta["algorithm"] == "kmeans" and meta["algorithm_params"] == {"n_clusters": 2}
    assert meta["feature_uris"] == ["mixpeek://text_extractor@v1/embedding"]
    assert "vector_config" not in meta
    cid = meta["cluster_id"]
    assert (await client.get(f"/v1/clusters/{cid}/executions")).json() is None
    err = assert_envelope(await client.patch(f"/v1/clusters/{cid}", json={"collection_ids": ["col_products_v1"]}), 422)
    assert "collection_ids" in err["message"]
    p = await client.patch(f"/v1/clusters/{cid}", json={"algorithm_params": {"n_clusters": 3}, "description": "d"})
    assert p.status_code == 200 and p.json()["vector_config"]["algorithm_params"] == {"n_clusters": 3}
    task = (await client.post(f"/v1/clusters/{cid}/execute")).json()
    assert task["task_type"] == "engine_cluster_build"
    client_app = client._transport.app  # type: ignore[attr-defined]
    for thread in list(client_app.state.local.threads):
        thread.join(timeout=30)
    done = (await client.get(f"/v1/tasks/{task['task_id']}")).json()
    assert done["status"] == "COMPLETED", done
    latest = (await client.get(f"/v1/clusters/{cid}/executions")).json()
    assert latest["status"] == "completed" and latest["num_clusters"] == 3 and latest["num_points"] == 8
    assert latest["centroids"][0]["cluster_id"] == "cl_0"
    run = (await client.get(f"/v1/clusters/{cid}/executions/{latest['run_id']}")).json()
    assert run["run_id"] == latest["run_id"]
    listed = (await client.post(f"/v1/clusters/{cid}/executions/list", json={})).json()
    assert listed["total_count"] == 1
    assert (await client.get(f"/v1/clusters/{cid}")).json()["status"] == "COMPLETED"
    assert (await client.delete(f"/v1/clusters/{cid}")).status_code == 200
    assert_envelope(await client.get(f"/v1/clusters/{cid}"), 404)
