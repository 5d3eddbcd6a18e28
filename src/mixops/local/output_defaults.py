"""Defaults the hosted API's read models fill in, echoed the same way by the local backend.

The SDK's output models (LLMLabelingOutput, FaceClusterMergeConfig,
Flat/HierarchicalTaxonomyConfigOutput) give these fields values when a request
left them out, so a row read back from Mixpeek carries them. The local backend
echoes them too, so the reconciler's tests see the rows the hosted API returns.
They are added on read only; stored bodies stay as the client sent them.
"""

from __future__ import annotations

from typing import Any

LLM_LABELING: dict[str, Any] = {
    "enabled": False,
    "include_summary": True,
    "include_keywords": True,
    "sample_text_max_length": 200,
    "sample_selection_strategy": "nearest",
    "use_embedding_dedup": True,
    "embedding_similarity_threshold": 0.8,
    "cache_ttl_seconds": 604800,
}
FACE_CLUSTER_MERGE: dict[str, Any] = {
    "enabled": True,
    "centroid_cosine_threshold": 0.55,
    "bbox_iou_threshold": 0.4,
    "scene_jaccard_threshold": 0.3,
    "bbox_field": "bbox",
    "frame_field": "frame_number",
    "scene_field": "scene_id",
}
TAXONOMY_CONFIG: dict[str, dict[str, Any]] = {
    "flat": {"taxonomy_type": "flat", "top_k": 1},
    "hierarchical": {
        "taxonomy_type": "hierarchical",
        "llm_sample_size": 0,
        "cluster_overlap_threshold": 0.7,
        "path_separator": "/",
    },
}


def _filled(value: Any, defaults: dict[str, Any]) -> Any:
    if not isinstance(value, dict):
        return value
    return {**defaults, **{k: v for k, v in value.items() if v is not None}}


def llm_labeling(value: Any) -> Any:
    return _filled(value, LLM_LABELING)


def face_cluster_merge(value: Any) -> Any:
    return _filled(value, FACE_CLUSTER_MERGE)


def taxonomy_config(config: Any) -> Any:
    if not isinstance(config, dict):
        return config
    return _filled(config, TAXONOMY_CONFIG.get(config.get("taxonomy_type", "flat"), {}))
