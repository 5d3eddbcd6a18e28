"""Execution engines of the local Mixpeek backend: pure computation, no HTTP, no SQL.

The HTTP/SQLite layer implements ``DocumentStore`` and calls the functions below;
engines raise ``errors.BadRequest`` (400/422), ``errors.NotFound`` (404) and
``errors.Unsupported`` (422), all subclasses of ``errors.EngineError`` carrying
``message`` and ``details``.

Store (``store.py``, implemented by ``memory_store.InMemoryStore`` for tests):
    VectorIndex(name, feature_uri, dimensions, distance="cosine", primary=False)
    CollectionInfo(collection_id, collection_name, vector_indexes)
    DocumentStore protocol: embedder; resolve_collections(identifiers) -> list[CollectionInfo]
        (NotFound naming the missing one); documents(collection_ids) -> list[dict];
        vectors(collection_id, index_name) -> (ids, (n, d) float32 matrix; cache it);
        get_document(collection_id, document_id); get_taxonomy(identifier); get_retriever(identifier)

Embedder (``embedder.py``): ``Embedder`` protocol (name, dimensions, embed(texts) -> (n, d)
    float32, L2-normalised); ``HashingEmbedder(dimensions=384)`` deterministic hashed n-grams.

Filters (``filters.py``): compile_filter(logical_operator) -> predicate(doc) -> bool;
    attribute_filter_predicate(AttributeFilterParams); resolve_path / get_path (dot paths).

Stages (``stage_parsing.py``): parse_stages(stages) -> list[ParsedStage], each stage validated once
    with core.models.retriever_stages (StageProblem, 422, names the field); ParsedStage.resolve(inputs).

Retrieval (``retrieval.py``):
    run_pipeline(stages, inputs, input_schema, collection_identifiers, store, *, filters=None,
                 budget_limits=None, limit=None, pagination=None) -> PipelineResult
    PipelineResult(status "completed"|"failed", documents, stage_statistics, budget, pagination,
                   error, total, warnings); .to_response() gives the ExecuteRetrieverResponse
                   fields except execution_id/retriever_id.
    Stages: feature_search (+ hybrid_search, feature_filter, semantic_search aliases),
    attribute_filter, sort_attribute, sort_relevance, rerank (local stand-in), mmr, group_by,
    sample, taxonomy_enrich (+ taxonomy_join), document_enrich. LLM/network stages and budget
    overruns give status "failed" (never raise). Credit model: ``credits.py``.

Taxonomies (``taxonomy.py``):
    execute_taxonomy(store, taxonomy, source_documents, *, retriever=None, batch_size=1000) -> JoinResult
    JoinResult(documents, matches, stats, credits_used); .to_response() -> {stats, results, matches}

Clustering (``clustering.py``):
    load_vectors(store, collection_identifiers, feature_uri, predicate=always) -> (ids, matrix)
    cluster_vectors(ids, matrix, method, params, *, normalize_features=True, sample_size=None,
                    compute_metrics=True) -> ClusterResult
    cluster_attributes(docs, attributes, *, hierarchical_grouping=False) -> ClusterResult
    ClusterResult(algorithm, num_clusters, num_points, centroids[Centroid.to_dict(include_vector)],
                  metrics, members {document_id: cluster id}, execution_time_ms, dimensions, labels)

Feature URIs (``feature_uris.py``): resolve_index(collection_info, feature_uri) (mixpeek-api.md 3.6 order).
"""

from __future__ import annotations

from mixops.local.engine.clustering import ClusterResult, cluster_attributes, cluster_vectors, load_vectors
from mixops.local.engine.embedder import Embedder, HashingEmbedder
from mixops.local.engine.errors import BadRequest, EngineError, NotFound, Unsupported
from mixops.local.engine.feature_uris import resolve_index
from mixops.local.engine.filters import compile_filter
from mixops.local.engine.memory_store import InMemoryStore
from mixops.local.engine.retrieval import PipelineResult, run_pipeline
from mixops.local.engine.store import CollectionInfo, DocumentStore, VectorIndex
from mixops.local.engine.taxonomy import JoinResult, execute_taxonomy

__all__ = [
    "BadRequest",
    "ClusterResult",
    "CollectionInfo",
    "DocumentStore",
    "Embedder",
    "EngineError",
    "HashingEmbedder",
    "InMemoryStore",
    "JoinResult",
    "NotFound",
    "PipelineResult",
    "Unsupported",
    "VectorIndex",
    "cluster_attributes",
    "cluster_vectors",
    "compile_filter",
    "execute_taxonomy",
    "load_vectors",
    "resolve_index",
    "run_pipeline",
]
