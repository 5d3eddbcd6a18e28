"""One manifest file (one YAML document): Mixpeek's manifest layout."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from mixops.core.models.cluster import Cluster
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

    @model_validator(mode="after")
    def _default_fits(self) -> Parameter:
        from mixops.core.placeholders import check_param_value

        if self.default is not None:
            problem = check_param_value(self, self.default)
            if problem:
                raise ValueError(f"default: {problem}")
        if self.enum is not None:
            for value in self.enum:
                problem = check_param_value(self.model_copy(update={"enum": None}), value)
                if problem:
                    raise ValueError(f"enum: {problem}")
        return self


class Metadata(StrictModel):
    name: str | None = None
    description: str | None = None
    labels: dict[str, str] | None = None


class ManifestFile(StrictModel):
    """The top level of a manifest YAML document."""

    version: Literal["1.0"] = Field(description='Manifest format version; only "1.0" exists.')
    metadata: Metadata | None = None
    parameters: list[Parameter] = Field(default_factory=list)
    retrievers: list[Retriever] = Field(default_factory=list)
    taxonomies: list[Taxonomy] = Field(default_factory=list)
    clusters: list[Cluster] = Field(default_factory=list)
    tests: list[Test] = Field(default_factory=list)
