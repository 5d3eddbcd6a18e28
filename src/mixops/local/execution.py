"""Glue between the HTTP layer and the engines' entry points.

Kept in one place so the routes do not depend on engine signatures directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mixops.local.engine.retrieval import run_pipeline
from mixops.local.engine.store import DocumentStore


def execute_pipeline(store: DocumentStore, config: Mapping[str, Any], request: Mapping[str, Any]) -> dict[str, Any]:
    """ExecuteRetrieverResponse fields (without ids) for a retriever ``config`` and a request.

    ``config``: ``collection_identifiers`` (ids), ``stages``, ``input_schema``,
    ``budget_limits``. ``request``: ``inputs``, ``filters``, ``limit``, ``pagination``
    (ad-hoc requests may carry their own ``budget_limits``; the retriever's win).
    """
    result = run_pipeline(
        config.get("stages") or [],
        request.get("inputs") or {},
        config.get("input_schema") or {},
        list(config.get("collection_identifiers") or []),
        store,
        filters=request.get("filters"),
        budget_limits=config.get("budget_limits") or request.get("budget_limits"),
        limit=request.get("limit"),
        pagination=request.get("pagination"),
    )
    return result.to_response()


@dataclass(frozen=True)
class ClusterSpec:
    """One clustering run, in the terms both cluster routes share."""

    collection_ids: list[str]
    algorithm: str
    algorithm_params: dict[str, Any]
    feature_uris: list[str]
    attribute_config: dict[str, Any] | None = None
    filters: dict[str, Any] | None = None
    sample_size: int | None = None
    normalize_features: bool = True
    include_members: bool = False


def run_clustering(store: DocumentStore, spec: ClusterSpec) -> dict[str, Any]:
    """Cluster the documents of ``spec``; see the engine's clustering module for the result."""
    raise NotImplementedError("waiting for the engine's clustering entry point")


def execute_taxonomy(
    store: DocumentStore,
    taxonomy: Mapping[str, Any],
    documents: list[dict[str, Any]],
    retriever_override: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """JoinResponse for an on-demand taxonomy run over ``documents``."""
    raise NotImplementedError("waiting for the engine's taxonomy entry point")
