"""Document ingestion: validate vectors against a collection's indexes, embed text, store.

Shared by the HTTP routes and the seed loader. A document body keeps the user fields
at the root next to ``document_id`` and ``collection_id`` (the API's DocumentResponse
shape minus ``_internal``). ``vectors`` keys may be an index name, its feature URI, or
the URI's last segment; an unknown key or a wrong dimension is a 422 listing the indexes.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from mixops.local.db import Database, StoredDocument
from mixops.local.engine.embedder import Embedder
from mixops.local.ids import new_id
from mixops.local.problems import invalid
from mixops.local.vector_indexes import resolve_vector_key, text_of

# Keys of a create body that are not user payload.
_RESERVED = ("vectors", "document_id", "collection_id", "_internal", "features")


def content_id(fields: Mapping[str, Any]) -> str:
    """A stable ``doc_`` id from a document's content (seed loading is idempotent)."""
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return "doc_" + hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _index_listing(indexes: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"name": ix["name"], "feature_uri": ix["feature_uri"], "dimensions": ix["index"]["dimensions"]}
        for ix in indexes
    ]


def parse_vectors(
    collection: Mapping[str, Any], raw: Any, where: str = "vectors"
) -> dict[str, npt.NDArray[np.float32]]:
    """``{index_name: vector}`` from a create body's ``vectors`` map, validated."""
    if raw is None:
        return {}
    indexes = collection.get("vector_indexes") or []
    if not isinstance(raw, Mapping):
        raise invalid(f"{where} must be an object keyed by feature URI or index name", indexes=_index_listing(indexes))
    out: dict[str, npt.NDArray[np.float32]] = {}
    for key, value in raw.items():
        index = resolve_vector_key(indexes, str(key))
        if index is None:
            raise invalid(
                f"{where}: unknown vector key '{key}'; this collection's indexes are "
                + (", ".join(f"{ix['name']} ({ix['index']['dimensions']} dims)" for ix in indexes) or "none"),
                code="unknown_vector_index",
                indexes=_index_listing(indexes),
            )
        dims = int(index["index"]["dimensions"])
        if (
            not isinstance(value, list)
            or len(value) != dims
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value)
        ):
            raise invalid(
                f"{where}.{key}: expected a list of {dims} finite numbers for index '{index['name']}'",
                code="vector_dimension_mismatch",
                index=index["name"],
                dimensions=dims,
            )
        out[index["name"]] = np.asarray(value, dtype=np.float32)
    return out


def stored_fields(body: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of a document write body that are stored as the document's own: vectors, ids,
    `features` and `_internal` removed (engine/documents.py `payload_fields` is the read side)."""
    return {k: v for k, v in body.items() if k not in _RESERVED}


def embed_missing(
    collection: Mapping[str, Any],
    embedder: Embedder,
    bodies: Sequence[Mapping[str, Any]],
    vectors: Sequence[dict[str, npt.NDArray[np.float32]]],
) -> None:
    """Fill text-extractor indexes a document brought no vector for (batched embedding)."""
    text_fields = collection.get("text_fields") or []
    if not text_fields:
        return
    for index in collection.get("vector_indexes") or []:
        if index["index"].get("inference_name") != "local_hashing_embedder":
            continue
        todo = [i for i, v in enumerate(vectors) if index["name"] not in v]
        texts = [text_of(bodies[i], text_fields) for i in todo]
        pairs = [(i, t) for i, t in zip(todo, texts, strict=True) if t]
        if not pairs:
            continue
        matrix = embedder.embed([t for _, t in pairs])
        for (i, _), row in zip(pairs, matrix, strict=True):
            vectors[i][index["name"]] = row


def ingest(
    db: Database,
    embedder: Embedder,
    namespace_id: str,
    collection: Mapping[str, Any],
    raw_documents: Sequence[Mapping[str, Any]],
    *,
    id_from_content: bool = False,
    enrich: Callable[[list[dict[str, Any]], list[dict[str, npt.NDArray[np.float32]]]], None] | None = None,
    keep_internal: bool = False,
) -> list[StoredDocument]:
    """Validate, embed and store documents into ``collection`` (its stored body).

    ``enrich`` (``applications.enricher_for``) runs the collection's applications on the
    bodies after embedding and before storing. ``keep_internal`` keeps a body's
    ``_internal`` assignments (an enriched copy written to a target collection).
    """
    cid = str(collection["collection_id"])
    bodies: list[dict[str, Any]] = []
    vectors: list[dict[str, npt.NDArray[np.float32]]] = []
    for i, raw in enumerate(raw_documents):
        if raw.get("collection_id") not in (None, cid, collection.get("collection_name")):
            raise invalid(
                f"documents[{i}].collection_id does not match the collection in the path", code="collection_mismatch"
            )
        fields = stored_fields(raw)
        if keep_internal and isinstance(raw.get("_internal"), Mapping):
            fields["_internal"] = dict(raw["_internal"])
        doc_id = raw.get("document_id")
        if doc_id is not None and (not isinstance(doc_id, str) or not doc_id):
            raise invalid(f"documents[{i}].document_id must be a non-empty string")
        if doc_id is None:
            doc_id = content_id(fields) if id_from_content else new_id("doc")
        bodies.append({"document_id": doc_id, "collection_id": cid, **fields})
        vectors.append(
            parse_vectors(
                collection, raw.get("vectors"), f"documents[{i}].vectors" if len(raw_documents) > 1 else "vectors"
            )
        )
    embed_missing(collection, embedder, bodies, vectors)
    if enrich is not None:
        enrich(bodies, vectors)
    return db.put_documents(namespace_id, cid, [(b["document_id"], b, v) for b, v in zip(bodies, vectors, strict=True)])


def document_view(
    namespace_id: str,
    doc: StoredDocument,
    vectors: Mapping[str, list[float]] | None = None,
    vector_names: Sequence[str] | None = None,
) -> dict[str, Any]:
    """DocumentResponse: the stored body plus ``_internal`` (and vectors on request)."""
    out = dict(doc.body)
    out["_internal"] = {
        **(doc.body.get("_internal") or {}),  # materialised taxonomy assignments (applications.py)
        "document_id": doc.document_id,
        "collection_id": doc.body.get("collection_id"),
        "namespace_id": namespace_id,
        "created_at": doc.created_at,
        "updated_at": doc.updated_at,
    }
    if vector_names is not None:
        out["_vectors"] = list(vector_names)
    for name, vec in (vectors or {}).items():
        out[name] = vec
    return out
