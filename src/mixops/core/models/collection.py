"""Collection manifests and the applications attached to collections.

A collection is created once and holds documents; most of its build (source,
extractor) cannot change in place (mixpeek-api.md 3.4). Field names follow the SDK's
CreateCollectionRequest; `name` is sent as `collection_name`. References are NAMES:
an upstream collection in `source`, a taxonomy, cluster or retriever in an
application entry; mixops resolves them to `col_`/`tax_`/`clust_`/`ret_` ids per
namespace at plan time (mixpeek-api.md 9).

Applications (taxonomy_applications, cluster_applications, retriever_enrichments)
are entries of the collection on the wire. mixops manages each entry on its own (an
`Application`): declared inline on a collection, or as a top-level binding that
names a collection another stack owns. Each entry is attached with a PATCH once the
collection and the applied resource exist, which is what the API requires (a
cluster application names a cluster that already clusters this collection), and
prune removes only the entries this stack recorded as its own.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, ValidationError, model_validator

from mixops.core.models.common import LogicalOperator, StrictModel, UserMetadata

# The SDK's format for collection names (3-100 of letters, digits, '_' and '-'), less the
# temporary suffix a replacement is created under (core/live.TEMP_SUFFIX, 12 characters).
COLLECTION_NAME_PATTERN = r"^[A-Za-z0-9_-]{3,88}$"
CollectionName = Annotated[str, Field(pattern=COLLECTION_NAME_PATTERN)]


class FieldPassthrough(StrictModel):
    source_path: str
    target_path: str | None = None
    default: Any = None
    required: bool | None = None


# The SDK's BucketSchemaFieldType: Mixpeek's types, not JSON Schema's ('string', not 'keyword').
BucketFieldType = Literal[
    "string",
    "number",
    "integer",
    "float",
    "boolean",
    "object",
    "array",
    "date",
    "datetime",
    "text",
    "image",
    "audio",
    "video",
    "pdf",
    "excel",
]


class BucketSchemaField(StrictModel):
    """BucketSchemaFieldInput: one field of the objects a collection reads."""

    type: BucketFieldType
    default: Any = None
    items: BucketSchemaField | None = None
    properties: dict[str, BucketSchemaField] | None = None
    examples: list[Any] | None = None
    description: str | None = None
    enum: list[Any] | None = None
    required: bool | None = None


class BucketSchema(StrictModel):
    """BucketSchemaInput, the SDK's type of a collection's `input_schema`: the fields its
    input_mappings and field_passthrough may name, under `properties` (unlike a retriever's
    input_schema, which maps names to fields directly)."""

    properties: dict[str, BucketSchemaField]

    @model_validator(mode="before")
    @classmethod
    def _fields_under_properties(cls, data: Any) -> Any:
        # `{title: {type: string}}`, written the way a retriever's input_schema is: one
        # problem naming the fix with the user's own fields, rather than "missing
        # 'properties'" plus "unknown field 'title'" (and a 422 at apply before this).
        if isinstance(data, dict) and data and "properties" not in data:
            raise ValueError(
                "a collection's input_schema lists its fields under `properties` "
                f"(write `input_schema: {{properties: {_flow(data)}}}`)"
            )
        return data


def _flow(fields: dict[Any, Any]) -> str:
    """`{title: {type: string}}`: the first fields, as YAML flow, for a fix to copy."""
    shown = []
    for name, value in list(fields.items())[:3]:
        if isinstance(value, dict) and all(isinstance(v, str | int | float | bool) for v in value.values()):
            inner = ", ".join(f"{k}: {str(v).lower() if isinstance(v, bool) else v}" for k, v in value.items())
            shown.append(f"{name}: {{{inner}}}")
        else:
            shown.append(f"{name}: {{type: ...}}")
    return "{" + ", ".join(shown) + (", ..." if len(fields) > 3 else "") + "}"


class SourceFilters(StrictModel):
    filters: LogicalOperator


class SourceConfig(StrictModel):
    """Where the collection's documents come from. Upstream collections are NAMES."""

    type: Literal["bucket", "collection", "taxonomy", "cluster", "direct_upsert", "signals", "none"]
    bucket_ids: list[str] | None = Field(default=None, min_length=1)
    source_namespace_id: str | None = None
    collection_id: str | None = Field(default=None, description="Upstream collection NAME (type: collection).")
    collection_ids: list[str] | None = Field(
        default=None, min_length=1, description="Upstream collection NAMES (type: collection)."
    )
    inherited_bucket_ids: list[str] | None = None
    source_filters: SourceFilters | None = None
    field_map: dict[str, list[FieldPassthrough]] | None = None

    @model_validator(mode="after")
    def _shape(self) -> SourceConfig:
        if self.type == "bucket" and not self.bucket_ids:
            raise ValueError("source type 'bucket' requires `bucket_ids`")
        if self.type != "bucket" and self.bucket_ids:
            raise ValueError("`bucket_ids` is only allowed with source type 'bucket'")
        if self.type == "collection" and not (self.collection_id or self.collection_ids):
            raise ValueError("source type 'collection' requires `collection_id` or `collection_ids` (names)")
        if self.collection_id and self.collection_ids:
            raise ValueError("give `collection_id` or `collection_ids`, not both")
        if self.type != "collection" and (self.collection_id or self.collection_ids):
            raise ValueError("`collection_id(s)` is only allowed with source type 'collection'")
        return self


class FeatureExtractor(StrictModel):
    """SharedCollectionFeaturesExtractorsModelsFeatureExtractorConfigInput."""

    feature_extractor_name: str = Field(min_length=1)
    version: str = Field(min_length=1)
    params: dict[str, Any] | None = None
    parameters: dict[str, Any] | None = None
    input_mappings: dict[str, str | list[str]] | list[dict[str, Any]] | None = None
    field_passthrough: list[FieldPassthrough] | None = None
    include_all_source_fields: bool | None = None


class Schedule(StrictModel):
    trigger_type: Literal["cron", "interval"]
    schedule_config: dict[str, Any]
    description: str | None = None


# --- application entries (the SDK's entry models; references are names) ---------------


class TaxonomyApplicationEntry(StrictModel):
    """TaxonomyApplicationConfigInput."""

    taxonomy_id: str = Field(description="Taxonomy NAME.")
    execution_mode: Literal["materialize"] | None = None
    target_collection_id: str | None = Field(default=None, description="Collection NAME to write results into.")
    scroll_filters: LogicalOperator | None = None
    execution_phase: int | None = Field(default=None, ge=1, le=3)
    priority: int | None = Field(default=None, ge=0, le=1000)
    hierarchical_enrichment_style: Literal["full_chain", "best_match", "combined"] | None = None
    # mixops' own key, never sent (bodies.application_entry) and never compared (normalise).
    backfill: bool | None = Field(
        default=None,
        description="mixops only, never sent to the API: when true, apply also enriches the documents already in "
        "the collection (the apply-taxonomy task) whenever this entry is attached or changed, or its taxonomy "
        "gets a new config. Without it only documents ingested afterwards are enriched; `mixops apply --backfill "
        "COLLECTION/TAXONOMY` runs one on demand (docs/collections.md).",
    )


class ClusterApplicationEntry(StrictModel):
    """ClusterApplicationConfig. The cluster must cluster this collection (`collection_ids`)."""

    cluster_id: str = Field(description="Cluster NAME.")
    auto_execute_on_batch: bool | None = None
    min_document_threshold: int | None = None
    cooldown_seconds: int | None = None
    execution_phase: int | None = Field(default=None, ge=1, le=3)
    priority: int | None = Field(default=None, ge=0, le=1000)


class EnrichmentInputMapping(StrictModel):
    input_key: str
    source: dict[str, Any]


class WriteBackField(StrictModel):
    source_field: str
    target_field: str
    mode: Literal["first", "all_as_array", "concat"] | None = None


class RetrieverEnrichmentEntry(StrictModel):
    """RetrieverEnrichmentConfigInput."""

    retriever_id: str = Field(description="Retriever NAME.")
    input_mappings: list[EnrichmentInputMapping] = Field(min_length=1)
    write_back_fields: list[WriteBackField] = Field(min_length=1)
    execution_phase: int | None = Field(default=None, ge=1, le=4)
    priority: int | None = Field(default=None, ge=0, le=1000)
    scroll_filters: LogicalOperator | None = None
    enabled: bool | None = None


# The wire list of each application type, and the entry key naming the applied resource.
ApplicationType = Literal["taxonomy", "cluster", "retriever"]
APPLICATION_LIST: dict[str, str] = {
    "taxonomy": "taxonomy_applications",
    "cluster": "cluster_applications",
    "retriever": "retriever_enrichments",
}
APPLICATION_TARGET: dict[str, str] = {"taxonomy": "taxonomy_id", "cluster": "cluster_id", "retriever": "retriever_id"}
ENTRY_MODELS: dict[str, type[StrictModel]] = {
    "taxonomy": TaxonomyApplicationEntry,
    "cluster": ClusterApplicationEntry,
    "retriever": RetrieverEnrichmentEntry,
}


class Collection(StrictModel):
    """A Mixpeek collection. Its source and extractor cannot change in place: a change there
    replaces it, and a collection holding documents is only replaced or deleted with
    `--allow-data-loss`."""

    name: CollectionName = Field(description="Identity; sent as `collection_name`.")
    description: str | None = None
    source: SourceConfig
    input_schema: BucketSchema | None = None
    feature_extractor: FeatureExtractor | None = None
    features: list[str] | None = Field(default=None, min_length=1)
    enabled: bool | None = None
    metadata: UserMetadata | None = None
    schedule: Schedule | None = None
    taxonomy_applications: list[TaxonomyApplicationEntry] | None = None
    cluster_applications: list[ClusterApplicationEntry] | None = None
    retriever_enrichments: list[RetrieverEnrichmentEntry] | None = None
    embedding_task: (
        Literal["retrieval_document", "retrieval_query", "semantic_similarity", "classification", "clustering"] | None
    ) = None

    @model_validator(mode="after")
    def _one_builder(self) -> Collection:
        if self.feature_extractor is not None and self.features is not None:
            raise ValueError("give `feature_extractor` or `features`, not both (a collection has one builder)")
        if self.feature_extractor is None and self.features is None:
            raise ValueError("a collection needs `feature_extractor` or `features` (what its documents are indexed by)")
        return self


# --- top-level bindings: an application on a collection, entry by entry -----------------


class TaxonomyApplicationBinding(TaxonomyApplicationEntry):
    """`taxonomy_applications:` at the top level: apply a taxonomy to a collection (by name),
    which may be owned by another stack. Only this entry is this stack's."""

    collection: str = Field(description="Collection NAME the taxonomy is applied to.")


class ClusterApplicationBinding(ClusterApplicationEntry):
    collection: str = Field(description="Collection NAME the cluster is applied to.")


class RetrieverEnrichmentBinding(RetrieverEnrichmentEntry):
    collection: str = Field(description="Collection NAME the retriever enriches.")


class Application(StrictModel):
    """One application entry as a resource of its own (kind `application`), named
    `<collection>/<type>/<applied resource>`: the entry's own fields next to `collection`
    and `type`. Built from inline entries and bindings, never written by users."""

    model_config = ConfigDict(extra="allow", strict=True, populate_by_name=True, allow_inf_nan=False)

    name: str
    collection: str
    type: ApplicationType
    # A taxonomy entry's `backfill: true` (mixops only): held apart from the wire entry.
    backfill: bool | None = None

    @model_validator(mode="before")
    @classmethod
    def _entry_fits(cls, data: Any) -> Any:
        if not isinstance(data, dict) or data.get("type") not in ENTRY_MODELS:
            return data
        head = {k: data[k] for k in ("name", "collection", "type", "backfill") if k in data}
        entry = {k: v for k, v in data.items() if k not in head}
        try:
            model = ENTRY_MODELS[data["type"]].model_validate(entry, strict=False)
        except ValidationError as err:
            raise ValueError(str(err)) from None
        # Round trip: defaults are filled the same way on both sides of a diff.
        return {**head, **model.model_dump(mode="json", exclude_none=True, exclude={"backfill"})}

    def entry(self) -> dict[str, Any]:
        """The wire entry (references as they are held: names in manifests, ids once rewritten)."""
        return dict(self.model_extra or {})


def application_name(collection: str, app_type: str, target: str) -> str:
    return f"{collection}/{app_type}/{target}"


__all__ = [
    "APPLICATION_LIST",
    "APPLICATION_TARGET",
    "Application",
    "BucketSchema",
    "ClusterApplicationBinding",
    "ClusterApplicationEntry",
    "Collection",
    "RetrieverEnrichmentBinding",
    "RetrieverEnrichmentEntry",
    "TaxonomyApplicationBinding",
    "TaxonomyApplicationEntry",
    "application_name",
]
