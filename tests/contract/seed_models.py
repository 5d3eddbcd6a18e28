"""Routes the SDK does not type, held to their seed page's fields (shared/seeds/).

Written from the pages, field for field (types as the pages give them; descriptions
kept where they name the keys of a free-form object, since reads below such an
object are checked against that prose). Every model forbids what it does not list.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Seed(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---- seed 003: POST /v1/clusters/execute ----------------------------------------------


class FeatureVector003(_Seed):
    vector_name: str | None = None
    feature_address: str | None = None


class AttributeConfig003(_Seed):
    attributes: list[str]
    hierarchical_grouping: bool | None = None
    aggregation_method: str | None = None


class LlmLabeling003(_Seed):
    enabled: bool | None = None
    provider: str | None = None
    model_name: str | None = None
    include_keywords: bool | None = None
    include_summary: bool | None = None


class ClusteringConfig003(_Seed):
    algorithm: Literal[
        "kmeans", "dbscan", "hdbscan", "agglomerative", "spectral", "gaussian_mixture", "mean_shift", "optics",
        "attribute_based",
    ]  # fmt: skip
    algorithm_params: dict[str, Any] | None = None
    feature_vector: FeatureVector003 | None = None
    attribute_config: AttributeConfig003 | None = None
    normalize_features: bool | None = None
    description: str | None = None
    llm_labeling: LlmLabeling003 | None = None


class ClusterExecuteRequest003(_Seed):
    collection_ids: list[str] = Field(min_length=1)
    config: ClusteringConfig003
    namespace_id: str | None = None
    internal_id: str | None = None
    sample_size: int | None = None
    store_results: bool = True
    include_members: bool = False
    compute_metrics: bool = True
    save_artifacts: bool = False


class ClusterCentroid003(_Seed):
    cluster_id: str | None = None
    centroid_vector: list[float] | None = None
    feature_dimensions: int | None = None
    num_members: int | None = None
    vector_name: str | None = None


class ClusterExecuteResponse003(_Seed):
    success: bool
    algorithm: str
    num_clusters: int
    num_documents: int
    centroids: list[ClusterCentroid003]
    execution_time_ms: int
    run_id: str | None = None
    metrics: dict[str, Any] | None = Field(
        default=None, description="Clustering quality metrics (example: silhouette_score, davies_bouldin_score)"
    )
    parquet_path: str | None = None
    members_key: str | None = None
    created_at: str | None = None


# ---- seed 002: POST /v1/retrievers/execute (the SDK types the response as `object`) -------


class StageStatistics002(_Seed):
    stages: dict[str, Any] | None = None
    total_time_ms: float | None = None
    credits_used: float | None = None


class AdhocExecuteResponse002(_Seed):
    execution_id: str
    status: str
    documents: list[dict[str, Any]] | None = Field(
        default=None,
        description="Each document may include: document_id, payload (full document data), score (relevance "
        "score), metadata (collection-specific fields), and any fields added by enrichment/join stages.",
    )
    pagination: dict[str, Any] | None = None
    stage_statistics: StageStatistics002 | None = None
    budget: dict[str, Any] | None = Field(
        default=None,
        description="Contains: credits_used (credits consumed), credits_remaining (remaining budget), "
        "time_used_ms (execution time), and budget limits.",
    )
    error: str | None = None


SEED_BODIES: dict[str, type[BaseModel]] = {"POST /v1/clusters/execute": ClusterExecuteRequest003}
SEED_RESPONSES: dict[str, type[BaseModel]] = {
    "POST /v1/clusters/execute": ClusterExecuteResponse003,
    "POST /v1/retrievers/execute": AdhocExecuteResponse002,
}
