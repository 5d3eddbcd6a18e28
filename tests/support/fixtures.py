"""Request bodies several test suites share."""

from __future__ import annotations

from typing import Any

TEXT_URI = "mixpeek://text_extractor@v1/embedding"


def search_stage(top_k: int, final_top_k: int | None = None, *, stage_name: str = "search") -> dict[str, Any]:
    """A one-search feature_search stage on the local text embedding, querying `{{INPUT.query}}`."""
    parameters: dict[str, Any] = {
        "searches": [
            {"feature_uri": TEXT_URI, "query": {"input_mode": "text", "value": "{{INPUT.query}}"}, "top_k": top_k}
        ]
    }
    if final_top_k is not None:
        parameters["final_top_k"] = final_top_k
    return {
        "stage_name": stage_name,
        "stage_type": "filter",
        "config": {"stage_id": "feature_search", "parameters": parameters},
    }
