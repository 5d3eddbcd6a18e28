"""Glue between the HTTP layer and the engines' entry points.

Kept in one place so the routes do not depend on engine signatures directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mixops.local.engine.clustering import cluster_attributes, cluster_vectors, load_vectors
from mixops.local.engine.errors import BadRequest
from mixops.local.engine.feature_uris import find_index
from mixops.local.engine.filters import always, compile_filter
from mixops.local.engine.retrieval import run_pipeline
from mixops.local.engine.store import DocumentStore
from mixops.local.engine.taxonomy import execute_taxonomy as engine_execute_taxonomy


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
    """Cluster the documents of ``spec`` with the engine.

    Returns ``num_clusters``, ``num_points``, ``metrics``, ``centroids`` (with
    ``centroid_vector``), ``members`` (``[{document_id, cluster_id}]`` when asked),
    ``execution_time_ms`` and ``vector_name`` (the index clustered, for seed 003).
    """
    predicate = compile_filter(spec.filters, where="filters") if spec.filters else always
    vector_name: str | None = None
    if spec.algorithm == "attribute_based":
        config = spec.attribute_config or {}
        docs = [
            d
            for d in store.documents([c.collection_id for c in store.resolve_collections(spec.collection_ids)])
            if predicate(d)
        ]
        result = cluster_attributes(
            docs, list(config.get("attributes") or []), hierarchical_grouping=bool(config.get("hierarchical_grouping"))
        )
    else:
        if not spec.feature_uris:
            raise BadRequest("a feature URI (or vector name) to cluster on is required")
        uri = spec.feature_uris[0]
        ids, matrix = load_vectors(store, spec.collection_ids, uri, predicate)
        infos = store.resolve_collections(spec.collection_ids)
        index = find_index(infos[0], uri) if infos else None
        vector_name = index.name if index else uri
        result = cluster_vectors(
            ids,
            matrix,
            spec.algorithm,
            spec.algorithm_params,
            normalize_features=spec.normalize_features,
            sample_size=spec.sample_size,
        )
    return {
        "algorithm": result.algorithm,
        "num_clusters": result.num_clusters,
        "num_points": result.num_points,
        "metrics": result.metrics,
        "centroids": [c.to_dict(include_vector=True) for c in result.centroids],
        "members": [{"document_id": d, "cluster_id": c} for d, c in result.members.items()]
        if spec.include_members
        else None,
        "execution_time_ms": result.execution_time_ms,
        "vector_name": vector_name,
    }


def execute_taxonomy(
    store: DocumentStore,
    taxonomy: Mapping[str, Any],
    documents: list[dict[str, Any]],
    retriever_override: Mapping[str, Any] | None = None,
    batch_size: int = 1000,
) -> dict[str, Any]:
    """JoinResponse (``stats``, ``results``, ``matches``) of an on-demand taxonomy run."""
    result = engine_execute_taxonomy(store, taxonomy, documents, retriever=retriever_override, batch_size=batch_size)
    return result.to_response()
