"""The `tests:` vocabulary: test executions that plan and apply run.

A test targets exactly one resource by name (`retriever`, `taxonomy` or
`cluster`) and states expectations about what an execution returns.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Discriminator, Field, Tag, model_validator

from mixops.core.models.common import StrictModel


class TopK(StrictModel):
    """Documents that must appear within the first `k` results."""

    k: int = Field(ge=1)
    contains: list[str] | None = Field(default=None, description="Document ids that must all be in the top k.")
    any_match: dict[str, Any] | None = Field(default=None, description="At least one top-k result has these fields.")
    all_match: dict[str, Any] | None = Field(default=None, description="Every top-k result has these fields.")

    @model_validator(mode="after")
    def _something(self) -> TopK:
        if not (self.contains or self.any_match or self.all_match):
            raise ValueError("top_k needs `contains`, `any_match` or `all_match`")
        return self


class Absent(StrictModel):
    """Documents that must NOT appear within the first `k` results."""

    k: int = Field(ge=1)
    ids: list[str] | None = None
    match: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _something(self) -> Absent:
        if not (self.ids or self.match):
            raise ValueError("absent needs `ids` or `match`")
        return self


class OrderRule(StrictModel):
    before: str = Field(description="Document id that must rank higher...")
    after: str = Field(description="...than this document id.")


class MetricThresholds(StrictModel):
    ndcg: float | None = Field(default=None, ge=0, le=1)
    recall: float | None = Field(default=None, ge=0, le=1)
    precision: float | None = Field(default=None, ge=0, le=1)
    mrr: float | None = Field(default=None, ge=0, le=1)


class Relevance(StrictModel):
    """Graded relevance judgments (document id -> grade, 0 = not relevant)."""

    judgments: dict[str, int] = Field(min_length=1)
    k: int = Field(default=10, ge=1)
    min: MetricThresholds


class RetrieverExpect(StrictModel):
    min_results: int | None = Field(default=None, ge=0)
    max_results: int | None = Field(default=None, ge=0)
    top_k: TopK | None = None
    absent: Absent | None = None
    order: list[OrderRule] | None = None
    min_score: float | None = Field(default=None, description="Score of the first result at least this.")
    max_latency_ms: float | None = Field(default=None, gt=0)
    max_credits: float | None = Field(default=None, ge=0)
    relevance: Relevance | None = None


class Range(StrictModel):
    min: int | None = Field(default=None, ge=0)
    max: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        return self


class ClusterExpect(StrictModel):
    num_clusters: Range | None = None
    min_silhouette: float | None = Field(default=None, ge=-1, le=1)
    max_davies_bouldin: float | None = Field(default=None, ge=0)
    min_cluster_size: int | None = Field(default=None, ge=1)
    same_cluster: list[list[str]] | None = Field(
        default=None, description="Groups of document ids that share a cluster."
    )
    different_cluster: list[list[str]] | None = Field(
        default=None, description="Pairs of document ids in different clusters."
    )


# YAML mapping keys arrive as strings ("0"); a document index is an int written as a key.
def _index_key(value: Any) -> Any:
    return int(value) if isinstance(value, str) and value.isdigit() else value


DocIndex = Annotated[int, BeforeValidator(_index_key), Field(ge=0)]


class TaxonomyExpect(StrictModel):
    labels: dict[DocIndex, list[str]] | None = Field(
        default=None, description="Per sample document (by 0-based index): labels it must be assigned."
    )
    fields: dict[DocIndex, dict[str, Any]] | None = Field(
        default=None, description="Per sample document: enriched field values it must carry."
    )
    unlabeled: list[int] | None = Field(default=None, description="Sample documents that must get no label.")


class DocumentsFrom(StrictModel):
    collection: str = Field(description="Collection NAME.")
    ids: list[str] = Field(min_length=1)


class _TestBase(StrictModel):
    name: str = Field(min_length=1, max_length=200)
    description: str | None = None
    tags: list[str] | None = None


class RetrieverTest(_TestBase):
    retriever: str
    inputs: dict[str, Any] = Field(default_factory=dict)
    filters: dict[str, Any] | None = None
    expect: RetrieverExpect


class TaxonomyTest(_TestBase):
    taxonomy: str
    documents: list[dict[str, Any]] | None = Field(default=None, min_length=1, max_length=50)
    documents_from: DocumentsFrom | None = None
    expect: TaxonomyExpect

    @model_validator(mode="after")
    def _docs(self) -> TaxonomyTest:
        if (self.documents is None) == (self.documents_from is None):
            raise ValueError("give sample `documents` (inline) or `documents_from`, exactly one")
        return self


class ClusterTest(_TestBase):
    cluster: str
    expect: ClusterExpect


class UnknownTest(_TestBase):
    @model_validator(mode="before")
    @classmethod
    def _refuse(cls, value: Any) -> Any:
        targets = [k for k in ("retriever", "taxonomy", "cluster") if isinstance(value, dict) and k in value]
        if len(targets) > 1:
            raise ValueError(f"a test targets one resource; it names {' and '.join(targets)}")
        raise ValueError("a test needs a target: `retriever`, `taxonomy` or `cluster` (a resource name)")


def _test_tag(value: Any) -> str:
    if not isinstance(value, dict):
        return "~unknown"
    targets = [k for k in ("retriever", "taxonomy", "cluster") if k in value]
    return f"~{targets[0]}" if len(targets) == 1 else "~unknown"


Test = Annotated[
    Annotated[RetrieverTest, Tag("~retriever")]
    | Annotated[TaxonomyTest, Tag("~taxonomy")]
    | Annotated[ClusterTest, Tag("~cluster")]
    | Annotated[UnknownTest, Tag("~unknown")],
    Discriminator(_test_tag),
]

TestCase = RetrieverTest | TaxonomyTest | ClusterTest
