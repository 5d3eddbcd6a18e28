"""Retriever manifests: the API's CreateRetrieverRequest with `name` for identity."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from mixops.core.models.common import Name, StrictModel, UserMetadata
from mixops.core.models.retriever_stages import StageConfig

InputType = Literal[
    "string", "number", "integer", "float", "boolean", "object", "array", "date", "datetime",
    "text", "image", "audio", "video", "pdf", "excel", "document_reference",
]  # fmt: skip


class InputSchemaField(StrictModel):
    type: InputType
    required: bool = False
    default: Any = None
    description: str | None = None
    examples: list[Any] | None = None
    enum: list[Any] | None = None
    items: InputSchemaField | None = None
    properties: dict[str, InputSchemaField] | None = None


class BudgetLimits(StrictModel):
    max_credits: float | None = Field(default=None, ge=0)
    max_time_ms: int | None = Field(default=None, ge=0)


class Retriever(StrictModel):
    """A Mixpeek retriever. `collection_identifiers` are collection NAMES."""

    name: Name = Field(description="Identity; sent as `retriever_name`.")
    description: str | None = None
    collection_identifiers: list[str] = Field(
        default_factory=list, description="Collection names; resolved by Mixpeek per namespace."
    )
    stages: list[StageConfig] = Field(min_length=1)
    input_schema: dict[str, InputSchemaField] = Field(default_factory=dict)
    budget_limits: BudgetLimits | None = Field(
        default=None, description="Immutable in Mixpeek: changing it replaces the retriever."
    )
    tags: list[str] | None = None
    metadata: UserMetadata | None = None
    display_config: dict[str, Any] | None = None
    visibility: Literal["private", "public", "marketplace"] | None = None
