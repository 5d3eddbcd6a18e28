from __future__ import annotations

import pytest

from mixops.core.models.retriever_stages import AttributeFilterParams
from mixops.local.engine import BadRequest, Unsupported, compile_filter
from mixops.local.engine.filters import Predicate, attribute_filter_predicate
from mixops.local.engine.stage_parsing import StageProblem, parse_stages

DOC = {
    "title": "Blue Running Shoes",
    "price": 40,
    "in_stock": True,
    "metadata": {"color": "blue", "tags": ["sport", "shoes"], "variants": [{"size": 42}, {"size": 44}]},
    "discount": None,
}


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"field": "price", "operator": "lt", "value": 50}, True),
        ({"field": "price", "operator": "gte", "value": 41}, False),
        ({"metadata.color": "BLUE"}, True),  # case-insensitive by default
        ({"metadata.color": "BLUE", "case_sensitive": True}, False),
        ({"field": "metadata.tags", "operator": "contains", "value": "shoes"}, True),
        ({"field": "metadata.variants.size", "operator": "eq", "value": 44}, True),
        ({"field": "metadata.variants.size", "operator": "in", "value": [40, 41]}, False),
        ({"field": "title", "operator": "starts_with", "value": "blue"}, True),
        ({"field": "title", "operator": "regex", "value": "run+ing"}, True),
        ({"field": "title", "operator": "words", "value": "shoe run"}, True),
        ({"field": "title", "operator": "phrase", "value": "shoes running"}, False),
        ({"field": "discount", "operator": "is_null", "value": True}, True),
        ({"field": "missing", "operator": "exists", "value": False}, True),
        ({"field": "in_stock", "operator": "eq", "value": 1}, False),  # booleans are not numbers
        ({"OR": [{"price": 1}, {"metadata.color": "blue"}]}, True),
        ({"NOT": [{"metadata.color": "blue"}]}, False),
        ({"AND": [{"price": {"gt": 10}}, {"field": "price", "operator": "ne", "value": 40}]}, False),
        ({"field": "payload.metadata.color", "operator": "eq", "value": "blue"}, True),
    ],
)
def test_operators(spec: dict[str, object], expected: bool) -> None:
    assert compile_filter(spec)(DOC) is expected


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"field": "price", "operator": "between", "value": 1}, "unknown operator 'between'"),
        ({"AND": {"price": 1}}, "AND: must be a list"),
        ({"field": "price", "operator": "in", "value": 3}, "needs a list"),
        ({"field": "title", "operator": "regex", "value": "("}, "invalid regular expression"),
        ({"OR": ["x"]}, "OR[0]: must be an object"),
    ],
)
def test_bad_shapes_are_bad_requests(spec: dict[str, object], message: str) -> None:
    with pytest.raises(BadRequest, match=message.replace("(", r"\(").replace("[", r"\[")):
        compile_filter(spec)


def test_geo_is_unsupported() -> None:
    with pytest.raises(Unsupported):
        compile_filter({"field": "loc", "operator": "geo_radius", "value": {}})


def _attribute_filter(**params: object) -> Predicate:
    return attribute_filter_predicate(AttributeFilterParams.model_validate(params))


def test_attribute_filter_modes() -> None:
    assert _attribute_filter(field="metadata.color", operator="eq", value="blue")(DOC)
    # attribute_filter is case-sensitive unless case_insensitive is set
    assert not _attribute_filter(field="metadata.color", value="BLUE")(DOC)
    assert _attribute_filter(field="metadata.color", value="BLUE", case_insensitive=True)(DOC)
    assert _attribute_filter(conditions={"OR": [{"price": 1}, {"price": 40}]})(DOC)
    with pytest.raises(Unsupported, match="natural_language"):
        _attribute_filter(natural_language="blue things")
    # Both modes at once: refused where the stage enters, naming the parameters.
    both = {"stage_name": "f", "config": {"stage_id": "attribute_filter",
            "parameters": {"field": "x", "value": 1, "conditions": {"x": 1}}}}  # fmt: skip
    with pytest.raises(StageProblem, match=r"^stages\[0\]\.config\.parameters: use either `conditions` or"):
        parse_stages([both])
