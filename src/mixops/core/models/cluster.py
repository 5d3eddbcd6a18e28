"""Cluster manifests: vector or attribute clustering, typed algorithm parameters.

`vector_config` is discriminated by `clustering_method`, so `algorithm_params`
is checked against the parameters of the chosen method (a kmeans parameter on
a dbscan cluster is an error, not a silent no-op).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, create_model, model_validator

from mixops.core.models.common import LogicalOperator, Name, StrictModel, UserMetadata, tagged_union

ClusteringMethod = Literal[
    "kmeans", "dbscan", "hdbscan", "agglomerative", "spectral", "gaussian_mixture", "mean_shift",
    "optics", "leiden", "evoc", "attribute_based", "auto",
]  # fmt: skip


class KMeansParams(StrictModel):
    n_clusters: int = Field(default=8, ge=2, le=1000)
    max_iter: int = Field(default=300, ge=1, le=10_000)
    random_state: int | None = 42
    n_init: int = Field(default=10, ge=1)
    tol: float = 1e-4
    init: Literal["k-means++", "random"] = "k-means++"
    algorithm: Literal["lloyd", "elkan"] = "lloyd"


class DBSCANParams(StrictModel):
    eps: float = Field(default=0.5, gt=0)
    min_samples: int = Field(default=5, ge=1)
    metric: str = "euclidean"
    algorithm: Literal["auto", "ball_tree", "kd_tree", "brute"] = "auto"
    leaf_size: int = Field(default=30, ge=1)
    p: float | None = None


class HDBSCANParams(StrictModel):
    min_cluster_size: int = Field(default=5, ge=2)
    min_samples: int | None = Field(default=None, ge=1)
    cluster_selection_epsilon: float = Field(default=0.0, ge=0.0)
    max_cluster_size: int | None = Field(default=None, ge=1)
    metric: str = "euclidean"
    alpha: float = 1.0
    cluster_selection_method: Literal["eom", "leaf"] = "eom"
    allow_single_cluster: bool = False


class AgglomerativeParams(StrictModel):
    n_clusters: int | None = Field(default=2, ge=2)
    linkage: Literal["ward", "complete", "average", "single"] = "ward"
    distance_threshold: float | None = None
    metric: str | None = None
    compute_full_tree: bool | Literal["auto"] = "auto"


class SpectralParams(StrictModel):
    n_clusters: int = Field(default=8, ge=2)
    affinity: str = "rbf"
    n_neighbors: int = Field(default=10, ge=1)
    gamma: float = 1.0
    random_state: int | None = 42
    n_init: int = Field(default=10, ge=1)
    assign_labels: Literal["kmeans", "discretize", "cluster_qr"] = "kmeans"


class GaussianMixtureParams(StrictModel):
    n_components: int = Field(default=1, ge=1)
    covariance_type: Literal["full", "tied", "diag", "spherical"] = "full"
    tol: float = 1e-3
    reg_covar: float = Field(default=1e-6, ge=0.0)
    max_iter: int = Field(default=100, ge=1)
    n_init: int = Field(default=1, ge=1)
    init_params: Literal["kmeans", "k-means++", "random", "random_from_data"] = "kmeans"
    random_state: int | None = 42


class MeanShiftParams(StrictModel):
    bandwidth: float | None = None
    bandwidth_quantile: float | None = Field(default=None, le=1.0)
    bin_seeding: bool = False
    min_bin_freq: int = Field(default=1, ge=1)
    cluster_all: bool = True
    max_iter: int = Field(default=300, ge=1)


class OPTICSParams(StrictModel):
    min_samples: int = Field(default=5, ge=2)
    max_eps: float | None = None
    metric: str = "minkowski"
    cluster_method: Literal["xi", "dbscan"] = "xi"
    eps: float | None = None
    xi: float = Field(default=0.05, ge=0.0, le=1.0)
    min_cluster_size: int | float | None = None


class LeidenParams(StrictModel):
    resolution: float = Field(default=1.0, le=100.0)
    n_neighbors: int = Field(default=30, ge=2, le=200)
    metric: str = "cosine"
    objective_function: Literal["RBConfiguration", "modularity", "CPM"] = "RBConfiguration"


class EVoCParams(StrictModel):
    noise_level: float = Field(default=0.5, ge=0.0, le=1.0)
    base_min_cluster_size: int = Field(default=5, ge=2)
    approx_n_clusters: int | None = Field(default=None, ge=2)
    n_neighbors: int = Field(default=15, ge=2, le=200)
    min_samples: int = Field(default=5, ge=1)


class NoParams(StrictModel):
    pass


METHOD_PARAMS: dict[str, type[StrictModel]] = {
    "kmeans": KMeansParams,
    "dbscan": DBSCANParams,
    "hdbscan": HDBSCANParams,
    "agglomerative": AgglomerativeParams,
    "spectral": SpectralParams,
    "gaussian_mixture": GaussianMixtureParams,
    "mean_shift": MeanShiftParams,
    "optics": OPTICSParams,
    "leiden": LeidenParams,
    "evoc": EVoCParams,
    "attribute_based": NoParams,
    "auto": NoParams,
}


class _VectorConfigBase(StrictModel):
    clustering_method: str
    feature_uris: list[str] = Field(min_length=1, description="Each must exist on every input collection.")
    sample_size: int | None = Field(default=None, ge=1, le=1_000_000)
    multi_feature_strategy: Literal["concatenate", "independent", "weighted"] | None = None
    normalize_features: bool | None = None
    feature_weights: dict[str, float] | None = None
    output_strategy: Literal["single", "per_feature"] | None = None
    effective_feature_method: Literal["mean", "median", "medoid"] | None = None
    preprocessing_steps: list[dict[str, Any]] | None = None
    hierarchical: bool | None = None
    max_hierarchy_depth: int | None = Field(default=None, ge=1, le=5)
    vis_n_components: Literal[2, 3] | None = None
    layout_stability: Literal["none", "transform", "align"] | None = None
    face_cluster_merge: dict[str, Any] | None = None
    weight_learning_config: dict[str, Any] | None = None


def _vector_model(method: str, params: type[StrictModel]) -> type[_VectorConfigBase]:
    fields: dict[str, Any] = {
        "clustering_method": (Literal[method], ...),
        "algorithm_params": (params | None, None),
    }
    model: type[_VectorConfigBase] = create_model(f"VectorConfig_{method}", __base__=_VectorConfigBase, **fields)
    return model


VECTOR_MODELS = {m: _vector_model(m, p) for m, p in METHOD_PARAMS.items()}


class UnknownMethodConfig(_VectorConfigBase):
    algorithm_params: dict[str, Any] | None = None

    @model_validator(mode="before")
    @classmethod
    def _refuse(cls, value: Any) -> Any:
        import difflib

        method = value.get("clustering_method") if isinstance(value, dict) else None
        if method is None:
            raise ValueError("`clustering_method` is required (for example kmeans or hdbscan)")
        close = difflib.get_close_matches(str(method), list(METHOD_PARAMS), n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"one of: {', '.join(METHOD_PARAMS)}"
        raise ValueError(f"unknown clustering_method {method!r} ({hint})")


def _method_tag(value: Any) -> str:
    method = value.get("clustering_method") if isinstance(value, dict) else getattr(value, "clustering_method", None)
    return f"~{method}" if method in VECTOR_MODELS else "~unknown_method"


if TYPE_CHECKING:  # mypy cannot see through the runtime-built union
    VectorConfig = Any
else:
    VectorConfig = tagged_union(
        {"~unknown_method": UnknownMethodConfig, **{f"~{k}": m for k, m in VECTOR_MODELS.items()}}, _method_tag
    )


class AttributeConfig(StrictModel):
    attributes: list[str] = Field(min_length=1, description="Dot paths; their order sets the hierarchy.")
    hierarchical_grouping: bool = False
    aggregation_method: Literal["most_frequent", "first", "last"] | None = None


class LabelingInputs(StrictModel):
    input_mappings: list[dict[str, Any]] = Field(min_length=1)


class LLMLabeling(StrictModel):
    enabled: bool = False
    provider: Literal["openai", "google", "anthropic", "typesafe"] | None = None
    model_name: str | None = None
    labeling_inputs: LabelingInputs | None = None
    include_summary: bool | None = None
    include_keywords: bool | None = None
    max_samples_per_cluster: int | None = Field(default=None, ge=1, le=20)
    sample_text_max_length: int | None = Field(default=None, ge=50, le=500)
    sample_selection_strategy: Literal["nearest", "representative"] | None = None
    use_embedding_dedup: bool | None = None
    embedding_similarity_threshold: float | None = Field(default=None, ge=0.5, le=1.0)
    cache_ttl_seconds: int | None = Field(default=None, ge=0, le=2_592_000)
    labeling_context: str | None = Field(default=None, max_length=2000)
    custom_prompt: str | None = None
    response_shape: str | dict[str, Any] | None = None
    parameters: dict[str, Any] | None = None
    candidate_labels: list[str] | dict[str, str] | None = None

    @model_validator(mode="after")
    def _enabled_needs_model(self) -> LLMLabeling:
        if self.enabled and not (self.provider and self.model_name):
            raise ValueError("llm_labeling with enabled: true needs `provider` and `model_name`")
        if self.provider == "typesafe" and not self.candidate_labels:
            raise ValueError("provider 'typesafe' requires `candidate_labels`")
        return self


class FieldMapping(StrictModel):
    source_field: str
    target_field: str


class SourceEnrichmentConfig(StrictModel):
    field_mappings: list[FieldMapping]


class Cluster(StrictModel):
    """A Mixpeek cluster definition. Most config fields are immutable: changing them replaces it."""

    name: Name = Field(description="Identity; sent as `cluster_name`.")
    description: str | None = None
    metadata: UserMetadata | None = None
    collection_ids: list[str] | None = Field(default=None, min_length=1, description="Collection NAMES to cluster.")
    source_cluster_ids: list[str] | None = Field(
        default=None, min_length=1, description="Cluster NAMES (composite clusters)."
    )
    cluster_type: Literal["vector", "attribute"] = "vector"
    vector_config: VectorConfig | None = None
    attribute_config: AttributeConfig | None = None
    filters: LogicalOperator | None = None
    llm_labeling: LLMLabeling | None = None
    enrich_source_collection: bool | None = None
    source_enrichment_config: SourceEnrichmentConfig | None = None
    auto_execute_on_batch: bool | None = None
    auto_execute_min_documents: int | None = Field(default=None, ge=1)
    auto_execute_cooldown_seconds: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _shape(self) -> Cluster:
        if not self.collection_ids and not self.source_cluster_ids:
            raise ValueError("give `collection_ids` (collection names) or `source_cluster_ids`")
        if self.cluster_type == "vector" and self.vector_config is None:
            raise ValueError("cluster_type 'vector' requires `vector_config`")
        if self.cluster_type == "attribute" and self.attribute_config is None:
            raise ValueError("cluster_type 'attribute' requires `attribute_config`")
        if self.cluster_type == "attribute" and self.vector_config is not None:
            raise ValueError("cluster_type 'attribute' takes `attribute_config`, not `vector_config`")
        return self
