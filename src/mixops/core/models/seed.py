"""The seed file of the embedded local backend (an environment's `seed:`), as a strict model.

A seed file stands in for the data a Mixpeek namespace already holds: documents, and
the collections that hold them when no manifest declares those collections. Checked
like a manifest (unknown keys refused with did-you-mean, located file:line:col) by
`mixops validate` and before the local backend loads it.

Two kinds of `collections:` entry:

- **documents for a collection a manifest declares** (no builder): `collection_name`
  with `documents` and/or `documents_file`, nothing else. The collection's settings come
  from the manifest; the local backend loads the documents when `apply` creates it.
- **a seed-only collection** (a builder: `feature_extractor`, `features`,
  `retriever_transform` or `vector_configs`): created by the seed with these settings,
  as the API's create request has them (plus a chosen `collection_id`).

A seed-only collection's `feature_extractor` is checked with the manifests' model (one
definition of the extractor config). Other nested API objects (sources, schedules,
applications, retrievers) stay free-form here: the local backend holds them to the SDK's
models when it loads the file.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from mixops.core.models.collection import BucketSchema, FeatureExtractor
from mixops.core.models.common import StrictModel

# Keys of a collection entry that are not part of the collection's settings.
DATA_KEYS = ("collection_name", "documents", "documents_file")
BUILDERS = ("feature_extractor", "features", "retriever_transform", "vector_configs")


class SeedVectorConfig(StrictModel):
    """A bring-your-own vector index of a seed-only collection (local backend only)."""

    name: str = Field(min_length=1)
    dimension: int = Field(ge=1)
    metric: Literal["cosine", "euclidean", "dot_product", "dot"] | None = None


class SeedCollection(StrictModel):
    collection_name: str = Field(min_length=1)
    collection_id: str | None = Field(None, pattern=r"^col_[a-zA-Z0-9_]+$")
    description: str | None = None
    source: dict[str, Any] | None = None
    input_schema: BucketSchema | None = None
    feature_extractor: FeatureExtractor | None = None
    features: list[str] | None = None
    vector_configs: list[SeedVectorConfig] | None = None
    retriever_transform: dict[str, Any] | None = None
    enabled: bool | None = None
    metadata: dict[str, Any] | None = None
    schedule: dict[str, Any] | None = None
    taxonomy_applications: list[dict[str, Any]] | None = None
    cluster_applications: list[dict[str, Any]] | None = None
    alert_applications: list[dict[str, Any]] | None = None
    retriever_enrichments: list[dict[str, Any]] | None = None
    embedding_task: str | None = None
    documents: list[dict[str, Any]] | None = None
    documents_file: str | None = Field(None, min_length=1)

    @model_validator(mode="after")
    def _documents_only_or_builder(self) -> SeedCollection:
        if self.builder_keys():
            return self
        settings = sorted(k for k in self.model_fields_set if k not in DATA_KEYS)
        if settings:
            raise ValueError(
                f"settings ({', '.join(settings)}) without a builder: give this seed-only collection a "
                "feature_extractor (or features), or leave its settings to the manifest that declares it "
                "and keep only collection_name, documents and documents_file here"
            )
        return self

    def builder_keys(self) -> list[str]:
        return [k for k in BUILDERS if getattr(self, k) not in (None, [], {})]

    @property
    def documents_only(self) -> bool:
        """True for an entry that only carries documents for a collection declared elsewhere."""
        return not self.builder_keys()


class SeedRetriever(StrictModel):
    """A retriever the seed creates (seeds 000 and 001 name `ret_clip_v1`): the create body."""

    model_config = {**StrictModel.model_config, "extra": "allow"}

    retriever_name: str = Field(min_length=1)
    retriever_id: str | None = Field(None, pattern=r"^ret_[a-zA-Z0-9_]+$")
    stages: list[dict[str, Any]] = Field(min_length=1)


class SeedFile(StrictModel):
    namespace: str | None = Field(None, min_length=1)
    collections: list[SeedCollection] = Field(default_factory=list)
    retrievers: list[SeedRetriever] = Field(default_factory=list)
