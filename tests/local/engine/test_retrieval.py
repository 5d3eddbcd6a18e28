from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from mixops.local.engine import BadRequest, InMemoryStore, NotFound, VectorIndex, run_pipeline

URI = "mixpeek://text_extractor@v1/embedding"


def search_stage(query: Any = "{{INPUT.query}}", **params: Any) -> dict[str, Any]:
    return {
        "stage_name": "search",
        "stage_type": "filter",
        "config": {
            "stage_id": "feature_search",
            "parameters": {
                "searches": [{"feature_uri": URI, "query": {"input_mode": "text", "value": query}}],
                **params,
            },
        },
    }


def run(store: InMemoryStore, stages: list[dict[str, Any]], query: str = "pasta recipes", **kw: Any) -> Any:
    return run_pipeline(
        stages, {"query": query}, {"query": {"type": "text", "required": True}}, ["products"], store, **kw
    )


def test_nearest_document_is_about_the_query(store: InMemoryStore) -> None:
    result = run(store, [search_stage(final_top_k=10)], query="marathon running shoes")
    assert result.status == "completed"
    assert [d["category"] for d in result.documents] == ["running"] * 10
    first = result.documents[0]
    assert first["payload"]["category"] == "running" and first["collection_id"] == "col_products"
    scores = [d["score"] for d in result.documents]
    assert scores == sorted(scores, reverse=True)
    stats = result.stage_statistics["stages"]["search"]
    assert stats["output_count"] == 10 and stats["duration_ms"] > 0
    assert result.budget["credits_used"] > 0


def test_seed_002_hybrid_search_works_verbatim(store: InMemoryStore) -> None:
    stage = {
        "config": {
            "parameters": {"feature_uri": URI, "query_text": "{{INPUT.query_text}}", "top_k": 100},
            "stage_id": "hybrid_search",
        },
        "stage_name": "semantic_search",
        "stage_type": "filter",
    }
    result = run_pipeline(
        [stage],
        {"query": "stock market"},
        {"query": {"type": "text", "required": True}},
        ["products"],
        store,
        budget_limits={"max_credits": 100, "max_time_ms": 60000},
        limit=25,
    )
    assert result.status == "completed"
    assert result.documents[0]["category"] == "finance"
    assert result.pagination["total"] == 100 and result.pagination["has_next"] is True
    assert len(result.documents) == 25
    assert result.warnings  # the template named a missing input


def test_pre_filters_and_request_filters_narrow_candidates(store: InMemoryStore) -> None:
    stage = search_stage(final_top_k=50)
    stage["config"]["pre_filters"] = {"metadata.color": "red"}
    result = run(store, [stage], filters={"field": "price", "operator": "lt", "value": 40})
    assert result.documents
    assert all(d["metadata"]["color"] == "red" and d["price"] < 40 for d in result.documents)
    assert result.documents[0]["category"] == "cooking"


def test_fusion_combines_searches(store: InMemoryStore) -> None:
    searches = [
        {"feature_uri": URI, "query": {"input_mode": "text", "value": "telescope stars"}, "top_k": 5, "weight": 0.5},
        {"feature_uri": URI, "query": {"input_mode": "text", "value": "rose garden"}, "top_k": 5},
    ]
    stage = {"stage_name": "s", "config": {"stage_id": "feature_search", "parameters": {"searches": searches}}}
    rrf = run(store, [stage]).documents
    assert {d["category"] for d in rrf} == {"astronomy", "gardening"}
    assert rrf[0]["category"] == "gardening"  # the heavier search wins under rrf
    stage["config"]["parameters"]["fusion"] = "max"
    best = run(store, [stage]).documents
    assert best[0]["score"] == pytest.approx(max(d["score"] for d in best))
    only_one = run(store, [search_stage("telescope stars", final_top_k=5)]).documents
    assert {d["category"] for d in only_one} == {"astronomy"}


def test_attribute_filter_first_then_sort(store: InMemoryStore) -> None:
    stages = [
        {"stage_name": "f", "config": {"stage_id": "attribute_filter",
                                       "parameters": {"field": "category", "operator": "eq", "value": "finance"}}},
        {"stage_name": "s", "config": {"stage_id": "sort_attribute", "parameters": {"field": "price", "direction": "asc"}}},
    ]  # fmt: skip
    result = run(store, stages, limit=100)
    assert len(result.documents) == 40
    prices = [d["price"] for d in result.documents]
    assert prices == sorted(prices)


def test_group_by_and_sample_are_deterministic(store: InMemoryStore) -> None:
    stages = [search_stage("colourful items", final_top_k=200)]
    stages[0]["config"]["parameters"]["searches"][0]["top_k"] = 200
    stages.append(
        {
            "stage_name": "g",
            "config": {"stage_id": "group_by", "parameters": {"group_by_field": "category", "output_mode": "first"}},
        }
    )
    grouped = run(store, stages).documents
    assert sorted(d["category"] for d in grouped) == sorted(["running", "cooking", "finance", "gardening", "astronomy"])
    sample = [search_stage(final_top_k=100), {"stage_name": "x", "config": {"stage_id": "sample",
              "parameters": {"count": 7, "seed": 3}}}]  # fmt: skip
    sample[0]["config"]["parameters"]["searches"][0]["top_k"] = 100
    a, b = run(store, sample).documents, run(store, sample).documents
    assert len(a) == 7 and [d["document_id"] for d in a] == [d["document_id"] for d in b]


def test_rerank_and_mmr(store: InMemoryStore) -> None:
    stages = [
        search_stage(final_top_k=30),
        {"stage_name": "r", "config": {"stage_id": "rerank",
                                       "parameters": {"document_field": "title", "max_candidates": 30}}},
        {"stage_name": "m", "config": {"stage_id": "mmr", "parameters": {"lambda": 0.3, "top_k": 5,
                                                                          "diversity_fields": ["metadata.color"]}}},
    ]  # fmt: skip
    stages[0]["config"]["parameters"]["searches"][0]["top_k"] = 30
    docs = run(store, stages).documents
    assert len(docs) == 5
    assert all("rerank" in d["scores"] for d in docs)
    assert len({d["metadata"]["color"] for d in docs[:4]}) == 4  # diversity over the colour field


def test_budget_exceeded_fails_the_execution(store: InMemoryStore) -> None:
    result = run(store, [search_stage()], budget_limits={"max_credits": 0.0001})
    assert result.status == "failed"
    assert result.error is not None and result.error.startswith("Budget exceeded")
    assert result.documents == []


def test_llm_stage_fails_cleanly(store: InMemoryStore) -> None:
    stages = [search_stage(), {"stage_name": "sum", "config": {"stage_id": "summarize", "parameters": {}}}]
    result = run(store, stages)
    assert result.status == "failed" and "'summarize'" in (result.error or "")
    assert "not supported by the local backend" in (result.error or "")


def test_request_errors_raise(store: InMemoryStore) -> None:
    with pytest.raises(NotFound, match="nowhere"):
        run_pipeline([search_stage()], {"query": "x"}, {}, ["nowhere"], store)
    with pytest.raises(BadRequest, match="feature_serch"):
        run(store, [{"stage_name": "x", "config": {"stage_id": "feature_serch"}}])
    with pytest.raises(BadRequest, match="missing required input"):
        run_pipeline([search_stage()], {}, {"query": {"type": "text", "required": True}}, ["products"], store)
    bad = search_stage()
    bad["config"]["parameters"]["searches"][0]["feature_uri"] = "mixpeek://image_extractor@v1/clip"
    with pytest.raises(BadRequest, match="matches no vector index"):
        run(store, [bad])


def test_cursor_and_offset_pagination(store: InMemoryStore) -> None:
    stage = search_stage(final_top_k=30)
    stage["config"]["parameters"]["searches"][0]["top_k"] = 30
    first = run(store, [stage], pagination={"method": "cursor", "limit": 12})
    assert first.pagination["has_next"] and first.pagination["returned"] == 12
    second = run(store, [stage], pagination={"method": "cursor", "limit": 12, "cursor": first.pagination["cursor"]})
    assert not {d["document_id"] for d in first.documents} & {d["document_id"] for d in second.documents}
    page3 = run(store, [stage], pagination={"method": "offset", "page_size": 12, "page_number": 3})
    assert page3.pagination["returned"] == 6 and page3.pagination["has_next"] is False


def test_vector_query_and_uri_resolution_forms() -> None:
    s = InMemoryStore()
    col = s.add_collection("vecs", [VectorIndex("text_extractor_v1_text_extractor_v1_embedding", URI, 4)])
    s.add_document(col.collection_id, {"name": "x-axis"}, vectors={URI: [1, 0, 0, 0]})
    s.add_document(col.collection_id, {"name": "y-axis"}, vectors={URI: [0, 1, 0, 0]})
    for uri in (
        URI,
        "mixpeek://text_extractor@v1",
        "mixpeek://text_extractor@v1/text_extractor_v1_text_extractor_v1_embedding",
    ):
        stage = {"stage_name": "s", "config": {"stage_id": "feature_search", "parameters": {
            "searches": [{"feature_uri": uri, "query": {"input_mode": "vector", "value": [0.1, 0.9, 0, 0]}}]}}}  # fmt: skip
        docs = run_pipeline([stage], {}, {}, ["vecs"], s).documents
        assert docs[0]["name"] == "y-axis"


def test_single_search_is_fast_enough_to_use_argpartition() -> None:
    # Behavioural check of top-k selection on a large matrix (correctness, not timing).
    s = InMemoryStore()
    col = s.add_collection("big", [VectorIndex("v", "mixpeek://x@v1/v", 16)])
    rng = np.random.default_rng(1)
    vecs = rng.normal(size=(3000, 16)).astype(np.float32)
    s.add_documents(col.collection_id, [{"i": i} for i in range(3000)], vectors=[{"v": v} for v in vecs])
    q = vecs[1234] + 0.01
    stage = {"stage_name": "s", "config": {"stage_id": "feature_search", "parameters": {
        "searches": [{"feature_uri": "mixpeek://x@v1/v", "query": {"input_mode": "vector", "value": q.tolist()}}],
        "final_top_k": 3}}}  # fmt: skip
    docs = run_pipeline([stage], {}, {}, ["big"], s).documents
    assert docs[0]["i"] == 1234 and len(docs) == 3
