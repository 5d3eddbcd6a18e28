"""Retriever stages other than ``feature_search`` (see ``search.py``).

Each handler takes the stage context, the previous stage's documents (``None``
when no stage has produced candidates yet), the stage's parameters (validated and
typed by ``stage_parsing.py`` with the models of ``core.models.retriever_stages``,
inputs substituted), its compiled ``pre_filters`` and the parameters' location for
messages, and returns a ``StageOutput``. Defaults are the models'. Behaviour per stage id:

- ``attribute_filter``: first stage: fetches the collections' documents matching
  the filter, ``pre_filters`` and the request ``filters`` (at most 1,000 per
  collection, score 1.0); later: filters the previous stage's documents.
- ``sort_attribute``: ``field`` (default metadata.created_at), ``direction`` (desc),
  ``nulls_last`` (true). Numbers sort before strings; other values by their text.
- ``sort_relevance``: ``score_field`` (score), ``direction`` (desc), ``missing_score``
  bottom|top|preserve.
- ``rerank``: LOCAL STAND-IN for a cross-encoder: the first ``max_candidates`` (10)
  documents are re-scored by the cosine between the embedding of ``query``
  (default the ``query`` input) and the embedding of ``document_field`` (content);
  the score goes to ``score_field`` (scores.rerank) and to ``score``; the reranked
  documents come first, the rest keep their order after them; ``top_k`` cuts.
  ``inference_name``/``feature_uri`` are accepted and ignored.
- ``mmr``: greedy maximal marginal relevance over ``diversity_feature_uri`` vectors
  (default: the last feature_search's first URI), ``diversity_features`` (weighted)
  or ``diversity_fields`` (equal values = similar); relevance is the min-max
  normalised ``score_field``; writes ``mmr_score_field``; keeps ``top_k`` (25).
- ``group_by``: ``group_by_field`` (source_object_id), ``max_per_group`` (10),
  ``output_mode``: first (best per group), flatten (group members, flat), all
  (one document per group: the best member's ids and score plus ``group_key``,
  ``count`` and ``documents``).
- ``sample``: ``count`` (10), ``strategy`` random|reservoir|stratified
  (``stratify_by``, ``min_per_stratum``), ``preserve_top_k``; ``seed`` defaults to
  0 so runs repeat; the sample keeps input order.
- ``taxonomy_enrich``: runs the stored taxonomy on each document (see taxonomy.py),
  ``fields`` overriding its enrichment fields, ``top_k`` (3), ``min_score``, ``when``.
  Documents are enriched in place (N in, N out: no 1-to-N fan-out).
- ``document_enrich``: direct joins only (``target_collection_id``,
  ``source_field``, ``target_field``, ``fields_to_merge``, ``output_field``,
  ``strategy`` enrich|replace|append, ``allow_missing``, ``when``); retriever-based
  joins are Unsupported.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mixops.core.models.retriever_stages import (
    AttributeFilterParams,
    DocumentEnrichParams,
    GroupByParams,
    MMRParams,
    RerankParams,
    SampleParams,
    SortAttributeParams,
    SortRelevanceParams,
    TaxonomyEnrichParams,
)
from mixops.local.engine import documents as D
from mixops.local.engine.errors import BadRequest, NotFound, Unsupported
from mixops.local.engine.feature_uris import find_index
from mixops.local.engine.filters import Predicate, always, and_all, attribute_filter_predicate, compile_filter
from mixops.local.engine.stage_parsing import concrete_int
from mixops.local.engine.store import CollectionInfo, DocumentStore
from mixops.local.engine.templates import substitute

FIRST_STAGE_FETCH_LIMIT = 1000


@dataclass
class StageContext:
    """What a stage may read besides its parameters."""

    store: DocumentStore
    collections: list[CollectionInfo]
    inputs: Mapping[str, Any]
    request_filter: Predicate
    warnings: list[str]
    search_uris: list[str] = field(default_factory=list)  # feature URIs of earlier feature_search stages
    extra_credits: float = 0.0  # credits of nested executions (taxonomy_enrich)


@dataclass
class StageOutput:
    documents: list[dict[str, Any]]
    units: int
    metadata: dict[str, Any] = field(default_factory=dict)


Docs = list[dict[str, Any]] | None
# The parameters' type is the stage's model; the table below pairs each handler with its stage id.
Handler = Callable[[StageContext, Docs, Any, Predicate, str], StageOutput]


def attribute_filter(
    ctx: StageContext, docs: Docs, params: AttributeFilterParams, pre_filters: Predicate, where: str
) -> StageOutput:
    pred = and_all([attribute_filter_predicate(params, where), pre_filters])
    if docs is None:
        pred = and_all([pred, ctx.request_filter])
        out: list[dict[str, Any]] = []
        units = 0
        for col in ctx.collections:
            kept = 0
            for stored in ctx.store.documents([col.collection_id]):
                units += 1
                if pred(stored):
                    out.append(D.from_stored(stored, 1.0))
                    kept += 1
                    if kept >= FIRST_STAGE_FETCH_LIMIT:
                        break
        return StageOutput(out, units)
    return StageOutput([d for d in docs if pred(d)], len(docs))


def _sort_key(value: Any) -> tuple[int, Any]:
    if isinstance(value, bool):
        return (0, int(value))
    if isinstance(value, int | float):
        return (0, value)
    if isinstance(value, str):
        return (1, value)
    return (2, str(value))


def _partition_sorted(
    docs: list[dict[str, Any]], value_of: Callable[[Mapping[str, Any]], Any], key: Callable[[Any], Any], desc: bool
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The documents that have a value (not None), sorted by ``key`` of it; those without, in their order."""
    present = [d for d in docs if value_of(d) is not None]
    present.sort(key=lambda d: key(value_of(d)), reverse=desc)
    return present, [d for d in docs if value_of(d) is None]


def sort_attribute(
    ctx: StageContext, docs: Docs, params: SortAttributeParams, pre_filters: Predicate, where: str
) -> StageOutput:
    docs = docs or []
    desc = params.direction != "asc"
    present, nulls = _partition_sorted(docs, lambda d: D.get_plain(d, params.field), _sort_key, desc)
    ordered = present + nulls if params.nulls_last or desc else nulls + present
    return StageOutput(ordered, len(docs))


def sort_relevance(
    ctx: StageContext, docs: Docs, params: SortRelevanceParams, pre_filters: Predicate, where: str
) -> StageOutput:
    docs = docs or []

    def number(d: Mapping[str, Any]) -> float | None:
        v = D.get_plain(d, params.score_field)
        return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None

    scored, unscored = _partition_sorted(docs, number, float, params.direction != "asc")
    if params.missing_score == "preserve":
        it = iter(scored)
        ordered = [d if number(d) is None else next(it) for d in docs]
    else:
        ordered = scored + unscored if params.missing_score == "bottom" else unscored + scored
    return StageOutput(ordered, len(docs))


def _text_of(doc: Mapping[str, Any], path: str) -> str:
    value = D.get_plain(doc, path)
    if value is None and not path.startswith("payload."):
        value = D.get_plain(doc.get("payload") or {}, path)
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return "" if value is None else str(value)


def rerank(ctx: StageContext, docs: Docs, params: RerankParams, pre_filters: Predicate, where: str) -> StageOutput:
    docs = docs or []
    query = substitute(params.query, ctx.inputs)  # the default is the template {{INPUT.query}}
    if not isinstance(query, str) or not query.strip():
        raise BadRequest(f"{where}.query: needs a query text (set query or provide the 'query' input)")
    field_path = params.document_field
    limit = params.max_candidates
    score_field = params.score_field
    candidates, rest = docs[:limit], docs[limit:]
    if not candidates:
        return StageOutput([], 0)
    vectors = ctx.store.embedder.embed([query] + [_text_of(d, field_path) for d in candidates])
    sims = vectors[1:] @ vectors[0]
    rescored = []
    for doc, sim in zip(candidates, sims, strict=True):
        new = dict(doc)
        D.set_path(new, score_field, float(sim))
        new["score"] = float(sim)
        rescored.append(new)
    rescored.sort(key=lambda d: -d["score"])
    out = rescored + rest
    if params.top_k is not None:
        out = out[: concrete_int(params.top_k, f"{where}.top_k")]
    return StageOutput(out, len(candidates))


def _doc_vectors(
    ctx: StageContext, docs: Sequence[Mapping[str, Any]], uri: str, where: str
) -> np.ndarray[Any, np.dtype[np.float32]]:
    rows = []
    cache: dict[str, tuple[dict[str, int], Any]] = {}
    for doc in docs:
        cid = doc["collection_id"]
        if cid not in cache:
            info = ctx.store.resolve_collections([cid])[0]
            index = find_index(info, uri)
            if index is None:
                raise BadRequest(f"{where}: feature URI {uri!r} matches no index of {info.collection_name!r}")
            ids, matrix = ctx.store.vectors(cid, index.name)
            cache[cid] = ({d: i for i, d in enumerate(ids)}, matrix)
        positions, matrix = cache[cid]
        row = positions.get(doc["document_id"])
        if row is None:
            rows.append(np.zeros(matrix.shape[1], dtype=np.float32))
        else:
            rows.append(matrix[row])
    out = np.vstack(rows).astype(np.float32)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    np.divide(out, norms, out=out, where=norms > 0)
    return out


def mmr(ctx: StageContext, docs: Docs, params: MMRParams, pre_filters: Predicate, where: str) -> StageOutput:
    docs = docs or []
    lam = params.lambda_
    k = concrete_int(params.top_k, f"{where}.top_k")
    score_field = params.score_field
    out_field = params.mmr_score_field
    if not docs:
        return StageOutput([], 0)
    sim = _similarity(ctx, docs, params, where)
    n = len(docs)
    rel = np.array([float(D.get_plain(d, score_field) or 0.0) for d in docs], dtype=np.float32)
    span = float(rel.max() - rel.min())
    rel = (rel - rel.min()) / span if span > 0 else np.ones_like(rel)
    selected: list[int] = []
    mmr_scores: list[float] = []
    remaining = list(range(n))
    while remaining and len(selected) < k:
        if selected:
            penalty = sim[np.ix_(remaining, selected)].max(axis=1)
        else:
            penalty = np.zeros(len(remaining), dtype=np.float32)
        values = lam * rel[remaining] - (1.0 - lam) * penalty
        best = int(np.argmax(values))
        selected.append(remaining.pop(best))
        mmr_scores.append(float(values[best]))
    out = []
    for i, value in zip(selected, mmr_scores, strict=True):
        new = dict(docs[i])
        D.set_path(new, out_field, value)
        out.append(new)
    return StageOutput(out, n)


def _similarity(
    ctx: StageContext, docs: list[dict[str, Any]], params: MMRParams, where: str
) -> np.ndarray[Any, np.dtype[np.float32]]:
    """Pairwise similarity of ``docs``: equal field values, or weighted cosine of feature vectors."""
    n = len(docs)
    sim = np.zeros((n, n), dtype=np.float32)
    if params.diversity_fields:
        weights = params.diversity_field_weights or {}
        total = sum(weights.get(f, 1.0) for f in params.diversity_fields) or 1.0
        for f in params.diversity_fields:
            values = [D.get_plain(d, f) for d in docs]
            same = np.array([[a is not None and a == b for b in values] for a in values], dtype=np.float32)
            sim += same * weights.get(f, 1.0) / total
        return sim
    features = [(f.feature_uri, f.weight) for f in params.diversity_features or []]
    if not features:
        uri = params.diversity_feature_uri or (ctx.search_uris[0] if ctx.search_uris else None)
        if not uri:
            raise BadRequest(f"{where}: needs diversity_feature_uri, diversity_features or diversity_fields")
        features = [(uri, 1.0)]
    total = sum(w for _, w in features) or 1.0
    for uri, weight in features:
        vecs = _doc_vectors(ctx, docs, uri, where)
        sim += (vecs @ vecs.T) * weight / total
    return sim


def group_by(ctx: StageContext, docs: Docs, params: GroupByParams, pre_filters: Predicate, where: str) -> StageOutput:
    docs = docs or []
    path = params.group_by_field
    max_per = params.max_per_group
    mode = params.output_mode
    groups: dict[str, list[dict[str, Any]]] = {}
    keys: dict[str, Any] = {}
    for doc in docs:
        value = D.get_plain(doc, path)
        marker = repr(value)
        keys.setdefault(marker, value)
        groups.setdefault(marker, []).append(doc)
    out: list[dict[str, Any]] = []
    for marker, members in groups.items():
        members = sorted(members, key=lambda d: -float(d.get("score") or 0.0))[:max_per]
        if mode == "first":
            out.append(members[0])
        elif mode == "flatten":
            out.extend(members)
        else:
            best = members[0]
            out.append(
                {
                    "document_id": best["document_id"],
                    "collection_id": best["collection_id"],
                    "score": best.get("score"),
                    "group_key": keys[marker],
                    "count": len(members),
                    "documents": members,
                }
            )
    out.sort(key=lambda d: -float(d.get("score") or 0.0))
    return StageOutput(out, len(docs), {"groups": len(groups)})


def sample(ctx: StageContext, docs: Docs, params: SampleParams, pre_filters: Predicate, where: str) -> StageOutput:
    docs = docs or []
    count = params.count
    rng = random.Random(0 if params.seed is None else params.seed)
    keep_top = params.preserve_top_k
    if count >= len(docs):
        return StageOutput(list(docs), len(docs))
    top = set(range(min(keep_top, count)))
    pool = [i for i in range(len(docs)) if i not in top]
    want = count - len(top)
    if params.strategy == "stratified" and params.stratify_by:  # the model requires stratify_by here
        path = params.stratify_by
        strata: dict[str, list[int]] = {}
        for i in pool:
            strata.setdefault(repr(D.get_plain(docs[i], path)), []).append(i)
        chosen = set()
        for members in strata.values():
            share = max(params.min_per_stratum, round(want * len(members) / len(pool)))
            chosen.update(rng.sample(members, min(share, len(members))))
        if len(chosen) > want:
            chosen = set(rng.sample(sorted(chosen), want))
    else:  # random, reservoir
        chosen = set(rng.sample(pool, want))
    keep = top | chosen
    return StageOutput([d for i, d in enumerate(docs) if i in keep], len(docs))


def taxonomy_enrich(
    ctx: StageContext, docs: Docs, params: TaxonomyEnrichParams, pre_filters: Predicate, where: str
) -> StageOutput:
    from mixops.local.engine.taxonomy import enrich_documents  # taxonomy runs retrievers: avoid an import cycle

    docs = docs or []
    ident = params.taxonomy_id
    if not ident or "{{" in ident:
        raise BadRequest(f"{where}.taxonomy_id: required (the taxonomy's id)")
    taxonomy = ctx.store.get_taxonomy(ident)
    if taxonomy is None:
        raise NotFound(f"{where}.taxonomy_id: taxonomy {ident!r} not found", {"taxonomy_id": ident})
    when = compile_filter(params.when, where=f"{where}.when")
    targets = [i for i, d in enumerate(docs) if when(d)]
    fields = None if params.fields is None else [f.model_dump(exclude_none=True) for f in params.fields]
    result = enrich_documents(
        ctx.store,
        taxonomy,
        [docs[i] for i in targets],
        top_k=params.top_k,
        min_score=params.min_score,
        enrichment_fields=fields,
    )
    ctx.extra_credits += result.credits_used
    out = list(docs)
    for i, enriched in zip(targets, result.documents, strict=True):
        out[i] = enriched
    return StageOutput(out, len(targets), {"matches": len(result.matches)})


def document_enrich(
    ctx: StageContext, docs: Docs, params: DocumentEnrichParams, pre_filters: Predicate, where: str
) -> StageOutput:
    docs = docs or []
    if params.retriever_id or params.retriever_config:
        raise Unsupported(
            f"{where}: retriever-based joins are not supported by the local backend; "
            "use target_collection_id with source_field/target_field"
        )
    target = params.target_collection_id
    if not target or "{{" in target:
        raise BadRequest(f"{where}.target_collection_id: required (a collection id or name)")
    info = ctx.store.resolve_collections([target])[0]
    source_field = params.source_field
    target_field = params.target_field
    merge = params.fields_to_merge
    output_field = params.output_field
    strategy = params.strategy
    allow_missing = params.allow_missing
    when = compile_filter(params.when, where=f"{where}.when")
    index: dict[str, dict[str, Any]] = {}
    for stored in ctx.store.documents([info.collection_id]):
        key = D.get_plain(stored, target_field)
        if key is not None:
            index.setdefault(repr(key), stored)
    out = []
    for doc in docs:
        if not when(doc):
            out.append(doc)
            continue
        match = index.get(repr(D.get_plain(doc, source_field)))
        if match is None:
            if allow_missing:
                out.append(doc)
            continue
        data = (
            {f: D.get_plain(match, f) for f in merge}
            if merge
            else {k: v for k, v in match.items() if k not in ("document_id", "collection_id")}
        )
        new = dict(doc)
        if strategy == "replace":
            new = {"document_id": doc["document_id"], "collection_id": doc["collection_id"], "score": doc.get("score")}
            for k, v in data.items():
                D.set_path(new, k, v)
        elif output_field and strategy == "append":
            D.append_path(new, output_field, [data])
        elif output_field:
            D.set_path(new, output_field, data)
        else:
            for k, v in data.items():
                if k not in D.SYSTEM_KEYS or (merge and k in merge):
                    D.set_path(new, k, v)
        out.append(new)
    return StageOutput(out, len(docs))


HANDLERS: dict[str, Handler] = {
    "attribute_filter": attribute_filter,
    "sort_attribute": sort_attribute,
    "sort_relevance": sort_relevance,
    "rerank": rerank,
    "mmr": mmr,
    "group_by": group_by,
    "sample": sample,
    "taxonomy_enrich": taxonomy_enrich,
    "document_enrich": document_enrich,
}

__all__ = ["HANDLERS", "StageContext", "StageOutput", "always"]
