"""Taxonomy manifests: flat and hierarchical configs, discriminated by `taxonomy_type`.

References (`retriever_id`, `collection_id`, ...) are NAMES in manifests; mixops
resolves them to `ret_...`/`col_...` in each namespace at plan time.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, model_validator

from mixops.core.models.common import EnrichmentField, Name, StrictModel, UserMetadata


class InputMapping(StrictModel):
    input_key: str
    source_type: Literal["payload", "literal", "vector", "blob"] = "payload"
    path: str | None = None
    override: Any = None

    @model_validator(mode="after")
    def _needs_source(self) -> InputMapping:
        if self.source_type in ("payload", "vector", "blob") and not self.path:
            raise ValueError(f"source_type {self.source_type!r} needs `path` (a dot path in the document)")
        if self.source_type == "literal" and self.override is None:
            raise ValueError("source_type 'literal' needs `override` (the value to send)")
        return self


class SourceCollection(StrictModel):
    collection_id: str = Field(description="Node collection NAME.")
    enrichment_fields: list[EnrichmentField] | None = None


class StepAnalytics(StrictModel):
    timestamp_field: str
    sequence_id_field: str
    step_key_source: Literal["assignment_label", "assignment_node_id", "field_path"] | None = None
    step_key_field_path: str | None = None
    covariates: list[dict[str, Any]] | None = Field(default=None, max_length=20)
    max_sequence_duration_days: int | None = Field(default=None, ge=1, le=365)


class FlatConfig(StrictModel):
    taxonomy_type: Literal["flat"] = "flat"
    retriever_id: str = Field(description="Retriever NAME that matches documents against the nodes.")
    input_mappings: list[InputMapping] = Field(min_length=1)
    source_collection: SourceCollection
    top_k: int = Field(default=1, ge=1, le=50)
    step_analytics: StepAnalytics | None = None


class HierarchicalNode(StrictModel):
    collection_id: str = Field(description="Collection NAME holding this level's nodes.")
    parent_collection_id: str | None = Field(default=None, description="Parent level's collection NAME.")
    label: str | None = None
    summary: str | None = None
    keywords: list[str] | None = None
    retriever_id: str | None = Field(default=None, description="Retriever NAME overriding the default.")
    input_mappings: list[InputMapping] | None = None
    enrichment_fields: list[EnrichmentField] | None = None


class HierarchicalConfig(StrictModel):
    taxonomy_type: Literal["hierarchical"]
    retriever_id: str | None = None
    input_mappings: list[InputMapping] | None = None
    inference_strategy: Literal["schema", "cluster", "llm"] | None = None
    inference_collections: list[str] | None = None
    llm_provider: Literal["openai_chat_v1"] | None = None
    llm_model: str | None = None
    llm_prompt_template: str | None = None
    llm_sample_size: int | None = Field(default=None, ge=0)
    cluster_ids: list[str] | None = Field(default=None, description="Cluster NAMES.")
    cluster_overlap_threshold: float | None = None
    hierarchical_nodes: list[HierarchicalNode] | None = None
    step_analytics: StepAnalytics | None = None
    path_field: str | None = None
    path_separator: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _shape(self) -> HierarchicalConfig:
        if self.path_field and (self.hierarchical_nodes or self.inference_strategy):
            raise ValueError("`path_field` cannot be combined with `hierarchical_nodes` or `inference_strategy`")
        if not (self.hierarchical_nodes or self.inference_strategy or self.path_field):
            raise ValueError("a hierarchical taxonomy needs `hierarchical_nodes`, `inference_strategy` or `path_field`")
        for i, node in enumerate(self.hierarchical_nodes or []):
            if node.retriever_id is None and self.retriever_id is None:
                raise ValueError(f"hierarchical_nodes[{i}] has no retriever_id and there is no taxonomy-level default")
            if node.input_mappings is None and self.input_mappings is None:
                raise ValueError(
                    f"hierarchical_nodes[{i}] has no input_mappings and there is no taxonomy-level default"
                )
        return self


def _taxonomy_tag(value: Any) -> str:
    kind = value.get("taxonomy_type", "flat") if isinstance(value, dict) else getattr(value, "taxonomy_type", "")
    return "~hierarchical" if kind == "hierarchical" else "~flat"


TaxonomyConfig = Annotated[
    Annotated[FlatConfig, Tag("~flat")] | Annotated[HierarchicalConfig, Tag("~hierarchical")],
    Discriminator(_taxonomy_tag),
]


class Taxonomy(StrictModel):
    """A Mixpeek taxonomy. A config change becomes a new version (same id)."""

    name: Name = Field(description="Identity; sent as `taxonomy_name`.")
    description: str | None = None
    config: TaxonomyConfig
    metadata: UserMetadata | None = None


__all__ = [
    "EnrichmentField",
    "FlatConfig",
    "HierarchicalConfig",
    "HierarchicalNode",
    "InputMapping",
    "SourceCollection",
    "Taxonomy",
    "TaxonomyConfig",
]
