"""The two sort stages' orders, with documents that lack the sorted value: where those go is
what a user sees at the top or bottom of their results."""

from __future__ import annotations

from typing import Any, cast

import pytest

from mixops.core.models.retriever_stages import SortAttributeParams, SortRelevanceParams
from mixops.local.engine.stage_handlers import StageContext, sort_attribute, sort_relevance

DOCS: list[dict[str, Any]] = [
    {"document_id": "a", "price": 3, "score": 0.2},
    {"document_id": "b", "score": None},
    {"document_id": "c", "price": 1, "score": 0.9},
    {"document_id": "d", "price": None, "score": "high"},
    {"document_id": "e", "price": 2, "score": 0.5},
]
NO_CONTEXT = cast(StageContext, None)  # the sort stages read only the documents


def _ids(output: Any) -> list[str]:
    return [d["document_id"] for d in output.documents]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"field": "price", "direction": "asc"}, ["c", "e", "a", "b", "d"]),
        ({"field": "price", "direction": "asc", "nulls_last": False}, ["b", "d", "c", "e", "a"]),
        ({"field": "price", "direction": "desc"}, ["a", "e", "c", "b", "d"]),
        ({"field": "price", "direction": "desc", "nulls_last": False}, ["a", "e", "c", "b", "d"]),
    ],
)
def test_sort_attribute_puts_documents_without_the_field_where_asked(
    params: dict[str, Any], expected: list[str]
) -> None:
    out = sort_attribute(NO_CONTEXT, [dict(d) for d in DOCS], SortAttributeParams(**params), lambda _d: True, "s")
    assert _ids(out) == expected
    assert out.units == len(DOCS)


@pytest.mark.parametrize(
    ("missing", "expected"),
    [
        ("bottom", ["c", "e", "a", "b", "d"]),
        ("top", ["b", "d", "c", "e", "a"]),
        # Unscored documents keep their places; the scored ones are sorted among the rest.
        ("preserve", ["c", "b", "e", "d", "a"]),
    ],
)
def test_sort_relevance_places_unscored_documents_by_missing_score(missing: str, expected: list[str]) -> None:
    params = SortRelevanceParams(score_field="score", direction="desc", missing_score=missing)  # type: ignore[arg-type]
    out = sort_relevance(NO_CONTEXT, [dict(d) for d in DOCS], params, lambda _d: True, "s")
    assert _ids(out) == expected
