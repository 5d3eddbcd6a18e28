"""Request bodies of the local backend (field names from the official SDK models).

Every model allows undeclared keys: routes name them in ``warnings`` (the API's
behaviour until 2026-11-02) or refuse them with 422 ``extra_forbidden`` when the app
runs with ``strict_extra_keys`` (see ``deps.check_extra``). Nested configurations
(stage parameters, taxonomy configs, filters) stay free-form dicts: the engines
validate them and answer with 4xx for what they cannot run.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AliasChoices, BaseModel, ConfigDict, Field

from mixops.core.models.collection import BucketSchema

_UNSAFE = re.compile(r"[\x00-\x1f\x7f/]")
_COLLECTION_NAME = re.compile(r"[A-Za-z0-9_-]{3,100}")


def _path_safe(name: str) -> str:
    """Names are path identifiers (every GET takes "ID or name"): no control characters
    (NUL included) and no '/', so `../x` or `a\x00b` cannot name a resource."""
    bad = _UNSAFE.search(name)
    if bad:
        raise ValueError(f"a name cannot hold {bad.group()!r} (control characters and '/' are refused)")
    return name


def _collection_name(name: str) -> str:
    """The SDK's format for collection names: letters, digits, '_' and '-', 3-100 characters."""
    if not _COLLECTION_NAME.fullmatch(name):
        raise ValueError("a collection name is 3-100 letters, digits, '_' or '-'")
    return name


Name = Annotated[str, AfterValidator(_path_safe)]
CollectionName = Annotated[str, AfterValidator(_collection_name)]


class Loose(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class BudgetLimits(Loose):
    max_credits: float | None = Field(None, ge=0)
    max_time_ms: int | None = Field(None, ge=0)


class StageInnerConfig(Loose):
    stage_id: str = Field(min_length=1)
    parameters: dict[str, Any] = Field(default_factory=dict)
    pre_filters: dict[str, Any] | None = None
    post_filters: Any = None


class StageConfig(Loose):
    stage_name: str = Field(min_length=1)
    stage_type: Literal["filter", "sort", "reduce", "apply", "enrich"] | None = None
    config: StageInnerConfig
    batch_size: str | None = None
    description: str | None = None
    on_error: Literal["skip", "error"] | None = None
    output_alias: str | None = None


class InputSchemaField(Loose):
    type: str = Field(min_length=1)
    required: bool = False
    description: str | None = None
    default: Any = None
    examples: list[Any] | None = None
    enum: list[Any] | None = None


_COLLECTIONS = Field(None, validation_alias=AliasChoices("collection_identifiers", "collection_ids"))


class _RetrieverOverrides(Loose):
    """The retriever fields a clone may override, all optional."""

    retriever_name: Name | None = Field(None, min_length=1, max_length=255)
    description: str | None = None
    collection_identifiers: list[str] | None = _COLLECTIONS
    stages: list[StageConfig] | None = Field(None, min_length=1)
    input_schema: dict[str, InputSchemaField] | None = None
    budget_limits: BudgetLimits | None = None
    tags: list[str] | None = None
    display_config: dict[str, Any] | None = None


class _RetrieverFields(_RetrieverOverrides):
    """A retriever's writable fields, all optional: the PATCH body; create requires some."""

    metadata: dict[str, Any] | None = None
    visibility: Literal["private", "public", "marketplace"] | None = None
    marketplace_listing_id: str | None = None
    requires_subscription: bool | None = None


class CreateRetrieverRequest(_RetrieverFields):
    retriever_name: Name = Field(min_length=1, max_length=255)
    stages: list[StageConfig] = Field(min_length=1)


class PatchRetrieverRequest(_RetrieverFields):
    pass


class CloneRetrieverRequest(_RetrieverOverrides):
    retriever_name: Name = Field(min_length=1, max_length=255)


class ExecuteRetrieverRequest(Loose):
    inputs: dict[str, Any] | None = None
    filters: dict[str, Any] | None = None
    pagination: dict[str, Any] | None = None
    limit: int | None = Field(None, ge=1, le=500, validation_alias=AliasChoices("limit", "page_size"))
    stream: bool = False
    expand: list[str] | None = None
    skip_cache: bool = False
    return_presigned_urls: bool = False
    return_vectors: bool = False
    explain: bool = False


class AdhocExecuteRequest(Loose):
    collection_identifiers: list[str] | None = _COLLECTIONS
    input_schema: dict[str, InputSchemaField] | None = None
    stages: list[StageConfig] = Field(min_length=1)
    inputs: dict[str, Any] | None = None
    filters: dict[str, Any] | None = None
    budget_limits: BudgetLimits | None = None
    pagination: dict[str, Any] | None = None
    limit: int | None = Field(None, ge=1, le=500)
    stream: bool = False


class ListRequest(Loose):
    """Common list body (filters, sort(s), search and body pagination)."""

    search: str | None = None
    filters: dict[str, Any] | None = None
    sort: dict[str, Any] | None = None
    sorts: list[dict[str, Any]] | None = None
    case_sensitive: bool = False
    limit: int | None = Field(None, ge=1, le=1000)
    page_size: int | None = Field(None, ge=1, le=1000)
    offset: int | None = Field(None, ge=0, le=10000)
    page: int | None = Field(None, ge=1)
    cursor: str | None = None
    include_total: bool | None = None


class CreateNamespaceRequest(Loose):
    namespace_name: Name = Field(min_length=3, max_length=64)
    namespace_id: Name | None = Field(None, min_length=1, max_length=100)
    description: str | None = None
    mode: str | None = None
    features: list[str] | None = None
    feature_extractors: list[dict[str, Any]] | None = None
    vector_configs: list[dict[str, Any]] | None = None
    payload_indexes: list[dict[str, Any]] | None = None


class PatchNamespaceRequest(Loose):
    namespace_name: Name | None = Field(None, min_length=3, max_length=64)
    description: str | None = None
    feature_extractors: list[dict[str, Any]] | None = None
    payload_indexes: list[dict[str, Any]] | None = None
    auto_create_indexes: bool | None = None
    adaptive_indexing: bool | None = None


class _CollectionFields(Loose):
    """The fields a collection's create and PATCH bodies both take, all optional."""

    collection_name: CollectionName | None = Field(None, min_length=1, max_length=100)
    description: str | None = None
    enabled: bool | None = None
    metadata: dict[str, Any] | None = None
    schedule: dict[str, Any] | None = None
    taxonomy_applications: list[dict[str, Any]] | None = None
    cluster_applications: list[dict[str, Any]] | None = None
    alert_applications: list[dict[str, Any]] | None = None
    retriever_enrichments: list[dict[str, Any]] | None = None
    retriever_transform: dict[str, Any] | None = None


class CreateCollectionRequest(_CollectionFields):
    collection_name: CollectionName = Field(min_length=1, max_length=100)
    collection_id: str | None = Field(
        None, pattern=r"^col_[a-zA-Z0-9_]+$", description="Local backend only: choose the id (seed data)"
    )
    source: dict[str, Any] | None = None
    input_schema: BucketSchema | None = None  # the manifests' model: validate refuses what this route refuses
    feature_extractor: dict[str, Any] | None = None
    features: list[str] | None = None
    vector_configs: list[dict[str, Any]] | None = None
    embedding_task: str | None = None


class PatchCollectionRequest(_CollectionFields):
    """The keys of core/surfaces.COLLECTION_PATCHABLE (the SDK types this body as a free object)."""

    index_map: dict[str, str] | None = None
    tiering: dict[str, Any] | None = None


class ApplyTaxonomyRequest(Loose):
    taxonomy_id: str
    scroll_filters: dict[str, Any] | None = None
    batch_size: int = Field(1000, ge=100, le=5000, strict=True)
    parallelism: int = Field(4, ge=1, le=20, strict=True)
    budget_limits: BudgetLimits | None = None


class ListDocumentsRequest(ListRequest):
    return_vectors: bool = False
    return_vector_names: bool | list[str] | None = None
    select: list[str] | None = None


class CreateTaxonomyRequest(Loose):
    taxonomy_name: Name = Field(min_length=1, max_length=255)
    description: str | None = None
    config: dict[str, Any]
    metadata: dict[str, Any] | None = None


class PatchTaxonomyRequest(Loose):
    taxonomy_name: Name | None = Field(None, min_length=1, max_length=255)
    description: str | None = None
    metadata: dict[str, Any] | None = None


class CloneTaxonomyRequest(Loose):
    taxonomy_name: Name = Field(min_length=1, max_length=255)
    description: str | None = None
    config: dict[str, Any] | None = None


class ExecuteTaxonomyRequest(Loose):
    taxonomy: dict[str, Any] | None = None
    retriever: dict[str, Any] | None = None
    source_documents: list[dict[str, Any]] | None = None
    source_collection_id: str | None = None
    target_collection_id: str | None = None
    join_mode: Literal["on_demand", "batch"] | None = None
    batch_size: int | None = Field(None, ge=1, le=10000)
    scroll_filters: dict[str, Any] | None = None


class CreateClusterRequest(Loose):
    collection_ids: list[str] | None = Field(None, min_length=1)
    source_cluster_ids: list[str] | None = Field(None, min_length=1)
    cluster_name: Name | None = Field(None, min_length=1, max_length=255)
    description: str | None = None
    metadata: dict[str, Any] | None = None
    cluster_type: Literal["vector", "attribute"] | None = None
    vector_config: dict[str, Any] | None = None
    attribute_config: dict[str, Any] | None = None
    filters: dict[str, Any] | None = None
    llm_labeling: dict[str, Any] | None = None
    enrich_source_collection: bool | None = None
    source_enrichment_config: dict[str, Any] | None = None
    auto_execute_on_batch: bool | None = None
    auto_execute_min_documents: int | None = None
    auto_execute_cooldown_seconds: int | None = None


class PatchClusterRequest(Loose):
    cluster_name: Name | None = Field(None, min_length=1, max_length=255)
    description: str | None = None
    metadata: dict[str, Any] | None = None
    llm_labeling: dict[str, Any] | None = None
    filters: dict[str, Any] | None = None
    face_cluster_merge: dict[str, Any] | None = None
    sample_size: int | None = Field(None, ge=1, le=1_000_000)
    algorithm_params: dict[str, Any] | None = None
    source_cluster_ids: list[str] | None = None
    layout_stability: Literal["none", "transform", "align"] | None = None


class ExecuteClusterRequest(Loose):
    mode: Literal["full", "assign", "composite"] | None = None
    source_execution_ids: list[str] | None = None
    assignment_threshold: float | None = Field(None, ge=0, le=1)
    filters: dict[str, Any] | None = None
    sample_size: int | None = Field(None, ge=1, le=1_000_000)
    vis_n_components: Literal[2, 3] | None = None


class FeatureVector(Loose):
    vector_name: str | None = None
    feature_address: str | None = None


class AttributeConfig(Loose):
    attributes: list[str] | None = None
    hierarchical_grouping: bool | None = None
    aggregation_method: str | None = None


class LlmLabeling(Loose):
    enabled: bool | None = None
    provider: str | None = None
    model_name: str | None = None
    include_keywords: bool | None = None
    include_summary: bool | None = None


class AdhocClusterConfig(Loose):
    """Seed 003's ``config`` (the route is documented by that page only)."""

    algorithm: str | None = None
    algorithm_params: dict[str, Any] | None = None
    feature_vector: FeatureVector | None = None
    attribute_config: AttributeConfig | None = None
    normalize_features: bool | None = None
    description: str | None = None
    llm_labeling: LlmLabeling | None = None


class AdhocClusterRequest(Loose):
    collection_ids: list[str] = Field(min_length=1)
    config: AdhocClusterConfig
    namespace_id: str | None = None
    internal_id: str | None = None
    sample_size: int | None = Field(None, ge=1, le=1_000_000)
    store_results: bool = True
    include_members: bool = False
    compute_metrics: bool = True
    save_artifacts: bool = False
