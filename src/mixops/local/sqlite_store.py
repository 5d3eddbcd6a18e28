"""The engines' ``DocumentStore`` over the SQLite database, for one namespace.

Reads are cached per process and keyed by the collection's write generation (a
counter bumped in the same transaction as every document write), so a cache entry
is reused until ANY process writes to that collection. The cached document dicts are
shared between requests: engines only read them (the protocol says so), and route code
copies before changing anything.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from mixops.local.db import Database
from mixops.local.engine.embedder import Embedder
from mixops.local.engine.errors import NotFound
from mixops.local.engine.store import CollectionInfo
from mixops.local.vector_indexes import to_engine


class ReadCache:
    """Per-process cache of document lists and vector matrices, keyed by generation."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._docs: dict[tuple[str, str], tuple[int, list[dict[str, Any]]]] = {}
        self._vecs: dict[tuple[str, str, str], tuple[int, list[str], npt.NDArray[np.float32]]] = {}

    def documents(self, db: Database, ns: str, collection_id: str) -> list[dict[str, Any]]:
        gen = db.generation(ns, collection_id)
        with self._lock:
            hit = self._docs.get((ns, collection_id))
        if hit is not None and hit[0] == gen:
            return hit[1]
        docs = [d.body for d in db.documents(ns, collection_id)]
        with self._lock:
            self._docs[(ns, collection_id)] = (gen, docs)
        return docs

    def vectors(
        self, db: Database, ns: str, collection_id: str, index_name: str, dims: int
    ) -> tuple[list[str], npt.NDArray[np.float32]]:
        gen = db.generation(ns, collection_id)
        key = (ns, collection_id, index_name)
        with self._lock:
            hit = self._vecs.get(key)
        if hit is not None and hit[0] == gen:
            return hit[1], hit[2]
        ids, matrix = db.vectors(ns, collection_id, index_name)
        if not ids:
            matrix = np.zeros((0, dims), dtype=np.float32)
        with self._lock:
            self._vecs[key] = (gen, ids, matrix)
        return ids, matrix


class SqliteStore:
    """``DocumentStore`` for the namespace ``namespace_id``."""

    def __init__(self, db: Database, namespace_id: str, embedder: Embedder, cache: ReadCache) -> None:
        self._db = db
        self._ns = namespace_id
        self._embedder = embedder
        self._cache = cache

    @property
    def embedder(self) -> Embedder:
        return self._embedder

    def _info(self, body: dict[str, Any]) -> CollectionInfo:
        return CollectionInfo(
            collection_id=body["collection_id"],
            collection_name=body["collection_name"],
            vector_indexes=to_engine(body.get("vector_indexes") or []),
        )

    def resolve_collections(self, identifiers: Sequence[str]) -> list[CollectionInfo]:
        out: list[CollectionInfo] = []
        for ident in identifiers:
            row = self._db.get(self._ns, "collection", str(ident))
            if row is None:
                raise NotFound(f"Collection not found: {ident}", {"collection": ident})
            info = self._info(row.body)
            if all(o.collection_id != info.collection_id for o in out):
                out.append(info)
        return out

    def documents(self, collection_ids: Sequence[str]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for cid in collection_ids:
            out.extend(self._cache.documents(self._db, self._ns, cid))
        return out

    def vectors(self, collection_id: str, index_name: str) -> tuple[list[str], npt.NDArray[np.float32]]:
        row = self._db.get_by_id(self._ns, "collection", collection_id)
        if row is None:
            raise NotFound(f"Collection not found: {collection_id}", {"collection": collection_id})
        index = next((ix for ix in row.body.get("vector_indexes") or [] if ix["name"] == index_name), None)
        if index is None:
            raise NotFound(
                f"vector index {index_name!r} not found in collection {row.name!r}",
                {"indexes": [ix["name"] for ix in row.body.get("vector_indexes") or []]},
            )
        return self._cache.vectors(self._db, self._ns, collection_id, index_name, int(index["index"]["dimensions"]))

    def get_document(self, collection_id: str, document_id: str) -> dict[str, Any] | None:
        doc = self._db.get_document(self._ns, collection_id, document_id)
        return doc.body if doc else None

    def get_taxonomy(self, identifier: str) -> dict[str, Any] | None:
        row = self._db.get(self._ns, "taxonomy", identifier)
        return dict(row.body) if row else None

    def get_retriever(self, identifier: str) -> dict[str, Any] | None:
        row = self._db.get(self._ns, "retriever", identifier)
        return dict(row.body) if row else None
