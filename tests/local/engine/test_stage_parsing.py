"""Stage parameters are validated once, with the models, and accept what the SDK accepts."""

from __future__ import annotations

from typing import Any

import pytest
from mixpeek import models as sdk

from mixops.local.engine import BadRequest, InMemoryStore, run_pipeline
from mixops.local.engine.stage_parsing import StageProblem, parse_stages

URI = "mixpeek://text_extractor@v1/embedding"


def stage(stage_id: str, **parameters: Any) -> dict[str, Any]:
    return {"stage_name": "s", "config": {"stage_id": stage_id, "parameters": parameters}}


def search(query: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"feature_uri": URI, "query": query, **extra}


def sdk_validate(model: Any, parameters: dict[str, Any]) -> None:
    """The SDK's model on ``parameters``; its query oneOf is only checked by ``Query.from_dict``."""
    model.model_validate(parameters)
    for item in parameters.get("searches") or []:
        if "query" in item:
            sdk.Query.from_dict(item["query"])


# (stage_id, parameters, the SDK's StageParams* model): bodies the API accepts.
ACCEPTED = [
    ("feature_search", {"searches": [search({"input_mode": "text"})]}, sdk.StageParamsFeatureSearch),
    ("feature_search", {"searches": [search({"input_mode": "vector"})]}, sdk.StageParamsFeatureSearch),
    ("feature_search", {"searches": [search({"input_mode": "text", "text": "x"})]}, sdk.StageParamsFeatureSearch),
    ("feature_search", {"searches": [], "final_top_k": 5000}, sdk.StageParamsFeatureSearch),
    ("feature_search", {"searches": [search({"input_mode": "text", "value": "x", "embedding_task": "none"})]},
     sdk.StageParamsFeatureSearch),
    ("feature_search", {"searches": [search({"input_mode": "content", "content": {"url": "https://x.test/a.jpg"}})]},
     sdk.StageParamsFeatureSearch),
    ("feature_search", {"searches": [search({"input_mode": "multi_content", "values": ["a", "https://x.test/a.jpg"]})]},
     sdk.StageParamsFeatureSearch),
    ("sort_attribute", {}, sdk.StageParamsSortAttribute),
    ("sort_attribute", {"direction": "asc", "nulls_last": False}, sdk.StageParamsSortAttribute),
    ("document_enrich", {"target_collection_id": "c", "strategy": "append", "output_field": "x"},
     sdk.StageParamsDocumentEnrich),
    ("mmr", {"lambda": 1, "top_k": 500}, sdk.StageParamsMmr),
    ("sample", {"strategy": "stratified", "stratify_by": "category"}, sdk.StageParamsSample),
]  # fmt: skip

# Bodies the API refuses, and the field the refusal names.
REFUSED = [
    ("feature_search", {"final_top_k": 0}, sdk.StageParamsFeatureSearch, "final_top_k"),
    ("feature_search", {"searches": [search({"input_mode": "text", "value": "x"}, weight=2.0)]},
     sdk.StageParamsFeatureSearch, "searches[0].weight"),
    ("feature_search", {"searches": [search({"input_mode": "text", "value": "x"}, top_k="10")]},
     sdk.StageParamsFeatureSearch, "searches[0].top_k"),
    ("feature_search", {"searches": [{"query": {"input_mode": "text", "value": "x"}}]},
     sdk.StageParamsFeatureSearch, "searches[0].feature_uri"),
    ("feature_search", {"searches": [search({"input_mode": "text", "value": "x", "embedding_task": "query"})]},
     sdk.StageParamsFeatureSearch, "searches[0].query.embedding_task"),
    ("feature_search", {"searches": [search({"input_mode": "multi_content", "values": []})]},
     sdk.StageParamsFeatureSearch, "searches[0].query.values"),
    ("sort_attribute", {"direction": "up"}, sdk.StageParamsSortAttribute, "direction"),
    ("mmr", {"lambda": 1.5}, sdk.StageParamsMmr, "lambda"),
    ("group_by", {"max_per_group": 0}, sdk.StageParamsGroupBy, "max_per_group"),
    ("sample", {"count": 1001}, sdk.StageParamsSample, "count"),
    ("rerank", {"max_candidates": 0}, sdk.StageParamsRerank, "max_candidates"),
    ("taxonomy_enrich", {"taxonomy_id": "t", "top_k": 51}, sdk.StageParamsTaxonomyEnrich, "top_k"),
]  # fmt: skip


@pytest.mark.parametrize(("stage_id", "parameters", "model"), ACCEPTED)
def test_what_the_sdk_accepts_is_accepted(stage_id: str, parameters: dict[str, Any], model: Any) -> None:
    sdk_validate(model, parameters)  # the API's model takes it...
    parsed = parse_stages([stage(stage_id, **parameters)])  # ...and so does the local backend
    assert parsed[0].params is not None


@pytest.mark.parametrize(("stage_id", "parameters", "model", "field"), REFUSED)
def test_what_the_sdk_refuses_is_refused_naming_the_field(
    stage_id: str, parameters: dict[str, Any], model: Any, field: str
) -> None:
    with pytest.raises(ValueError):  # pydantic's ValidationError, or the oneOf's "No match found"
        sdk_validate(model, parameters)
    with pytest.raises(StageProblem) as caught:
        parse_stages([stage(stage_id, **parameters)])
    assert caught.value.message.startswith(f"stages[0].config.parameters.{field}: ")
    assert caught.value.status == 422
    assert caught.value.details["validation_errors"][0]["loc"] == f"stages[0].config.parameters.{field}"


def test_a_number_from_an_input_is_checked_once_substituted(store: InMemoryStore) -> None:
    templated = stage("feature_search", searches=[search({"input_mode": "text", "value": "x"}, top_k="{{INPUT.k}}")])
    assert parse_stages([templated])[0].templated  # the template is accepted as written
    ok = run_pipeline([templated], {"k": 3}, {}, ["products"], store)
    assert ok.stage_statistics["stages"]["s"]["metadata"]["search_hits"] == [3]
    with pytest.raises(BadRequest) as caught:
        run_pipeline([templated], {"k": 0}, {}, ["products"], store)
    assert caught.value.message == (
        "stages[0].config.parameters.searches[0].top_k: input should be greater than or equal to 1, got 0 "
        "(after substituting the inputs)"
    )
    assert caught.value.status == 400


def test_a_missing_optional_input_leaves_the_query_empty(store: InMemoryStore) -> None:
    # The SDK's text query input has no required field: `{{INPUT.query}}` with no `query`
    # input is an empty query, which the search's on_empty decides (skip here, error by default).
    first = search({"input_mode": "text", "value": "{{INPUT.query}}"}, on_empty="skip")
    second = search({"input_mode": "text", "value": "telescope stars"})
    both = stage("feature_search", searches=[first, second], final_top_k=5)
    result = run_pipeline([both], {}, {}, ["products"], store)
    assert [d["category"] for d in result.documents] == ["astronomy"] * 5
    strict = stage("feature_search", searches=[search({"input_mode": "text", "value": "{{INPUT.query}}"})])
    with pytest.raises(BadRequest, match=r"searches\[0\]\.query: the query text is empty"):
        run_pipeline([strict], {}, {}, ["products"], store)


def test_untemplated_parameters_are_not_validated_again() -> None:
    parsed = parse_stages([stage("sort_attribute", field="price")])[0]
    assert not parsed.templated
    assert parsed.resolve({"anything": 1}, []) is parsed.params


def test_templates_are_found_at_any_depth_and_numbers_are_not_templates() -> None:
    vector = stage("feature_search", searches=[search({"input_mode": "vector", "value": [0.5] * 384})])
    assert not parse_stages([vector])[0].templated
    nested = stage("feature_search", searches=[search({"input_mode": "text", "value": "about {{INPUT.q}}"})])
    assert parse_stages([nested])[0].templated
    in_list = stage("attribute_filter", field="tags", operator="in", value=[1, "{{INPUT.tag}}"])
    assert parse_stages([in_list])[0].templated


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"input_mode": "multi_content", "values": ["a"]}, "'multi_content' queries need a model"),
        ({"input_mode": "content", "content": {"url": "https://x.test/a.jpg"}}, "content from URLs or files"),
    ],
)
def test_queries_that_need_a_model_fail_the_execution_clearly(
    store: InMemoryStore, query: dict[str, Any], message: str
) -> None:
    result = run_pipeline([stage("feature_search", searches=[search(query)])], {}, {}, ["products"], store)
    assert result.status == "failed" and message in (result.error or "")
