"""Every request of the five seed pages, sent verbatim, answers with the documented shape."""

from __future__ import annotations

import copy
import json

import httpx

SEED_002 = json.loads("""{
  "collection_identifiers": ["my_collection"],
  "input_schema": {"query": {"description": "Search query", "required": true, "type": "text"}},
  "stages": [
    {
      "config": {
        "parameters": {
          "feature_uri": "mixpeek://text_extractor@v1/embedding",
          "query_text": "{{INPUT.query_text}}",
          "top_k": 100
        },
        "stage_id": "hybrid_search"
      },
      "description": "Hybrid search stage with uppercase template namespace",
      "stage_name": "semantic_search",
      "stage_type": "filter"
    }
  ],
  "inputs": {"query": "machine learning"},
  "budget_limits": {"max_credits": 100, "max_time_ms": 60000}
}""")

SEED_000 = json.loads("""{
  "batch_size": 1000,
  "join_mode": "on_demand",
  "source_collection_id": "col_catalog_v2",
  "target_collection_id": "col_catalog_enriched_v2",
  "taxonomy": {
    "config": {
      "input_mappings": [{"input_key": "image_vector", "path": "features.clip", "source_type": "vector"}],
      "retriever_id": "ret_clip_v1",
      "source_collection": {"collection_id": "col_products_v1"},
      "taxonomy_type": "flat"
    },
    "input_mappings": [{"input_key": "image_vector", "path": "features.clip", "source_type": "vector"}],
    "namespace_id": "ns_123",
    "retriever_id": "ret_clip_v1",
    "taxonomy_name": "product_tags"
  }
}""")

SEED_001_CONFIG = json.loads("""{
  "input_mappings": [{"input_key": "image_vector", "path": "features.clip_vit_l_14", "source_type": "vector"}],
  "retriever_id": "ret_clip_v1",
  "source_collection": {
    "collection_id": "col_products_v1",
    "enrichment_fields": [{"field_path": "metadata.tags", "merge_mode": "append"}]
  },
  "taxonomy_type": "flat"
}""")

SEED_003 = json.loads("""{
  "collection_ids": ["col_products_v1", "col_products_v2"],
  "compute_metrics": true,
  "config": {
    "algorithm": "kmeans",
    "algorithm_params": {"max_iter": 300, "n_clusters": 5},
    "feature_vector": {"vector_name": "text_extractor_v1_embedding"},
    "normalize_features": true
  },
  "include_members": false,
  "sample_size": 10000,
  "store_results": true
}""")


async def test_seed_002_anonymous_retriever(client: httpx.AsyncClient) -> None:
    r = await client.post("/v1/retrievers/execute", json=SEED_002)
    assert r.status_code == 200, r.text
    body = r.json()
    assert r.headers["X-Execution-Mode"] == "adhoc"
    assert body["execution_id"].startswith("exec_")
    assert body["status"] in ("completed", "failed")
    for key in ("documents", "pagination", "stage_statistics", "budget"):
        assert key in body
    assert {"stages", "total_time_ms", "credits_used"} <= set(body["stage_statistics"])
    assert {"credits_used", "credits_remaining", "time_used_ms"} <= set(body["budget"])
    # The seed's template names an input it does not send; the search then has no query.
    if body["status"] == "failed":
        assert body["error"]
    # The ad-hoc run is readable afterwards.
    detail = await client.get(f"/v1/retrievers/executions/{body['execution_id']}")
    assert detail.status_code == 200
    assert detail.json()["execution_mode"] == "adhoc"


async def test_seed_002_with_consistent_template_finds_documents(client: httpx.AsyncClient) -> None:
    body = json.loads(json.dumps(SEED_002))
    body["stages"][0]["config"]["parameters"]["query_text"] = "{{INPUT.query}}"
    r = await client.post("/v1/retrievers/execute", json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["status"] == "completed"
    titles = [d["payload"]["title"] if "payload" in d else d["title"] for d in out["documents"]]
    assert titles[0] in ("machine learning handbook", "deep learning for machines")
    scores = [d["score"] for d in out["documents"]]
    assert scores == sorted(scores, reverse=True)


async def test_seed_004_execution_detail(client: httpx.AsyncClient) -> None:
    ret = await client.get("/v1/retrievers/ret_clip_v1")
    assert ret.status_code == 200
    run = await client.post("/v1/retrievers/ret_clip_v1/execute", json={"inputs": {"query": "hiking boots"}})
    assert run.status_code == 200, run.text
    run_body = run.json()
    assert run_body["status"] == "completed"
    r = await client.get(f"/v1/retrievers/ret_clip_v1/executions/{run_body['execution_id']}")
    assert r.status_code == 200
    detail = r.json()
    for key in (
        "execution_id",
        "status",
        "documents",
        "pagination",
        "stage_statistics",
        "budget",
        "error",
        "created_at",
        "completed_at",
        "current_stage",
        "stages_completed",
        "total_stages",
    ):
        assert key in detail, key
    assert detail["documents"] == run_body["documents"]
    assert detail["stages_completed"] == detail["total_stages"] == 1
    listed = await client.post("/v1/retrievers/ret_clip_v1/executions/list", json={})
    assert [e["execution_id"] for e in listed.json()["results"]] == [run_body["execution_id"]]


async def test_seed_001_create_taxonomy(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/v1/taxonomies",
        json={"taxonomy_name": "product_tags", "config": SEED_001_CONFIG, "description": "tags from the catalog"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["taxonomy_id"].startswith("tax_")
    assert body["version"] == 1
    assert body["config"]["retriever_id"] == "ret_clip_v1"
    assert body["retriever_id"] == "ret_clip_v1"
    assert body["ready"] is True and body["created_at"]


async def test_seed_000_execute_taxonomy_both_paths(client: httpx.AsyncClient) -> None:
    # Seed 000 sends `taxonomy.namespace_id`, which TaxonomyModelInput does not declare: the
    # API refuses it since 2026-11-02 (mixpeek-api.md section 8, row 9), and so does the
    # strict default; without that one key the seed's request runs on both paths.
    created = await client.post("/v1/taxonomies", json={"taxonomy_name": "product_tags", "config": SEED_001_CONFIG})
    assert created.status_code == 200, created.text
    refused = await client.post("/v1/taxonomies/product_tags/execute", json=SEED_000)
    assert refused.status_code == 422 and "taxonomy.namespace_id" in refused.json()["error"]["message"]
    body = copy.deepcopy(SEED_000)
    del body["taxonomy"]["namespace_id"]
    for path in ("/v1/taxonomies/execute/product_tags", "/v1/taxonomies/product_tags/execute"):
        r = await client.post(path, json=body)
        assert r.status_code == 200, r.text
        out = r.json()
        assert out["stats"]["processed_docs"] == 0
        assert {"processed_docs", "batches", "errors"} <= set(out["stats"])
        assert isinstance(out["results"], list)


async def test_seed_000_verbatim_runs_in_lenient_mode(lenient_client: httpx.AsyncClient) -> None:
    created = await lenient_client.post(
        "/v1/taxonomies", json={"taxonomy_name": "product_tags", "config": SEED_001_CONFIG}
    )
    assert created.status_code == 200, created.text
    for path in ("/v1/taxonomies/execute/product_tags", "/v1/taxonomies/product_tags/execute"):
        r = await lenient_client.post(path, json=SEED_000)
        assert r.status_code == 200, r.text
        assert any("taxonomy.namespace_id" in w for w in r.json()["warnings"])


async def test_taxonomy_execute_labels_sample_documents(client: httpx.AsyncClient) -> None:
    config = {
        "taxonomy_type": "flat",
        "retriever_id": "ret_clip_v1",
        "input_mappings": [{"input_key": "query", "source_type": "payload", "path": "title"}],
        "source_collection": {
            "collection_id": "col_products_v1",
            "enrichment_fields": [{"field_path": "category", "merge_mode": "replace"}],
        },
    }
    created = await client.post("/v1/taxonomies", json={"taxonomy_name": "cats", "config": config})
    assert created.status_code == 200, created.text
    r = await client.post(
        "/v1/taxonomies/cats/execute",
        json={
            "taxonomy": {"taxonomy_name": "cats", "config": config},
            "source_documents": [{"title": "running shoes for the road"}],
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["stats"]["processed_docs"] == 1
    assert body["results"][0]["category"] == "running"


async def test_seed_003_adhoc_clustering(client: httpx.AsyncClient) -> None:
    body = {**SEED_003, "config": {**SEED_003["config"], "algorithm_params": {"max_iter": 300, "n_clusters": 3}}}
    r = await client.post("/v1/clusters/execute", json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["success"] is True and out["algorithm"] == "kmeans"
    assert out["num_clusters"] == 3 and out["num_documents"] == 8
    assert sum(c["num_members"] for c in out["centroids"]) == 8
    first = out["centroids"][0]
    assert first["cluster_id"] == "cluster_001"
    assert first["vector_name"] == "text_extractor_v1_embedding"
    assert first["feature_dimensions"] == len(first["centroid_vector"]) == 384
    assert out["run_id"].startswith("run_") and isinstance(out["execution_time_ms"], int)
    assert {"silhouette_score", "davies_bouldin_score"} <= set(out["metrics"])


async def test_seed_003_verbatim_too_few_points_is_a_4xx(client: httpx.AsyncClient) -> None:
    # Verbatim the seed asks for 5 clusters; with 8 documents that works, and fewer points
    # than clusters must be a client error, never a 500.
    r = await client.post("/v1/clusters/execute", json=SEED_003)
    assert r.status_code == 200, r.text
    assert r.json()["num_clusters"] == 5
