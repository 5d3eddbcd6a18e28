"""Retriever stages: `StageConfig` and typed parameters per stage id.

The stage catalog is server-driven in Mixpeek (`GET /v1/retrievers/stages`); the
SDK ships one parameter model per stage. Stages mixops knows well get typed
parameters here (typos in parameter names are errors); the rest of the catalog
(mixpeek-api.md 5.9) is accepted with free parameters; an unknown `stage_id` is
an error with a did-you-mean.

Discriminated unions insert a tag into pydantic's error location; every tag
here starts with `~` so the error formatter can drop it (see `locations.py`).
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, field_validator, model_validator

from mixops.core.models.common import (
    EnrichmentField,
    FilterOperator,
    LogicalOperator,
    StrictModel,
    Template,
    tagged_union,
)

StageType = Literal["filter", "sort", "reduce", "apply", "enrich"]

# Stage integers within the API's bounds, or a `{{INPUT.x}}` template (stage parameters
# accept templated strings; their value is only known at execution).
SearchTopK = Annotated[int, Field(ge=1, le=5000)] | Template
RerankTopK = Annotated[int, Field(ge=1)] | Template
MMRTopK = Annotated[int, Field(ge=1, le=500)] | Template
Score = Annotated[float, Field(ge=0.0, le=1.0)] | Template


# --- feature_search ---------------------------------------------------------


# The query inputs of the SDK's oneOf (StageDefs*QueryInput): `value` is optional in each, as a
# template naming an optional input that was not sent leaves it out; the engine then applies
# the search's `on_empty`/`optional`.
class TextQuery(StrictModel):
    input_mode: Literal["text"] = "text"
    value: str | None = None
    text: str | None = Field(default=None, description="Legacy alias of `value`.")
    embedding_task: (
        Literal["retrieval_query", "retrieval_document", "semantic_similarity", "classification", "none"] | None
    ) = None


class VectorQuery(StrictModel):
    input_mode: Literal["vector"]
    value: list[float] | list[list[float]] | str | None = None


class DocumentRef(StrictModel):
    collection_id: str
    document_id: str


class DocumentQuery(StrictModel):
    input_mode: Literal["document"]
    document_ref: DocumentRef


class ContentInput(StrictModel):
    """The legacy form of a content query's input: a URL or base64 content."""

    url: str | None = None
    base64: str | None = None


class ContentQuery(StrictModel):
    input_mode: Literal["content"]
    value: str | list[float] | None = None
    content: ContentInput | None = Field(default=None, description="Legacy form; prefer `value`.")


class MultiContentQuery(StrictModel):
    input_mode: Literal["multi_content"]
    values: list[str] = Field(min_length=1)


def _query_tag(value: Any) -> str:
    # A dict when validating, a model instance when serialising: both must pick the same member,
    # or pydantic warns (on stderr, on every command) that it serialised a VectorQuery as TextQuery.
    mode = value.get("input_mode", "text") if isinstance(value, dict) else getattr(value, "input_mode", "text")
    return f"~{mode}" if mode in ("text", "vector", "document", "content", "multi_content") else "~text"


Query = Annotated[
    Annotated[TextQuery, Tag("~text")]
    | Annotated[VectorQuery, Tag("~vector")]
    | Annotated[DocumentQuery, Tag("~document")]
    | Annotated[ContentQuery, Tag("~content")]
    | Annotated[MultiContentQuery, Tag("~multi_content")],
    Discriminator(_query_tag),
]


class FeatureSearch(StrictModel):
    feature_uri: str = Field(min_length=1, description="e.g. mixpeek://text_extractor@v1/embedding")
    query: Query
    top_k: SearchTopK = 100
    min_score: Score | None = None
    weight: float = Field(default=1.0, ge=0.0, le=1.0)
    lexical: bool = False
    optional: bool = False
    on_empty: Literal["error", "skip", "random"] | None = None
    query_preprocessing: dict[str, Any] | None = None
    collection_identifiers: list[str] | None = None


class FeatureSearchGroupBy(StrictModel):
    field: str
    max_per_group: int = Field(default=1, ge=1, le=100)
    limit: int = Field(default=25, ge=1, le=500)
    output_mode: Literal["first", "all", "flatten"] = "all"


class FacetField(StrictModel):
    key: str
    limit: int = Field(default=10, ge=1, le=1000)
    exact: bool = False


class FeatureSearchParams(StrictModel):
    searches: list[FeatureSearch] = Field(default_factory=list, max_length=10)
    final_top_k: SearchTopK = 25
    fusion: Literal["rrf", "dbsf", "weighted", "max", "learned"] | None = None
    learning_config: dict[str, Any] | None = None
    facets: list[FacetField] | None = None
    group_by: FeatureSearchGroupBy | None = None
    collection_identifiers: list[str] | None = None
    query_preprocessing: dict[str, Any] | None = None
    auto_preprocess: bool = True
    cache_behavior: Literal["auto", "disabled", "aggressive"] | None = None
    cache_ttl_seconds: int | None = Field(default=None, ge=0)
    hard_timeout_ms: int | None = Field(default=None, ge=1)
    interactive: bool = False
    degrade_retry: bool = False

    @model_validator(mode="after")
    def _learned_needs_config(self) -> FeatureSearchParams:
        if self.fusion == "learned" and self.learning_config is None:
            raise ValueError("fusion 'learned' requires `learning_config`")
        return self


class HybridSearchParams(StrictModel):
    """The seed's flat form (POST /v1/retrievers/execute example); same meaning as a
    one-search feature_search. Prefer `feature_search` with `searches`."""

    feature_uri: str = Field(min_length=1)
    query_text: str
    top_k: SearchTopK = 100


# --- filters and sorts ------------------------------------------------------


class AttributeFilterParams(StrictModel):
    field: str | None = None
    operator: FilterOperator | None = None
    value: Any = None
    conditions: LogicalOperator | None = None
    natural_language: str | None = None
    field_hints: list[str] | None = None
    batch_size: int = Field(default=100, ge=1, le=1000)
    case_insensitive: bool = False

    @model_validator(mode="after")
    def _one_mode(self) -> AttributeFilterParams:
        simple = self.field is not None or self.operator is not None
        if self.conditions is not None and simple:
            raise ValueError("use either `conditions` or `field`/`operator`/`value`, not both")
        if self.conditions is None and self.natural_language is None and self.field is None:
            raise ValueError("give `field`, `operator` and `value`, or `conditions`")
        return self


Direction = Literal["asc", "desc"]


class SortRelevanceParams(StrictModel):
    score_field: str = "score"
    direction: Direction | None = None
    missing_score: Literal["bottom", "top", "preserve"] = "bottom"
    feature_address: str | None = Field(
        default=None, description="Deprecated, no effect; refused by the API from 2026-11-02."
    )

    @field_validator("feature_address")
    @classmethod
    def _deprecated(cls, value: str | None) -> str | None:
        if value is not None:
            raise ValueError("`feature_address` has no effect and is refused by Mixpeek since 2026-11-02; remove it")
        return value


class SortAttributeParams(StrictModel):
    field: str = "metadata.created_at"
    direction: Direction | None = None
    nulls_last: bool = True


class RerankParams(StrictModel):
    inference_name: str | None = None
    feature_uri: str | None = None
    query: str = "{{INPUT.query}}"
    document_field: str = "content"
    top_k: RerankTopK | None = None
    max_candidates: int = Field(default=10, ge=1, le=1000)
    score_field: str = "scores.rerank"
    batch_size: int = Field(default=32, ge=1, le=100)
    max_document_chars: int = Field(default=2000, ge=100, le=50000)
    max_concurrent_batches: int = Field(default=3, ge=1, le=10)
    decision_model: str | None = None
    relevance_criteria: str | None = None
    learning_config: dict[str, Any] | None = None
    hard_timeout_ms: int | None = Field(default=None, ge=1)
    cache_behavior: Literal["auto", "disabled", "aggressive"] | None = None
    cache_ttl_seconds: int | None = Field(default=None, ge=0)


class DiversityFeature(StrictModel):
    feature_uri: str
    weight: float = Field(default=1.0, ge=0.0, le=1.0)


class MMRParams(StrictModel):
    lambda_: float = Field(default=0.7, ge=0.0, le=1.0, alias="lambda")
    top_k: MMRTopK = 25
    diversity_feature_uri: str | None = None
    diversity_features: list[DiversityFeature] | None = None
    diversity_fields: list[str] | None = None
    diversity_field_weights: dict[str, float] | None = None
    score_field: str = "score"
    mmr_score_field: str = "scores.mmr"
    similarity_metric: Literal["cosine", "dot", "euclidean"] = "cosine"


class GroupByParams(StrictModel):
    group_by_field: str = "source_object_id"
    max_per_group: int = Field(default=10, ge=1, le=1000)
    output_mode: Literal["first", "all", "flatten"] = "all"


class SampleParams(StrictModel):
    count: int = Field(default=10, ge=1, le=1000)
    strategy: Literal["random", "stratified", "reservoir"] = "random"
    stratify_by: str | None = None
    min_per_stratum: int = Field(default=1, ge=0)
    seed: int | None = None
    preserve_top_k: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _stratified(self) -> SampleParams:
        if self.strategy == "stratified" and not self.stratify_by:
            raise ValueError("strategy 'stratified' requires `stratify_by`")
        return self


# --- enrichment -------------------------------------------------------------


class TaxonomyEnrichParams(StrictModel):
    taxonomy_id: str = Field(description="Taxonomy NAME in manifests; mixops resolves it to tax_... per namespace.")
    fields: list[EnrichmentField] | None = None
    top_k: int = Field(default=3, ge=1, le=50)
    min_score: float = Field(default=0.0, ge=0.0, le=1.0)
    when: LogicalOperator | None = None


class DocumentEnrichParams(StrictModel):
    retriever_id: str | None = Field(default=None, description="Retriever NAME in manifests.")
    retriever_config: dict[str, Any] | None = None
    retriever_inputs: dict[str, Any] | None = None
    target_collection_id: str | None = Field(default=None, description="Collection NAME in manifests.")
    source_field: str = "source_object_id"
    target_field: str = "document_id"
    fields_to_merge: list[str] | None = None
    output_field: str | None = None
    strategy: Literal["enrich", "replace", "append"] = "enrich"
    when: LogicalOperator | None = None
    allow_missing: bool = True
    cache_behavior: Literal["auto", "disabled", "aggressive"] | None = None
    cache_ttl_seconds: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _source(self) -> DocumentEnrichParams:
        if self.retriever_id is None and self.retriever_config is None and self.target_collection_id is None:
            raise ValueError("give `target_collection_id` (direct join) or `retriever_id`/`retriever_config`")
        return self


# --- the stage config ---------------------------------------------------------

TYPED_PARAMS: dict[str, type[StrictModel]] = {
    "feature_search": FeatureSearchParams,
    "hybrid_search": HybridSearchParams,
    "attribute_filter": AttributeFilterParams,
    "sort_relevance": SortRelevanceParams,
    "sort_attribute": SortAttributeParams,
    "rerank": RerankParams,
    "mmr": MMRParams,
    "group_by": GroupByParams,
    "sample": SampleParams,
    "taxonomy_enrich": TaxonomyEnrichParams,
    "document_enrich": DocumentEnrichParams,
}

# The rest of the catalog in mixpeek-api.md 5.9, accepted with free parameters.
FREE_STAGES = (
    "llm_filter",
    "maxsim_rerank",
    "aggregate",
    "cluster",
    "summarize",
    "llm_enrich",
    "rag_prepare",
    "json_transform",
    "sql_lookup",
    "external_web_search",
    "external_reverse_image",
    "query_expand",
    "api_call",
    "code_execution",
    "web_scrape",
)

# Older or prose names that Mixpeek still accepts for a catalog stage.
STAGE_ALIASES = {"feature_filter": "feature_search", "taxonomy_join": "taxonomy_enrich"}

KNOWN_STAGES = tuple(sorted([*TYPED_PARAMS, *FREE_STAGES, *STAGE_ALIASES]))

DEFAULT_STAGE_TYPE: dict[str, StageType] = {
    "feature_search": "filter", "hybrid_search": "filter", "feature_filter": "filter", "attribute_filter": "filter",
    "llm_filter": "filter", "query_expand": "filter", "sort_relevance": "sort", "sort_attribute": "sort",
    "rerank": "sort", "mmr": "sort", "maxsim_rerank": "sort", "group_by": "reduce", "aggregate": "reduce",
    "sample": "reduce", "cluster": "reduce", "summarize": "reduce", "taxonomy_enrich": "apply",
    "taxonomy_join": "apply", "document_enrich": "apply", "llm_enrich": "apply", "rag_prepare": "apply",
    "json_transform": "apply", "sql_lookup": "apply", "external_web_search": "apply",
    "external_reverse_image": "apply", "api_call": "enrich", "code_execution": "enrich", "web_scrape": "enrich",
}  # fmt: skip


class _StageInner(StrictModel):
    stage_id: str
    pre_filters: LogicalOperator | None = Field(
        default=None, description="Sibling of `parameters`; narrows candidates before the stage runs."
    )
    post_filters: LogicalOperator | None = Field(
        default=None, description="Accepted by Mixpeek but NOT applied; mixops warns about it."
    )


def _make_inner(stage_id: str, params: type[StrictModel]) -> type[_StageInner]:
    from pydantic import create_model

    fields: dict[str, Any] = {
        "stage_id": (Literal[stage_id], ...),
        "parameters": (params, Field(default_factory=params)),
    }
    model: type[_StageInner] = create_model(f"StageConfig_{stage_id}", __base__=_StageInner, **fields)
    return model


class _UntypedStageInner(_StageInner):
    """A stage whose parameters mixops does not model: a free-form mapping."""

    parameters: dict[str, Any] = Field(default_factory=dict)


class FreeStageInner(_UntypedStageInner):
    """A catalog stage mixops passes through with free-form parameters."""

    @field_validator("stage_id")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in FREE_STAGES:
            raise ValueError(f"stage {value!r} is not a free-parameter stage")
        return value


class UnknownStageInner(_UntypedStageInner):
    """Matches only to produce a did-you-mean error for an unknown stage id."""

    @field_validator("stage_id")
    @classmethod
    def _unknown(cls, value: str) -> str:
        close = difflib.get_close_matches(value, KNOWN_STAGES, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else f" (known stages: {', '.join(KNOWN_STAGES)})"
        raise ValueError(f"unknown stage {value!r}{hint}")


_INNER_MODELS = {sid: _make_inner(sid, p) for sid, p in TYPED_PARAMS.items()}
# Aliases validate with the parameters of the stage they stand for.
_INNER_MODELS.update({alias: _make_inner(alias, TYPED_PARAMS[target]) for alias, target in STAGE_ALIASES.items()})


def _stage_tag(value: Any) -> str:
    sid = value.get("stage_id") if isinstance(value, dict) else getattr(value, "stage_id", None)
    if sid in _INNER_MODELS:
        return f"~{sid}"
    if sid in FREE_STAGES:
        return "~free"
    return "~unknown"


if TYPE_CHECKING:  # mypy cannot see through the runtime-built union
    StageInner = Any
else:
    StageInner = tagged_union(
        {"~free": FreeStageInner, "~unknown": UnknownStageInner, **{f"~{sid}": m for sid, m in _INNER_MODELS.items()}},
        _stage_tag,
    )


class StageConfig(StrictModel):
    """One stage of a retriever pipeline, in Mixpeek's StageConfig shape."""

    stage_name: str = Field(min_length=1, description="Instance label; key in stage_statistics.")
    stage_type: StageType | None = Field(default=None, description="Inferred from stage_id when omitted.")
    config: StageInner
    batch_size: str | None = None
    description: str | None = None
    on_error: Literal["skip", "error"] | None = None
    output_alias: str | None = None

    @property
    def stage_id(self) -> str:
        return str(self.config.stage_id)

    def parameters_dict(self) -> dict[str, Any]:
        params = self.config.parameters
        if isinstance(params, dict):
            return params
        dumped: dict[str, Any] = params.model_dump(by_alias=True, exclude_unset=True)
        return dumped
