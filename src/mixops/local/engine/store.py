"""How the engines read documents: the ``DocumentStore`` protocol.

The HTTP layer (SQLite) and the tests (``memory_store.InMemoryStore``) implement it.
Engines only read; writes are the storage layer's business.

Conventions:

- A stored document is a plain dict: ``document_id``, ``collection_id`` and the user
  fields at the root (exactly the DocumentResponse shape minus ``_internal``).
  Vectors are NOT inside these dicts; they come from :meth:`DocumentStore.vectors`.
- ``vectors(collection_id, index_name)`` returns the ids of the documents that have a
  vector in that index and an ``(n, d)`` float32 matrix whose row ``i`` belongs to
  ``ids[i]``. Implementations should cache it (the engines call it on every search)
  and invalidate on writes. Rows need not be normalised; the engines normalise.
- Identifiers (collections, taxonomies, retrievers) may be an id or a name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from mixops.local.engine.embedder import Embedder


@dataclass(frozen=True)
class VectorIndex:
    """One vector index of a collection (GET /v1/collections/{id}/features, vector_index)."""

    name: str  # storage name, e.g. "text_extractor_v1_embedding"
    feature_uri: str  # e.g. "mixpeek://text_extractor@v1/embedding"
    dimensions: int
    distance: str = "cosine"  # cosine | dot | euclidean | manhattan
    primary: bool = False  # the short URI form (no output segment) maps here


@dataclass(frozen=True)
class CollectionInfo:
    """What the engines need to know about a collection."""

    collection_id: str
    collection_name: str
    vector_indexes: tuple[VectorIndex, ...] = field(default_factory=tuple)


@runtime_checkable
class DocumentStore(Protocol):
    """Read access to one namespace's documents and resources."""

    @property
    def embedder(self) -> Embedder:
        """The text embedder used for text queries (and for text fields at ingest)."""
        ...

    def resolve_collections(self, identifiers: Sequence[str]) -> list[CollectionInfo]:
        """Collections by id or name, in the order given (duplicates removed).

        Raises ``engine.errors.NotFound`` naming the first identifier that matches nothing.
        """
        ...

    def documents(self, collection_ids: Sequence[str]) -> list[dict[str, Any]]:
        """Every stored document of these collections (ids, not names)."""
        ...

    def vectors(self, collection_id: str, index_name: str) -> tuple[list[str], npt.NDArray[np.float32]]:
        """Document ids and their (n, d) float32 vectors for one index of one collection."""
        ...

    def get_document(self, collection_id: str, document_id: str) -> dict[str, Any] | None:
        """One stored document, or None."""
        ...

    def get_taxonomy(self, identifier: str) -> dict[str, Any] | None:
        """A stored taxonomy (create-request shape plus ``taxonomy_id``), by id or name."""
        ...

    def get_retriever(self, identifier: str) -> dict[str, Any] | None:
        """A stored retriever (create-request shape plus ``retriever_id``), by id or name."""
        ...
