"""Every query form of a search serialises as itself: no pydantic warning on stderr.

The discriminator saw only dicts, so a validated VectorQuery (or document, content,
multi_content) was serialised as a TextQuery, and every `mixops validate` and `plan`
printed pydantic's UserWarning with a path inside site-packages.
"""

from __future__ import annotations

import warnings
from typing import Any

import pytest

from mixops.core.models.retriever_stages import FeatureSearch

QUERIES: list[dict[str, Any]] = [
    {"input_mode": "text", "value": "{{INPUT.query}}"},
    {"input_mode": "vector", "value": [0.1, 0.2]},
    {"input_mode": "multi_content", "values": ["red shoes", "https://example.com/a.png"]},
]


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: q["input_mode"])
def test_a_query_round_trips_without_warnings(query: dict[str, Any]) -> None:
    search = FeatureSearch.model_validate({"feature_uri": "mixpeek://text_extractor@v1/embedding", "query": query})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dumped = search.model_dump(mode="json", exclude_unset=True)
    assert dumped["query"] == query
