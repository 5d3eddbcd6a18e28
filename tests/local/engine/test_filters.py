from __future__ import annotations

import pytest

from mixops.local.engine import BadRequest, Unsupported, compile_filter
from mixops.local.engine.filters import attribute_filter_predicate

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


def test_attribute_filter_modes() -> None:
    assert attribute_filter_predicate({"field": "metadata.color", "operator": "eq", "value": "blue"})(DOC)
    # attribute_filter is case-sensitive unless case_insensitive is set
    assert not attribute_filter_predicate({"field": "metadata.color", "value": "BLUE"})(DOC)
    assert attribute_filter_predicate({"field": "metadata.color", "value": "BLUE", "case_insensitive": True})(DOC)
    assert attribute_filter_predicate({"conditions": {"OR": [{"price": 1}, {"price": 40}]}})(DOC)
    with pytest.raises(BadRequest, match="not both"):
        attribute_filter_predicate({"field": "x", "value": 1, "conditions": {"x": 1}})
