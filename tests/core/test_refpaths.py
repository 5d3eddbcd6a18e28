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
trees = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from([*KEYS, "other"]), inner, max_size=4),
        # a stage-shaped dict, so the stage id filter is exercised
        st.fixed_dictionaries({"stage_id": st.sampled_from(STAGE_IDS), "parameters": inner}),
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(kind=st.sampled_from(sorted(REF_PATTERNS)), spec=st.dictionaries(st.sampled_from(KEYS), trees, max_size=5))
def test_every_pattern_is_found_in_order(kind: str, spec: dict[str, Any]) -> None:
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
