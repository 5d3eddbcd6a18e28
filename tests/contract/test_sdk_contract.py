"""The gate's own judges: a strict walk that can fail, and a route table read from the SDK."""

from __future__ import annotations

from tests.contract.sdk_contract import body_errors, find_route, model, read_verdict
from tests.contract.seed_models import ClusterExecuteRequest003
from tests.support.fixtures import search_stage


def test_routes_come_from_the_sdk_and_literal_segments_win() -> None:
    route = find_route("POST", "/v1/retrievers/execute")
    assert route is not None and (route.body, route.template) == ("AdhocExecuteRequest", "/v1/retrievers/execute")
    by_id = find_route("POST", "/v1/retrievers/ret_1/execute")
    assert by_id is not None and by_id.response == "ExecuteRetrieverResponse"
    assert find_route("POST", "/v1/clusters/execute") is None  # seed 003 only


def test_an_undeclared_key_is_refused_at_any_depth() -> None:
    body = {"retriever_name": "r", "collection_identifiers": ["c"], "stages": [search_stage(10, 5)]}
    assert body_errors(body, model("CreateRetrieverRequest")) == []
    body["stages"][0]["stage_kind"] = "filter"
    assert body_errors(body, model("CreateRetrieverRequest")) == [
        "stages[0].stage_kind: undeclared key (not in StageConfigInput)"
    ]


def test_required_fields_types_and_enums_are_checked() -> None:
    errors = body_errors({"collection_identifiers": "c", "stages": []}, model("CreateRetrieverRequest"))
    assert any(e.startswith("collection_identifiers: expected a list") for e in errors)
    errors = body_errors({"retriever_name": "r", "stages": [{"stage_name": "s", "config": {}, "stage_type": "bogus"}]},
                         model("CreateRetrieverRequest"))  # fmt: skip
    assert errors and "stage_type" in errors[0]


def test_one_of_wrappers_hold_their_alternatives_strictly() -> None:
    flat = {"taxonomy_type": "flat", "retriever_id": "ret_1", "input_mappings": [], "source_collection": {"collection_id": "col_1"}}  # fmt: skip
    assert body_errors({"taxonomy_name": "t", "config": flat}, model("CreateTaxonomyRequest")) == []
    errors = body_errors({"taxonomy_name": "t", "config": {**flat, "layers": []}}, model("CreateTaxonomyRequest"))
    assert errors and all("layers" in e or "alternative" in e for e in errors)


def test_seed_bodies_are_strict() -> None:
    body = {"collection_ids": ["col_1"], "config": {"algorithm": "kmeans", "feature_vector": {"vector_name": "v"}}}
    assert body_errors(body, ClusterExecuteRequest003) == []
    assert body_errors({**body, "members": True}, ClusterExecuteRequest003) == [
        "members: undeclared key (not in ClusterExecuteRequest003)"
    ]


def test_reads_are_judged_by_model_prose_or_user_data() -> None:
    response = model("ExecuteRetrieverResponse")
    assert read_verdict(response, "stage_statistics.credits_used") == "model"
    assert read_verdict(response, "budget.credits_used") == "prose"
    assert read_verdict(response, "documents.[].category") == "user data"
    assert read_verdict(response, "credits_used") is None
    assert read_verdict(model("ClusterExecutionResult"), "members") is None
