"""A collection's post-processing on ingestion: its applications (mixpeek-api.md 3.2, 4.5).

What the local backend simulates, in the API's order (phase ascending, then priority
descending; taxonomies default to phase 1, retriever enrichments to phase 4):

- ``taxonomy_applications``: MATERIALISED. Every document written to the collection
  (create, PATCH, seed load) is matched against the taxonomy's nodes with the local
  taxonomy engine (``engine/taxonomy.py``), exactly as an on-demand execute would
  enrich it: the node's ``enrichment_fields`` (or its whole payload for a flat
  taxonomy without them) land at the document's root. The assignment is recorded as
  the API describes for materialised enrichment: ``_internal._taxonomy_<id>_id``,
  ``_label`` and ``_score`` for the best match (the deepest level for a hierarchical
  taxonomy), and ``_internal._taxonomy_<id>_assignments`` (the ranked list) when the
  taxonomy keeps more than one node. ``scroll_filters`` limits which documents are
  enriched. ``target_collection_id`` writes the enriched copy (same document_id) into
  that collection instead of updating the document in place.
  Not simulated: ``hierarchical_enrichment_style`` (fields come from each level's
  ``enrichment_fields``, whatever the style) and ``execution_mode`` (only
  ``materialize`` exists).
- ``retriever_enrichments``: MATERIALISED when ``enabled`` (default): the retriever
  runs once per document with inputs from ``input_mappings`` (``document_field``
  path or ``constant`` value) and ``write_back_fields`` copy result fields onto the
  document (``first``, ``all_as_array``, ``concat``).
- ``cluster_applications`` and ``alert_applications``: stored and echoed only. The
  API runs clusters when a bucket batch completes (``auto_execute_on_batch``); the
  local backend has no buckets or batches, so nothing triggers them. Execute a
  cluster with ``POST /v1/clusters/{id}/execute``.

A failed application (a taxonomy whose retriever was deleted, say) never refuses the
write: the document is stored without that enrichment and the problem is logged, as
post-processing on the API runs after the document is accepted. The backfill task
(``apply-taxonomy``) reports such failures in its task record instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from mixops.local.api.deps import LocalState
from mixops.local.engine import documents as D
from mixops.local.engine.errors import EngineError, Unsupported
from mixops.local.engine.filters import always, compile_filter, get_path
from mixops.local.engine.taxonomy import enrich_documents
from mixops.local.execution import execute_pipeline

log = logging.getLogger("mixops.local")

Vectors = dict[str, npt.NDArray[np.float32]]
# Called by `documents.ingest` on the bodies about to be stored (mutating them).
Enricher = Callable[[list[dict[str, Any]], list[Vectors]], None]

TAXONOMY_PHASE = 1
RETRIEVER_ENRICHMENT_PHASE = 4


@dataclass
class Outcome:
    """What one pass of an application did (the backfill task reports it)."""

    processed: int = 0
    enriched: int = 0
    errors: list[str] = field(default_factory=list)


def _ordered(collection: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The collection's simulated applications in execution order."""
    steps: list[tuple[int, int, int, str, dict[str, Any]]] = []
    for n, app in enumerate(collection.get("taxonomy_applications") or []):
        phase = int(app.get("execution_phase") or TAXONOMY_PHASE)
        steps.append((phase, -int(app.get("priority") or 0), n, "taxonomy", app))
    for n, app in enumerate(collection.get("retriever_enrichments") or []):
        if app.get("enabled") is False:
            continue
        phase = int(app.get("execution_phase") or RETRIEVER_ENRICHMENT_PHASE)
        steps.append((phase, -int(app.get("priority") or 0), 1000 + n, "retriever", app))
    return [(kind, app) for *_, kind, app in sorted(steps, key=lambda s: s[:3])]


def enricher_for(state: LocalState, ns: str, collection: Mapping[str, Any]) -> Enricher | None:
    """The post-processing of ``collection`` (its stored body) for ``ingest``, or None."""
    steps = _ordered(collection)
    if not steps:
        return None

    def enrich(bodies: list[dict[str, Any]], vectors: list[Vectors]) -> None:
        for kind, app in steps:
            try:
                if kind == "taxonomy":
                    run_taxonomy(state, ns, collection, app, bodies, vectors)
                else:
                    run_retriever_enrichment(state, ns, app, bodies)
            except EngineError as exc:
                log.warning(
                    "collection %s: %s application %s not applied: %s",
                    collection.get("collection_name"),
                    kind,
                    app.get("taxonomy_id") or app.get("retriever_id"),
                    exc.message,
                )

    return enrich


def _selected(app: Mapping[str, Any], bodies: Sequence[Mapping[str, Any]]) -> list[int]:
    filters = app.get("scroll_filters")
    keep = compile_filter(filters, where="scroll_filters") if filters else always
    return [i for i, body in enumerate(bodies) if keep(body)]


def run_taxonomy(
    state: LocalState,
    ns: str,
    collection: Mapping[str, Any],
    app: Mapping[str, Any],
    bodies: list[dict[str, Any]],
    vectors: Sequence[Vectors],
) -> Outcome:
    """Materialise one taxonomy application on ``bodies`` (mutated, or copied to the target)."""
    store = state.store(ns)
    tax_id = str(app["taxonomy_id"])
    taxonomy = store.get_taxonomy(tax_id)
    outcome = Outcome()
    if taxonomy is None:
        outcome.errors.append(f"taxonomy {tax_id} not found")
        log.warning("collection %s: taxonomy %s not found", collection.get("collection_name"), tax_id)
        return outcome
    chosen = _selected(app, bodies)
    # Vector input mappings read a vector by its index name, as the document's vectors show it.
    inputs = [{**bodies[i], **{name: vec.tolist() for name, vec in vectors[i].items()}} for i in chosen]
    result = enrich_documents(store, {**taxonomy, "taxonomy_id": tax_id}, inputs)
    outcome.processed = len(chosen)
    outcome.errors += result.errors
    matches: dict[Any, list[dict[str, Any]]] = {}
    for match in result.matches:
        matches.setdefault(match.get("document_id"), []).append(match)
    hierarchical = (taxonomy.get("config") or {}).get("taxonomy_type") == "hierarchical"
    targets: list[dict[str, Any]] = []
    for i, enriched in zip(chosen, result.documents, strict=True):
        found = matches.get(bodies[i].get("document_id")) or []
        if not found:
            continue
        outcome.enriched += 1
        new = {k: v for k, v in enriched.items() if k not in vectors[i] or k in bodies[i]}
        best = found[-1] if hierarchical else found[0]
        internal = dict(new.get("_internal") or {})
        internal[f"_taxonomy_{tax_id}_id"] = best.get("node_id")
        internal[f"_taxonomy_{tax_id}_label"] = best.get("label")
        internal[f"_taxonomy_{tax_id}_score"] = best.get("score")
        if len(found) > 1:
            internal[f"_taxonomy_{tax_id}_assignments"] = [
                {k: m.get(k) for k in ("node_id", "label", "score", "path")} for m in found
            ]
        new["_internal"] = internal
        if app.get("target_collection_id"):
            targets.append(new)
        else:
            bodies[i].clear()
            bodies[i].update(new)
    if targets:
        _write_to_target(state, ns, str(app["target_collection_id"]), targets, outcome)
    return outcome


def _write_to_target(state: LocalState, ns: str, target_id: str, docs: list[dict[str, Any]], outcome: Outcome) -> None:
    from mixops.local.documents import ingest  # documents imports this module's types only at call time

    row = state.db.get_by_id(ns, "collection", target_id)
    if row is None:
        outcome.errors.append(f"target collection {target_id} not found")
        return
    copies = [{k: v for k, v in d.items() if k not in ("collection_id",)} for d in docs]
    ingest(state.db, state.embedder, ns, row.body, copies, keep_internal=True)


def _input_value(doc: Mapping[str, Any], source: Mapping[str, Any]) -> Any:
    kind = source.get("source_type")
    if kind == "constant":
        return source.get("value")
    if kind == "document_field":
        path = str(source.get("path") or "")
        return get_path(doc, path.removeprefix("$."))
    raise Unsupported(f"input source_type {kind!r} is not supported by the local backend (document_field, constant)")


def run_retriever_enrichment(
    state: LocalState, ns: str, app: Mapping[str, Any], bodies: list[dict[str, Any]]
) -> Outcome:
    """Run the retriever once per selected document and write result fields back."""
    store = state.store(ns)
    retriever = store.get_retriever(str(app["retriever_id"]))
    outcome = Outcome()
    if retriever is None:
        outcome.errors.append(f"retriever {app['retriever_id']} not found")
        return outcome
    for i in _selected(app, bodies):
        doc = bodies[i]
        outcome.processed += 1
        inputs = {m["input_key"]: _input_value(doc, m.get("source") or {}) for m in app.get("input_mappings") or []}
        response = execute_pipeline(store, retriever, {"inputs": inputs})
        if response.get("status") != "completed":
            outcome.errors.append(f"document {doc.get('document_id')}: retriever failed: {response.get('error')}")
            continue
        results = list(response.get("documents") or [])
        wrote = False
        for spec in app.get("write_back_fields") or []:
            values = [v for v in (D.get_plain(r, spec["source_field"]) for r in results) if v is not None]
            if not values:
                continue
            mode = spec.get("mode") or "first"
            if mode == "all_as_array":
                value: Any = values
            elif mode == "concat":
                value = ", ".join(str(v) for v in values)
            else:
                value = values[0]
            D.set_path(doc, spec["target_field"], value)
            wrote = True
        outcome.enriched += wrote
    return outcome
