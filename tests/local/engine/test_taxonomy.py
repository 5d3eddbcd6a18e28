from __future__ import annotations

from typing import Any

import pytest

from mixops.local.engine import InMemoryStore, NotFound, VectorIndex, execute_taxonomy, run_pipeline

URI = "mixpeek://text_extractor@v1/embedding"
INDEX = VectorIndex("text_extractor_v1_embedding", URI, 384, primary=True)
MATCHER = {
    "retriever_name": "tag_matcher",
    "input_schema": {"query": {"type": "text", "required": True}},
    "stages": [{"stage_name": "match", "config": {"stage_id": "feature_search", "parameters": {
        "searches": [{"feature_uri": URI, "query": {"input_mode": "text", "value": "{{INPUT.query}}"}}],
        "final_top_k": 5}}}],
}  # fmt: skip


@pytest.fixture()
def tax_store() -> InMemoryStore:
    s = InMemoryStore()
    tags = s.add_collection("tags", [INDEX], collection_id="col_tags", text_fields=["label", "keywords"])
    s.add_documents(
        tags.collection_id,
        [
            {"label": "footwear", "keywords": "shoes sneakers boots running", "department": "apparel"},
            {"label": "kitchen", "keywords": "pasta pan cooking pot knife", "department": "home"},
            {"label": "astronomy", "keywords": "telescope stars planets", "department": "science"},
        ],
    )
    s.add_retriever({"retriever_id": "ret_tag_matcher", **MATCHER})
    return s


def flat(**source: Any) -> dict[str, Any]:
    return {
        "taxonomy_id": "tax_1", "taxonomy_name": "product_tags",
        "config": {"taxonomy_type": "flat", "retriever_id": "ret_tag_matcher",
                   "input_mappings": [{"input_key": "query", "source_type": "payload", "path": "title"}],
                   "source_collection": {"collection_id": "col_tags", **source}},
    }  # fmt: skip


def test_flat_taxonomy_assigns_the_right_label(tax_store: InMemoryStore) -> None:
    docs = [{"document_id": "d1", "title": "white leather sneakers"}, {"document_id": "d2", "title": "big cooking pot"}]
    result = execute_taxonomy(
        tax_store,
        flat(enrichment_fields=[{"field_path": "label", "target_field": "tag", "merge_mode": "replace"}]),
        docs,
    )
    assert [r["tag"] for r in result.documents] == ["footwear", "kitchen"]
    assert result.stats == {"processed_docs": 2, "batches": 1, "errors": 0, "enriched": 2}
    match = result.matches[0]
    assert match["label"] == "footwear" and match["document_id"] == "d1" and match["taxonomy_id"] == "tax_1"
    assert match["enriched_fields"] == ["tag"] and match["path"] == ["footwear"]


def test_whole_payload_copied_without_enrichment_fields(tax_store: InMemoryStore) -> None:
    result = execute_taxonomy(tax_store, flat(), [{"document_id": "d", "title": "telescope for planets"}])
    assert result.documents[0]["department"] == "science"
    assert result.documents[0]["document_id"] == "d"


def test_append_collects_from_every_kept_node(tax_store: InMemoryStore) -> None:
    tax = flat(enrichment_fields=[{"field_path": "label", "target_field": "tags", "merge_mode": "append"}])
    tax["config"]["top_k"] = 2
    result = execute_taxonomy(tax_store, tax, [{"title": "running shoes", "tags": ["sale"]}])
    tags = result.documents[0]["tags"]
    assert tags[:2] == ["sale", "footwear"] and len(tags) == 3


def test_seed_000_without_documents_and_missing_retriever(tax_store: InMemoryStore) -> None:
    assert execute_taxonomy(tax_store, flat(), []).to_response() == {
        "stats": {"processed_docs": 0, "batches": 0, "errors": 0, "enriched": 0},
        "results": [],
        "matches": [],
    }
    missing = flat()
    missing["config"]["retriever_id"] = "ret_nope"
    with pytest.raises(NotFound, match="ret_nope"):
        execute_taxonomy(tax_store, missing, [{"title": "x"}])


def test_hierarchical_walks_levels_under_the_chosen_parent() -> None:
    s = InMemoryStore()
    s.add_collection("cats", [INDEX], collection_id="col_cats", text_fields=["label", "keywords"])
    s.add_collection("subs", [INDEX], collection_id="col_subs", text_fields=["label", "keywords"])
    s.add_documents(
        "col_cats",
        [
            {"document_id": "n_sport", "label": "sport", "keywords": "running shoes ball"},
            {"document_id": "n_food", "label": "food", "keywords": "pasta cooking"},
        ],
    )
    s.add_documents(
        "col_subs",
        [
            {"label": "trail running", "keywords": "running shoes trail", "parent_id": "n_sport"},
            {"label": "running recipes", "keywords": "running shoes pasta", "parent_label": "food"},
        ],
    )
    s.add_retriever({"retriever_id": "ret_m", **MATCHER})
    tax = {"taxonomy_name": "h", "config": {
        "taxonomy_type": "hierarchical", "retriever_id": "ret_m",
        "input_mappings": [{"input_key": "query", "source_type": "payload", "path": "title"}],
        "hierarchical_nodes": [
            {"collection_id": "col_cats", "enrichment_fields": [{"field_path": "label", "target_field": "category"}]},
            {"collection_id": "col_subs", "parent_collection_id": "col_cats",
             "enrichment_fields": [{"field_path": "label", "target_field": "subcategory"}]},
        ]}}  # fmt: skip
    result = execute_taxonomy(s, tax, [{"title": "running shoes for trails"}])
    doc = result.documents[0]
    assert doc["category"] == "sport" and doc["subcategory"] == "trail running"
    assert [m["hierarchy_level"] for m in result.matches] == [0, 1]
    assert result.matches[1]["path"] == ["sport", "trail running"]


def test_taxonomy_enrich_stage(tax_store: InMemoryStore) -> None:
    tax_store.add_taxonomy(flat(enrichment_fields=[{"field_path": "label", "target_field": "tag"}]))
    col = tax_store.add_collection("items", [INDEX], collection_id="col_items", text_fields=["title"])
    tax_store.add_documents(col.collection_id, [{"title": "hiking boots"}, {"title": "star telescope"}])
    stages = [
        {"stage_name": "all", "config": {"stage_id": "attribute_filter",
                                         "parameters": {"field": "title", "operator": "exists", "value": True}}},
        {"stage_name": "tag", "config": {"stage_id": "taxonomy_enrich", "parameters": {"taxonomy_id": "tax_1", "top_k": 1}}},
    ]  # fmt: skip
    result = run_pipeline(stages, {}, {}, ["items"], tax_store)
    assert {d["title"]: d["tag"] for d in result.documents} == {
        "hiking boots": "footwear",
        "star telescope": "astronomy",
    }
    assert result.documents[0]["payload"]["tag"]
