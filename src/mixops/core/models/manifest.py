"""One manifest file (one YAML document): Mixpeek's manifest layout."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from mixops.core.models.cluster import Cluster
from mixops.core.models.collection import (
    ClusterApplicationBinding,
    Collection,
    RetrieverEnrichmentBinding,
    TaxonomyApplicationBinding,
)
from mixops.core.models.common import Name, StrictModel
from mixops.core.models.retriever import Retriever
from mixops.core.models.taxonomy import Taxonomy
from mixops.core.models.tests import Test

SUPPORTED_VERSIONS = ("1.0",)

ParamType = Literal["string", "integer", "number", "boolean"]


class Parameter(StrictModel):
    """A declared `${{ params.NAME }}` value: typed, optionally an enum, with a default."""

    name: Name
    type: ParamType = "string"
    description: str | None = None
    default: Any = None
    enum: list[Any] | None = None

    # Field validators (not one model validator) so a problem is located at the value.
    @field_validator("enum")
    @classmethod
    def _enum_fits(cls, enum: list[Any] | None, info: ValidationInfo) -> list[Any] | None:
        from mixops.core.placeholders import value_problem

        for value in enum or []:
            problem = value_problem(info.data.get("type", "string"), None, value)
            if problem:
                raise ValueError(problem)
        return enum

    @field_validator("default")
    @classmethod
    def _default_fits(cls, default: Any, info: ValidationInfo) -> Any:
        from mixops.core.placeholders import value_problem

        if default is not None:
            problem = value_problem(info.data.get("type", "string"), info.data.get("enum"), default)
            if problem:
                raise ValueError(problem)
        return default


class Metadata(StrictModel):
    name: str | None = None
    description: str | None = None
    labels: dict[str, str] | None = None


class ManifestFile(StrictModel):
    """The top level of a manifest YAML document."""

    version: Literal["1.0"] = Field(description='Manifest format version; only "1.0" exists.')
    metadata: Metadata | None = None
    parameters: list[Parameter] = Field(default_factory=list)
    collections: list[Collection] = Field(default_factory=list)
    retrievers: list[Retriever] = Field(default_factory=list)
    taxonomies: list[Taxonomy] = Field(default_factory=list)
    clusters: list[Cluster] = Field(default_factory=list)
    taxonomy_applications: list[TaxonomyApplicationBinding] = Field(
        default_factory=list, description="Taxonomies applied to collections this stack may not own (per entry)."
    )
    cluster_applications: list[ClusterApplicationBinding] = Field(
        default_factory=list, description="Clusters applied to collections this stack may not own (per entry)."
    )
    retriever_enrichments: list[RetrieverEnrichmentBinding] = Field(
        default_factory=list, description="Retriever enrichments of collections this stack may not own (per entry)."
    )
    tests: list[Test] = Field(default_factory=list)
