"""An in-memory ``DocumentStore``: for engine tests, benchmarks and small embeddings.

Build it with ``add_collection`` / ``add_document`` / ``add_taxonomy`` /
``add_retriever``. Documents may bring vectors (keyed by index name or by feature
URI); missing vectors of an index are computed from the document's text fields
with the store's embedder when the index declares ``text_fields``.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from mixops.local.engine.embedder import Embedder, HashingEmbedder
from mixops.local.engine.errors import BadRequest, NotFound
from mixops.local.engine.store import CollectionInfo, VectorIndex

_ids = itertools.count(1)


def _new_id(prefix: str) -> str:
    return f"{prefix}_mem{next(_ids):06d}"


class InMemoryStore:
    """A ``DocumentStore`` held in dicts; vector matrices are cached until the next write."""

    def __init__(self, embedder: Embedder | None = None) -> None:
        self._embedder: Embedder = embedder or HashingEmbedder()
        self._collections: dict[str, CollectionInfo] = {}
        self._text_fields: dict[str, tuple[str, ...]] = {}
        self._docs: dict[str, dict[str, dict[str, Any]]] = {}
        self._vecs: dict[tuple[str, str], dict[str, npt.NDArray[np.float32]]] = {}
        self._matrix_cache: dict[tuple[str, str], tuple[list[str], npt.NDArray[np.float32]]] = {}
        self._taxonomies: dict[str, dict[str, Any]] = {}
        self._retrievers: dict[str, dict[str, Any]] = {}

    # -- building ---------------------------------------------------------

    @property
    def embedder(self) -> Embedder:
        return self._embedder

    def add_collection(
        self,
        name: str,
        indexes: Sequence[VectorIndex] = (),
        *,
        collection_id: str | None = None,
        text_fields: Sequence[str] = (),
    ) -> CollectionInfo:
        """Register a collection. ``text_fields`` (dot paths) are embedded into every
        index whose dimensions match the embedder when a document brings no vector."""
        info = CollectionInfo(collection_id or _new_id("col"), name, tuple(indexes))
        self._collections[info.collection_id] = info
        self._text_fields[info.collection_id] = tuple(text_fields)
        self._docs[info.collection_id] = {}
        return info

    def add_document(
        self,
        collection_id: str,
        fields: Mapping[str, Any],
        *,
        vectors: Mapping[str, Sequence[float] | npt.NDArray[np.floating[Any]]] | None = None,
        document_id: str | None = None,
    ) -> dict[str, Any]:
        """Store one document (user fields at the root) and its vectors."""
        return self.add_documents(
            collection_id,
            [fields],
            vectors=[vectors or {}],
            document_ids=[document_id] if document_id else None,
        )[0]

    def add_documents(
        self,
        collection_id: str,
        docs: Sequence[Mapping[str, Any]],
        *,
        vectors: Sequence[Mapping[str, Any]] | None = None,
        document_ids: Sequence[str] | None = None,
    ) -> list[dict[str, Any]]:
        """Store many documents at once (text embedding is batched)."""
        info = self._collection(collection_id)
        by_key = {ix.name: ix for ix in info.vector_indexes}
        by_key.update({ix.feature_uri: ix for ix in info.vector_indexes})
        stored: list[dict[str, Any]] = []
        for i, fields in enumerate(docs):
            doc_id = document_ids[i] if document_ids else str(fields.get("document_id") or _new_id("doc"))
            doc = {k: v for k, v in fields.items() if k not in ("document_id", "collection_id")}
            doc = {"document_id": doc_id, "collection_id": collection_id, **doc}
            self._docs[collection_id][doc_id] = doc
            for key, vec in (vectors[i] if vectors else {}).items():
                index = by_key.get(key)
                if index is None:
                    raise BadRequest(
                        f"unknown vector index {key!r} for collection {info.collection_name!r}",
                        {"indexes": sorted(ix.name for ix in info.vector_indexes)},
                    )
                arr = np.asarray(vec, dtype=np.float32)
                if arr.shape != (index.dimensions,):
                    raise BadRequest(f"vector for {index.name!r} must have {index.dimensions} dimensions")
                self._vecs.setdefault((collection_id, index.name), {})[doc_id] = arr
            stored.append(doc)
        self._embed_text_fields(info, stored)
        for index in info.vector_indexes:
            self._matrix_cache.pop((collection_id, index.name), None)
        return stored

    def add_taxonomy(self, taxonomy: Mapping[str, Any]) -> dict[str, Any]:
        """Store a taxonomy create-shape; assigns ``taxonomy_id`` when missing."""
        stored = {"taxonomy_id": taxonomy.get("taxonomy_id") or _new_id("tax"), **taxonomy}
        self._taxonomies[stored["taxonomy_id"]] = stored
        return stored

    def add_retriever(self, retriever: Mapping[str, Any]) -> dict[str, Any]:
        """Store a retriever create-shape; assigns ``retriever_id`` when missing."""
        stored = {"retriever_id": retriever.get("retriever_id") or _new_id("ret"), **retriever}
        self._retrievers[stored["retriever_id"]] = stored
        return stored

    # -- DocumentStore ----------------------------------------------------

    def resolve_collections(self, identifiers: Sequence[str]) -> list[CollectionInfo]:
        out: list[CollectionInfo] = []
        for ident in identifiers:
            info = self._collections.get(ident) or next(
                (c for c in self._collections.values() if c.collection_name == ident), None
            )
            if info is None:
                raise NotFound(f"Collection not found: {ident}", {"collection": ident})
            if info not in out:
                out.append(info)
        return out

    def documents(self, collection_ids: Sequence[str]) -> list[dict[str, Any]]:
        return [doc for cid in collection_ids for doc in self._docs.get(cid, {}).values()]

    def vectors(self, collection_id: str, index_name: str) -> tuple[list[str], npt.NDArray[np.float32]]:
        key = (collection_id, index_name)
        cached = self._matrix_cache.get(key)
        if cached is not None:
            return cached
        info = self._collection(collection_id)
        index = next((ix for ix in info.vector_indexes if ix.name == index_name), None)
        if index is None:
            raise NotFound(f"vector index {index_name!r} not found in collection {info.collection_name!r}")
        stored = self._vecs.get(key, {})
        ids = list(stored)
        matrix = (
            np.vstack([stored[i] for i in ids]).astype(np.float32)
            if ids
            else np.zeros((0, index.dimensions), dtype=np.float32)
        )
        self._matrix_cache[key] = (ids, matrix)
        return ids, matrix

    def get_document(self, collection_id: str, document_id: str) -> dict[str, Any] | None:
        return self._docs.get(collection_id, {}).get(document_id)

    def get_taxonomy(self, identifier: str) -> dict[str, Any] | None:
        return self._taxonomies.get(identifier) or next(
            (t for t in self._taxonomies.values() if t.get("taxonomy_name") == identifier), None
        )

    def get_retriever(self, identifier: str) -> dict[str, Any] | None:
        return self._retrievers.get(identifier) or next(
            (r for r in self._retrievers.values() if r.get("retriever_name") == identifier), None
        )

    # -- internals --------------------------------------------------------

    def _collection(self, collection_id: str) -> CollectionInfo:
        info = self._collections.get(collection_id)
        if info is None:
            raise NotFound(f"Collection not found: {collection_id}", {"collection": collection_id})
        return info

    def _embed_text_fields(self, info: CollectionInfo, docs: list[dict[str, Any]]) -> None:
        fields = self._text_fields.get(info.collection_id, ())
        if not fields:
            return
        for index in info.vector_indexes:
            if index.dimensions != self._embedder.dimensions:
                continue
            have = self._vecs.setdefault((info.collection_id, index.name), {})
            todo = [d for d in docs if d["document_id"] not in have]
            if not todo:
                continue
            texts = [" ".join(_text_of(d, f) for f in fields).strip() for d in todo]
            for doc, vec in zip(todo, self._embedder.embed(texts), strict=True):
                have[doc["document_id"]] = vec


def _text_of(doc: Mapping[str, Any], path: str) -> str:
    value: Any = doc
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return ""
        value = value[part]
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return "" if value is None else str(value)
