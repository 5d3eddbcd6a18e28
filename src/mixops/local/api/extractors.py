"""The feature extractor catalog (`GET /v1/collections/features/extractors`).

The SDK documents this read-only route (`list_feature_extractors`, no key needed) as a
list of FeatureExtractorResponseModel: each extractor, its version and, in
`required_vector_indexes`, the vector outputs a collection built by it gets. The plan
reads it to know which feature URIs a collection will have before it exists.

The local backend lists the extractors it computes (the text extractor of the feature
catalog, `GET /v1/collections/features`), each output derived by the same code that
builds a created collection's vector indexes (local/vector_indexes.py), so what the
catalog says is what a create gives.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from mixops.local.api.deps import State
from mixops.local.vector_indexes import LOCAL_EXTRACTORS, derive_indexes

router = APIRouter(tags=["feature extractors"])


def _output(index: dict[str, Any]) -> dict[str, Any]:
    """A created index (read shape) as the catalog's VectorIndexDefinition: its short output name."""
    uri = str(index["feature_uri"])
    inner = index["index"]
    return {
        "name": uri.rsplit("/", 1)[-1],
        "description": f"Vectors of {uri} (local backend)",
        "type": index["type"],
        "index": {
            "name": inner["name"],
            "description": f"Stored as {inner['name']} (local backend)",
            "dimensions": inner["dimensions"],
            "type": "dense",
            "distance": inner["distance"],
            "inference_name": inner["inference_name"],
        },
    }


@router.get("/collections/features/extractors")
def list_feature_extractors(state: State) -> list[dict[str, Any]]:
    """List[FeatureExtractorResponseModel]."""
    out = []
    for name, version in LOCAL_EXTRACTORS:
        body = {"feature_extractor": {"feature_extractor_name": name, "version": version}}
        indexes, _ = derive_indexes(body, state.embedder.dimensions)
        out.append(
            {
                "feature_extractor_name": name,
                "version": version,
                "feature_extractor_id": f"{name}_{version}",
                "description": "Text embeddings from the local hashed n-gram embedder",
                "icon": "text",
                "category": "text",
                "source": "builtin",
                "input_schema": {"text": {"type": "string"}},
                "output_schema": {},
                "parameter_schema": None,
                "supported_input_types": ["text"],
                "max_inputs": {"text": 1},
                "default_parameters": {},
                "required_vector_indexes": [_output(ix) for ix in indexes],
                "required_payload_indexes": None,
            }
        )
    return out
