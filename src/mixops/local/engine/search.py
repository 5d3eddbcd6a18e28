"""The ``feature_search`` stage: vector searches over stored documents, fused.

Steps (mixpeek-api.md 3.6, "Emulator retrieval"): resolve each search's feature URI
per collection; embed or fetch the query vector; score every candidate row with
numpy; drop rows excluded by ``pre_filters`` AND the request ``filters`` (and, when
the stage is not first, rows that were not in the previous stage's output); keep
``top_k`` per search (across collections) and apply ``min_score``; fuse; cut to
``final_top_k``.

Fusion (with several searches; a single search keeps its raw scores):
``rrf`` sum of weight/(60 + rank); ``dbsf`` sum of weight * min-max-normalised
score; ``weighted`` sum of weight * score; ``max`` the best raw score. ``learned``
needs Mixpeek's bandit service: Unsupported.

Query modes: ``text`` (``value`` or legacy ``text``) and ``content`` given as plain
text are embedded with the store's embedder (the index must have the embedder's
dimensions); ``vector`` takes ``value``/``vector``; ``document`` reuses the stored
vector of ``document_ref{collection_id, document_id}``. A bare string query is text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from mixops.local.engine.errors import BadRequest, NotFound, Unsupported
from mixops.local.engine.feature_uris import find_index
from mixops.local.engine.filters import Predicate, always
from mixops.local.engine.scoring import score_matrix, top_k
from mixops.local.engine.store import CollectionInfo, DocumentStore, VectorIndex

RRF_K = 60
FUSIONS = ("rrf", "dbsf", "weighted", "max")

Key = tuple[str, str]  # (collection_id, document_id)


@dataclass
class SearchOutcome:
    """Fused hits, best first, and how many vectors were scored."""

    hits: list[tuple[Key, float]]
    scored: int
    per_search: list[int]


class EmptyQuery(BadRequest):
    """A search's query resolved to nothing (a missing or empty input)."""


# Over 80 lines on purpose: the steps of the module docstring in order, sharing the per-collection
# filter cache; the query, fusion and collection helpers are separate functions below.
def run_feature_search(
    store: DocumentStore,
    collections: Sequence[CollectionInfo],
    params: Mapping[str, Any],
    predicate: Predicate,
    restrict: set[Key] | None,
    where: str,
) -> SearchOutcome:
    searches = params.get("searches")
    if searches is None:
        searches = []
    if not isinstance(searches, list):
        raise BadRequest(f"{where}.searches: must be a list")
    fusion = str(params.get("fusion") or "rrf").lower()
    if fusion == "learned":
        raise Unsupported(f"{where}.fusion: 'learned' fusion is not supported by the local backend")
    if fusion not in FUSIONS:
        raise BadRequest(f"{where}.fusion: unknown fusion {fusion!r}; expected one of {', '.join(FUSIONS)}")
    final_top_k = _positive_int(params.get("final_top_k", 25), f"{where}.final_top_k")
    stage_cols = _restrict_collections(store, collections, params.get("collection_identifiers"), where)
    allowed_cache: dict[str, set[str] | None] = {}

    def allowed(cid: str) -> set[str] | None:
        if cid not in allowed_cache:
            if predicate is always and restrict is None:
                allowed_cache[cid] = None
            else:
                ids = {d["document_id"] for d in store.documents([cid]) if predicate(d)}
                if restrict is not None:
                    ids &= {did for c, did in restrict if c == cid}
                allowed_cache[cid] = ids
        return allowed_cache[cid]

    if not searches:
        # Filter-only search: every allowed document, unscored (score 1.0), in store order.
        hits: list[tuple[Key, float]] = []
        for col in stage_cols:
            ok = allowed(col.collection_id)
            hits.extend(
                ((col.collection_id, d["document_id"]), 1.0)
                for d in store.documents([col.collection_id])
                if ok is None or d["document_id"] in ok
            )
        return SearchOutcome(hits[:final_top_k], 0, [])

    ranked: list[tuple[float, list[tuple[Key, float]]]] = []
    scored = 0
    for i, search in enumerate(searches):
        w = f"{where}.searches[{i}]"
        if not isinstance(search, Mapping):
            raise BadRequest(f"{w}: must be an object")
        uri = search.get("feature_uri")
        if not isinstance(uri, str):
            raise BadRequest(f"{w}.feature_uri: required (a feature URI string)")
        k = _positive_int(search.get("top_k", 100), f"{w}.top_k")
        weight = search.get("weight", 1.0)
        if isinstance(weight, bool) or not isinstance(weight, int | float):
            raise BadRequest(f"{w}.weight: must be a number")
        min_score = search.get("min_score")
        cols = _restrict_collections(store, stage_cols, search.get("collection_identifiers"), w)
        found = [(col, ix) for col in cols if (ix := find_index(col, uri)) is not None]
        if not found:
            names = ", ".join(c.collection_name for c in cols)
            raise BadRequest(f"{w}.feature_uri: {uri!r} matches no vector index of {names}")
        try:
            query_for = _query_resolver(store, search.get("query"), w)
        except EmptyQuery:
            on_empty = search.get("on_empty", "error")
            if on_empty == "skip" or search.get("optional") is True:
                continue
            raise
        hits = []
        for col, index in found:
            ids, matrix = store.vectors(col.collection_id, index.name)
            scores = score_matrix(matrix, query_for(index), index.distance)
            scored += len(ids)
            ok = allowed(col.collection_id)
            if ok is not None:
                mask = np.fromiter((doc_id in ok for doc_id in ids), dtype=bool, count=len(ids))
                scores = np.where(mask, scores, -np.inf).astype(np.float32)
            for row in top_k(scores, k):
                value = float(scores[row])
                if value == -np.inf or (min_score is not None and value < float(min_score)):
                    continue
                hits.append(((col.collection_id, ids[row]), value))
        hits.sort(key=lambda h: (-h[1], h[0]))
        ranked.append((float(weight), hits[:k]))
    fused = fuse(ranked, fusion)
    return SearchOutcome(fused[:final_top_k], scored, [len(h) for _, h in ranked])


def fuse(ranked: list[tuple[float, list[tuple[Key, float]]]], fusion: str) -> list[tuple[Key, float]]:
    """Combine per-search hit lists (best first) into one list, best first."""
    if not ranked:
        return []
    if len(ranked) == 1:
        return list(ranked[0][1])
    totals: dict[Key, float] = {}
    for weight, hits in ranked:
        if fusion == "dbsf" and hits:
            values = [s for _, s in hits]
            low, high = min(values), max(values)
            span = high - low
        for rank, (key, score) in enumerate(hits, start=1):
            if fusion == "rrf":
                contribution = weight / (RRF_K + rank)
            elif fusion == "dbsf":
                contribution = weight * ((score - low) / span if span > 0 else 1.0)
            elif fusion == "weighted":
                contribution = weight * score
            else:  # max
                totals[key] = max(totals.get(key, -np.inf), score)
                continue
            totals[key] = totals.get(key, 0.0) + contribution
    return sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))


def _positive_int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise BadRequest(f"{where}: must be an integer >= 1")
    return value


def _restrict_collections(
    store: DocumentStore, collections: Sequence[CollectionInfo], identifiers: Any, where: str
) -> list[CollectionInfo]:
    if not identifiers:
        return list(collections)
    if not isinstance(identifiers, list) or not all(isinstance(i, str) for i in identifiers):
        raise BadRequest(f"{where}.collection_identifiers: must be a list of names or ids")
    return store.resolve_collections(identifiers)


def _query_resolver(store: DocumentStore, query: Any, where: str) -> Any:
    """A function index -> query vector for that index."""
    if isinstance(query, str):
        query = {"input_mode": "text", "value": query}
    if not isinstance(query, Mapping):
        raise BadRequest(f"{where}.query: required (an object with input_mode)")
    mode = query.get("input_mode", "text")
    if mode in ("text", "content"):
        value = query.get("value", query.get("text"))
        if mode == "content" and isinstance(value, list):
            return _vector_resolver(value, f"{where}.query.value")
        if value is None or (isinstance(value, str) and not value.strip()):
            raise EmptyQuery(f"{where}.query: the query text is empty (is the input provided?)")
        if not isinstance(value, str):
            raise BadRequest(f"{where}.query.value: must be a string for input_mode {mode!r}")
        if mode == "content" and value.startswith(("http://", "https://", "s3://", "data:")):
            raise Unsupported(
                f"{where}.query: content queries from URLs or files need a model; local backend only embeds text"
            )
        vector: npt.NDArray[np.float32] = store.embedder.embed([value])[0]

        def for_text(index: VectorIndex) -> npt.NDArray[np.float32]:
            if index.dimensions != vector.shape[0]:
                raise BadRequest(
                    f"{where}.query: index {index.name!r} has {index.dimensions} dimensions but the local text "
                    f"embedder makes {vector.shape[0]}; send input_mode 'vector' for this index"
                )
            return vector

        return for_text
    if mode == "vector":
        value = query.get("value", query.get("vector"))
        if value is None:
            raise EmptyQuery(f"{where}.query: the query vector is empty (is the input provided?)")
        return _vector_resolver(value, f"{where}.query.value")
    if mode == "document":
        ref = query.get("document_ref")
        if not isinstance(ref, Mapping) or not ref.get("collection_id") or not ref.get("document_id"):
            raise BadRequest(f"{where}.query.document_ref: needs collection_id and document_id")
        col = store.resolve_collections([str(ref["collection_id"])])[0]
        doc_id = str(ref["document_id"])

        def for_document(index: VectorIndex) -> npt.NDArray[np.float32]:
            ids, matrix = store.vectors(col.collection_id, index.name)
            try:
                row = ids.index(doc_id)
            except ValueError:
                raise NotFound(
                    f"{where}.query.document_ref: document {doc_id!r} has no {index.name!r} vector"
                ) from None
            vector: npt.NDArray[np.float32] = matrix[row]
            return vector

        return for_document
    raise BadRequest(f"{where}.query.input_mode: {mode!r} is not supported; use text, content, vector or document")


def _vector_resolver(value: Any, where: str) -> Any:
    if isinstance(value, list) and value and isinstance(value[0], list):
        raise Unsupported(f"{where}: multi-vector queries are not supported by the local backend")
    try:
        vector = np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError):
        raise BadRequest(f"{where}: must be a list of numbers") from None
    if vector.ndim != 1 or vector.size == 0:
        raise BadRequest(f"{where}: must be a non-empty list of numbers")
    return lambda index: vector
