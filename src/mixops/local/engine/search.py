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

The parameters arrive validated and typed (``stage_parsing.py``, the models of
``core.models.retriever_stages``, which follow the SDK's StageParamsFeatureSearch and its
query oneOf). Query modes: ``text`` (``value`` or legacy ``text``) and ``content`` given as
plain text are embedded with the store's embedder (the index must have the embedder's
dimensions); ``vector`` takes ``value``; ``document`` reuses the stored vector of
``document_ref{collection_id, document_id}``; ``multi_content`` and content from URLs need a
model: Unsupported. (The SDK's FeatureSearchQuery, with ``text``/``url``/``image``/``vector``,
is the body of ``POST /v1/features/search``, not of this stage.)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mixops.core.models.retriever_stages import (
    ContentQuery,
    DocumentQuery,
    FeatureSearchParams,
    Query,
    TextQuery,
    VectorQuery,
)
from mixops.local.engine.errors import BadRequest, NotFound, Unsupported
from mixops.local.engine.feature_uris import find_index
from mixops.local.engine.filters import Predicate, always
from mixops.local.engine.scoring import score_matrix, top_k
from mixops.local.engine.stage_parsing import concrete_int
from mixops.local.engine.store import CollectionInfo, DocumentStore, VectorIndex

RRF_K = 60

Key = tuple[str, str]  # (collection_id, document_id)
Vector = npt.NDArray[np.float32]


@dataclass
class SearchOutcome:
    """Fused hits, best first, and how many vectors were scored."""

    hits: list[tuple[Key, float]]
    scored: int
    per_search: list[int]


class EmptyQuery(BadRequest):
    """A search's query resolved to nothing (a missing or empty input)."""


def run_feature_search(
    store: DocumentStore,
    collections: Sequence[CollectionInfo],
    params: FeatureSearchParams,
    predicate: Predicate,
    restrict: set[Key] | None,
    where: str,
) -> SearchOutcome:
    """The steps of the module docstring, over parameters already validated (stage_parsing.py)."""
    if params.fusion == "learned":
        raise Unsupported(f"{where}.fusion: 'learned' fusion is not supported by the local backend")
    final_top_k = concrete_int(params.final_top_k, f"{where}.final_top_k")
    stage_cols = _restrict_collections(store, collections, params.collection_identifiers)
    allowed = _Allowed(store, predicate, restrict)
    if not params.searches:
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
    for i, search in enumerate(params.searches):
        w = f"{where}.searches[{i}]"
        cols = _restrict_collections(store, stage_cols, search.collection_identifiers)
        found = [(col, ix) for col in cols if (ix := find_index(col, search.feature_uri)) is not None]
        if not found:
            names = ", ".join(c.collection_name for c in cols)
            raise BadRequest(f"{w}.feature_uri: {search.feature_uri!r} matches no vector index of {names}")
        try:
            query_for = _query_resolver(store, search.query, w)
        except EmptyQuery:
            if search.on_empty == "skip" or search.optional:
                continue
            raise
        k = concrete_int(search.top_k, f"{w}.top_k")
        min_score = _concrete_score(search.min_score, f"{w}.min_score")
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
                if value == -np.inf or (min_score is not None and value < min_score):
                    continue
                hits.append(((col.collection_id, ids[row]), value))
        hits.sort(key=lambda h: (-h[1], h[0]))
        ranked.append((search.weight, hits[:k]))
    fused = fuse(ranked, params.fusion or "rrf")
    return SearchOutcome(fused[:final_top_k], scored, [len(h) for _, h in ranked])


class _Allowed:
    """Per collection: the ids ``pre_filters``, the request ``filters`` and the previous stage
    allow (None: every document), computed once per collection."""

    def __init__(self, store: DocumentStore, predicate: Predicate, restrict: set[Key] | None) -> None:
        self.store, self.predicate, self.restrict = store, predicate, restrict
        self.cache: dict[str, set[str] | None] = {}

    def __call__(self, cid: str) -> set[str] | None:
        if cid not in self.cache:
            if self.predicate is always and self.restrict is None:
                self.cache[cid] = None
            else:
                ids = {d["document_id"] for d in self.store.documents([cid]) if self.predicate(d)}
                if self.restrict is not None:
                    ids &= {did for c, did in self.restrict if c == cid}
                self.cache[cid] = ids
        return self.cache[cid]


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


def _concrete_score(value: float | str | None, where: str) -> float | None:
    if isinstance(value, str):
        raise BadRequest(f"{where}: {value!r} is not an input template; only {{{{INPUT.name}}}} is substituted here")
    return value


def _restrict_collections(
    store: DocumentStore, collections: Sequence[CollectionInfo], identifiers: list[str] | None
) -> list[CollectionInfo]:
    return store.resolve_collections(identifiers) if identifiers else list(collections)


def _query_resolver(store: DocumentStore, query: Query, where: str) -> Callable[[VectorIndex], Vector]:
    """A function index -> query vector for that index."""
    if isinstance(query, ContentQuery) and query.value is None and query.content is not None:
        raise Unsupported(
            f"{where}.query.content: content from URLs or files needs a model; local backend only embeds text"
        )
    if isinstance(query, TextQuery | ContentQuery):
        value = query.text if isinstance(query, TextQuery) and query.value is None else query.value
        if isinstance(value, list):
            return _vector_resolver(value, f"{where}.query.value")
        return _text_resolver(store, value, query.input_mode, where)
    if isinstance(query, VectorQuery):
        if query.value is None:
            raise EmptyQuery(f"{where}.query: the query vector is empty (is the input provided?)")
        if isinstance(query.value, str):
            raise BadRequest(f"{where}.query.value: must be a list of numbers, got the string {query.value!r}")
        return _vector_resolver(query.value, f"{where}.query.value")
    if isinstance(query, DocumentQuery):
        return _document_resolver(store, query.document_ref.collection_id, query.document_ref.document_id, where)
    raise Unsupported(
        f"{where}.query.input_mode: {query.input_mode!r} queries need a model; local backend only embeds text"
    )


def _text_resolver(store: DocumentStore, value: str | None, mode: str, where: str) -> Callable[[VectorIndex], Vector]:
    if value is None or not value.strip():
        raise EmptyQuery(f"{where}.query: the query text is empty (is the input provided?)")
    if mode == "content" and value.startswith(("http://", "https://", "s3://", "data:")):
        raise Unsupported(
            f"{where}.query: content queries from URLs or files need a model; local backend only embeds text"
        )
    vector: Vector = store.embedder.embed([value])[0]

    def for_text(index: VectorIndex) -> Vector:
        if index.dimensions != vector.shape[0]:
            raise BadRequest(
                f"{where}.query: index {index.name!r} has {index.dimensions} dimensions but the local text "
                f"embedder makes {vector.shape[0]}; send input_mode 'vector' for this index"
            )
        return vector

    return for_text


def _document_resolver(
    store: DocumentStore, collection: str, doc_id: str, where: str
) -> Callable[[VectorIndex], Vector]:
    col = store.resolve_collections([collection])[0]

    def for_document(index: VectorIndex) -> Vector:
        ids, matrix = store.vectors(col.collection_id, index.name)
        try:
            row = ids.index(doc_id)
        except ValueError:
            raise NotFound(f"{where}.query.document_ref: document {doc_id!r} has no {index.name!r} vector") from None
        vector: Vector = matrix[row]
        return vector

    return for_document


def _vector_resolver(value: list[float] | list[list[float]], where: str) -> Callable[[VectorIndex], Vector]:
    if value and isinstance(value[0], list):
        raise Unsupported(f"{where}: multi-vector queries are not supported by the local backend")
    vector = np.asarray(value, dtype=np.float32)
    if vector.size == 0:
        raise BadRequest(f"{where}: must be a non-empty list of numbers")
    return lambda index: vector
