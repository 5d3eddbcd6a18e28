"""Where references live in a spec (core/refpaths.py): the merged walk finds exactly what
each pattern names, in pattern order, then document order."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mixops.core.refpaths import _STAGE_REF_OWNER, REF_PATTERNS, iter_refs

KEYS = sorted({head for patterns in REF_PATTERNS.values() for pattern, _ in patterns for head in pattern} - {"*"})
STAGE_IDS = ["feature_search", "taxonomy_enrich", "document_enrich", "sort_relevance"]


def expected(kind: str, spec: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str, Any]]:
    """One plain walk per pattern, as the table reads."""
    out = []
    for pattern, ref_kind in REF_PATTERNS[kind]:
        found: list[tuple[tuple[str | int, ...], Any]] = [((), spec)]
        for head in pattern:
            step = []
            for path, node in found:
                if head == "*" and isinstance(node, list):
                    step += [((*path, j), item) for j, item in enumerate(node)]
                elif head != "*" and isinstance(node, dict) and head in node:
                    step.append(((*path, head), node[head]))
            found = step
        for path, value in found:
            if not isinstance(value, str):
                continue
            if kind == "retriever" and len(path) > 4 and path[0] == "stages" and path[3] == "parameters":
                owners = _STAGE_REF_OWNER.get(str(path[4]))
                if owners is not None and spec["stages"][path[1]].get("config", {}).get("stage_id") not in owners:
                    continue
            out.append((path, ref_kind, value))
    return out


leaves = st.one_of(st.sampled_from(["a", "b", "col_1"]), st.integers(0, 3), st.none())


def _along(pattern: tuple[str, ...], leaf: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A value that has `leaf` at the end of `pattern` ("*": a list of 0 to 3 items)."""
    if not pattern:
        return leaf
    inner = _along(pattern[1:], leaf)
    if pattern[0] == "*":
        return st.lists(inner, max_size=3)
    return st.fixed_dictionaries({pattern[0]: inner})


def _merge(a: Any, b: Any) -> Any:
    if isinstance(a, dict) and isinstance(b, dict):
        return {**a, **b, **{k: _merge(a[k], b[k]) for k in a.keys() & b.keys()}}
    if isinstance(a, list) and isinstance(b, list):
        return [_merge(x, y) for x, y in zip(a, b, strict=False)] + a[len(b) :] + b[len(a) :]
    return a


@st.composite
def specs(draw: st.DrawFn, kind: str) -> dict[str, Any]:
    """A spec grown along several of the kind's patterns (so it holds references), with
    stage ids that make stage parameters count or not, and a leaf of noise."""
    shapes = [pattern for pattern, _ in REF_PATTERNS[kind]]
    if kind == "retriever":
        shapes.append(("stages", "*", "config", "stage_id"))
    spec: Any = {}
    for pattern in draw(st.lists(st.sampled_from(shapes), min_size=1, max_size=5)):
        leaf = st.sampled_from(STAGE_IDS) if pattern[-1] == "stage_id" else leaves
        spec = _merge(spec, draw(_along(pattern, leaf)))
    noise = draw(st.lists(st.sampled_from(shapes), max_size=1))
    for pattern in noise:  # the same keys over a leaf of the wrong shape
        spec = _merge(spec, draw(_along(pattern[: len(pattern) // 2], leaves)))
    return spec if isinstance(spec, dict) else {}


@settings(max_examples=300, deadline=None)
@given(data=st.data(), kind=st.sampled_from(sorted(REF_PATTERNS)))
def test_every_pattern_is_found_in_order(data: st.DataObject, kind: str) -> None:
    spec = data.draw(specs(kind))
    assert iter_refs(kind, spec) == expected(kind, spec)


def test_a_retriever_s_references_in_table_order() -> None:
    spec = {
        "collection_identifiers": ["c1", "c2"],
        "stages": [
            {"config": {"stage_id": "document_enrich", "parameters": {"target_collection_id": "c3", "retriever_id": "r1"}}},
            {"config": {"stage_id": "feature_search", "parameters": {"retriever_id": "not-a-ref",
                                                                        "collection_identifiers": ["c4"]}}},
        ],
    }  # fmt: skip
    assert iter_refs("retriever", spec) == [
        (("collection_identifiers", 0), "collection", "c1"),
        (("collection_identifiers", 1), "collection", "c2"),
        (("stages", 1, "config", "parameters", "collection_identifiers", 0), "collection", "c4"),
        (("stages", 0, "config", "parameters", "retriever_id"), "retriever", "r1"),
        (("stages", 0, "config", "parameters", "target_collection_id"), "collection", "c3"),
    ]
