"""Properties of the diff and of normalisation, checked with hypothesis."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mixops.core.diff import MISSING, field_changes
from mixops.core.normalise import normalise

scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text("abc", max_size=3))
trees = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text("xyz", min_size=1, max_size=2), children, max_size=3)
    ),
    max_leaves=12,
)
docs = st.dictionaries(st.text("pqr", min_size=1, max_size=2), trees, max_size=4)


def _apply(doc: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    node: Any = doc
    for part in path[:-1]:
        node = node[part]
    if value == MISSING:
        if isinstance(node, dict):
            node.pop(path[-1], None)
        return
    if isinstance(node, list) and path[-1] >= len(node):
        node.append(value)
    else:
        node[path[-1]] = value


@given(docs, docs)
@settings(max_examples=300, deadline=None)
def test_no_changes_exactly_when_equal(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert (field_changes(a, b) == []) == (_json(a) == _json(b))


@given(docs, docs)
@settings(max_examples=300, deadline=None)
def test_changes_carry_the_values_of_each_side(a: dict[str, Any], b: dict[str, Any]) -> None:
    # A present side must be the value at that path in its own document. (Lists are aligned:
    # a replaced item may appear as a removal from `a` and an addition to `b` at one index.)
    for change in field_changes(a, b):
        if change.old != MISSING:
            assert _at(a, change.path) == change.old
        if change.new != MISSING:
            assert _at(b, change.path) == change.new
        assert _json(change.old) != _json(change.new)


def _json(value: Any) -> str:
    """Equality as JSON sees it: `1` and `true` differ (Python's `1 == True` does not), as the diff says."""
    return json.dumps(value, sort_keys=True)


def _at(doc: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        assert _has(doc, part), (doc, part)
        doc = doc[part]
    return doc


def _has(node: Any, part: Any) -> bool:
    if isinstance(node, dict):
        return part in node
    return isinstance(node, list) and isinstance(part, int) and part < len(node)


@given(docs)
@settings(max_examples=200, deadline=None)
def test_diff_is_antisymmetric(a: dict[str, Any]) -> None:
    b = copy.deepcopy(a)
    b["added"] = 1
    forward = {(c.path, repr(c.old), repr(c.new)) for c in field_changes(a, b)}
    backward = {(c.path, repr(c.new), repr(c.old)) for c in field_changes(b, a)}
    assert forward == backward


RETRIEVER = {
    "name": "r",
    "collection_identifiers": ["b", "a", "a"],
    "tags": ["y", "x"],
    "metadata": {"managed_by": "mixops", "mixops_stack": "s", "team": "search"},
    "stages": [
        {
            "stage_name": "s",
            "config": {
                "stage_id": "feature_search",
                "parameters": {"searches": [{"feature_uri": "u", "query": {"value": "{{INPUT.q}}"}}]},
            },
        }
    ],
    "input_schema": {"q": {"type": "text", "required": True}},
}


@given(st.permutations(["a", "b", "c"]), st.permutations(["x", "y"]), st.sampled_from([None, "", "d"]))
@settings(max_examples=100, deadline=None)
def test_normalise_is_idempotent_and_ignores_order_and_ownership(
    cols: list[str], tags: list[str], description: str | None
) -> None:
    spec = copy.deepcopy(RETRIEVER)
    spec["collection_identifiers"] = cols
    spec["tags"] = tags
    if description is not None:
        spec["description"] = description
    once = normalise("retriever", spec)
    assert normalise("retriever", once) == once
    other = copy.deepcopy(spec)
    other["collection_identifiers"] = sorted(cols, reverse=True)
    other["metadata"] = {"team": "search"}
    assert normalise("retriever", other) == once
    assert "managed_by" not in once.get("metadata", {})


def test_normalise_keeps_secret_values() -> None:
    # Masking is for output only: the comparable form holds the real value (a masked name
    # compared unequal with the live one and replaced resources on every apply).
    spec = copy.deepcopy(RETRIEVER)
    spec["description"] = "key sk_live_123 inside"
    assert normalise("retriever", spec)["description"] == "key sk_live_123 inside"
