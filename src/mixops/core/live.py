"""The live state of a namespace as plain data (pure): what the live reader returns."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mixops.core.feature_uris import ExtractorCatalog

# Suffix of the temporary name a replacement is created under (DESIGN.md 3:
# replace without downtime). Kept short: names are capped at 90 + this.
TEMP_SUFFIX = "--mixops-new"


def fingerprint(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class VectorIndexInfo:
    name: str
    feature_uri: str


@dataclass(frozen=True)
class LiveCollection:
    id: str
    name: str
    indexes: tuple[VectorIndexInfo, ...] = ()
    # CollectionResponse.document_count: documented as approximate (a cached count), so the
    # plan reads an exact count (LiveState.document_counts) before it deletes or replaces.
    document_count: int | None = None

    def has_feature(self, uri: str) -> bool:
        """Resolve a feature URI against this collection (mixpeek-api.md 3.6 order)."""
        if any(ix.feature_uri == uri for ix in self.indexes):
            return True
        if not uri.startswith("mixpeek://"):
            return any(ix.name == uri for ix in self.indexes)
        body = uri.removeprefix("mixpeek://")
        ext_ver, _, output = body.partition("/")
        extractor, _, version = ext_ver.partition("@")
        names = {ix.name for ix in self.indexes}
        if output:
            return output in names or f"{extractor}_{version}_{output}" in names
        prefix = f"mixpeek://{extractor}@{version}/"
        return sum(1 for ix in self.indexes if ix.feature_uri.startswith(prefix)) >= 1


@dataclass(frozen=True)
class LiveResource:
    kind: str
    id: str
    name: str
    spec: dict[str, Any]  # manifest shape, references as names
    metadata: dict[str, Any]  # raw metadata, ownership keys included
    fingerprint: str
    version: int | None = None
    published: bool = False

    @property
    def owner_stack(self) -> str | None:
        if self.metadata.get("managed_by") == "mixops":
            stack = self.metadata.get("mixops_stack")
            return str(stack) if stack is not None else None
        return None


@dataclass(repr=False)
class LiveState:
    namespace: str
    resources: dict[tuple[str, str], LiveResource] = field(default_factory=dict)
    collections: dict[str, LiveCollection] = field(default_factory=dict)
    requests: int = 0
    # Collection name -> number of documents, counted for the collections a plan would delete
    # or replace (ports/reconcile.py reads them; None: the count could not be read).
    document_counts: dict[str, int | None] = field(default_factory=dict)
    # The extractor catalog, read only for a plan that builds a collection some feature URI is
    # used on (ports/capabilities.read_extractor_catalog); None: not read.
    extractor_catalog: ExtractorCatalog | None = None

    # Short on purpose: see the hazard noted at Plan.__repr__ (core/plan.py).
    def __repr__(self) -> str:
        return f"LiveState({self.namespace!r}, resources={len(self.resources)}, collections={len(self.collections)})"
