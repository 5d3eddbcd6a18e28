"""``POST /v1/collections/{id}/apply-taxonomy``: backfill a taxonomy over existing documents.

An async task (mixpeek-api.md 3.1): the answer is ``{task_id, status, collection_id,
taxonomy_id, estimated_documents}`` and ``GET /v1/tasks/{task_id}`` follows the job
(``task_type`` ``api_taxonomies_materialize``): PENDING, IN_PROGRESS, then COMPLETED,
COMPLETED_WITH_ERRORS (some documents failed; their messages are in
``additional_data.errors``), FAILED (nothing could run: the taxonomy or the collection
vanished) or CANCELED (``budget_limits.max_time_ms`` ran out: documents already
enriched keep their assignments, and ``additional_data`` carries ``budget``, ``spent``
and ``stopped_at``, as the SDK describes).

The taxonomy must already be one of the collection's ``taxonomy_applications``; the
documents are enriched exactly as on ingestion (``applications.run_taxonomy``, that
application's own settings), in batches of ``batch_size``. ``scroll_filters`` of the
request narrows the documents, then the application's own ``scroll_filters`` apply.
``parallelism`` is accepted and has no effect (one worker).
"""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np
from fastapi import APIRouter

from mixops.local.api.deps import LocalState, Namespace, State, read_body, with_warnings
from mixops.local.api.resources import find
from mixops.local.api.schemas import ApplyTaxonomyRequest
from mixops.local.applications import Outcome, Vectors, run_taxonomy
from mixops.local.db import now_iso
from mixops.local.engine.errors import EngineError
from mixops.local.engine.filters import always, compile_filter
from mixops.local.ids import new_id
from mixops.local.problems import invalid, not_found

router = APIRouter(tags=["collections"])

TASK_TYPE = "api_taxonomies_materialize"


@router.post("/collections/{collection_identifier}/apply-taxonomy")
def apply_taxonomy(
    collection_identifier: str, body: ApplyTaxonomyRequest, state: State, ns: Namespace
) -> dict[str, Any]:
    request, warnings = read_body(state, body)
    row = find(state, ns, "collection", collection_identifier)
    taxonomy = state.db.get_by_id(ns, "taxonomy", body.taxonomy_id)
    if taxonomy is None:
        raise not_found("taxonomy", body.taxonomy_id)
    applied = [a.get("taxonomy_id") for a in row.body.get("taxonomy_applications") or []]
    if taxonomy.id not in applied:
        raise invalid(
            f"Taxonomy '{taxonomy.id}' is not in collection '{row.name}''s taxonomy_applications; "
            "add it there (PATCH the collection) before applying it",
            code="taxonomy_not_applied",
            taxonomy_id=taxonomy.id,
            taxonomy_applications=applied,
        )
    budget = request.get("budget_limits") or {}
    if budget.get("max_credits") is not None:
        raise invalid(
            "budget_limits.max_credits is refused: taxonomy enrichment bills 0 credits; use max_time_ms",
            code="unsupported_budget",
        )
    scroll = request.get("scroll_filters")
    try:
        keep = compile_filter(scroll, where="scroll_filters") if scroll else always
    except EngineError as exc:
        raise invalid(exc.message, code="invalid_filters") from exc
    estimated = sum(1 for d in state.cache.documents(state.db, ns, row.id) if keep(d))
    task_id = new_id("task")
    task = {
        "task_id": task_id,
        "task_type": TASK_TYPE,
        "status": "PENDING",
        "inputs": [{"collection_id": row.id, "taxonomy_id": taxonomy.id}],
        "outputs": None,
        "additional_data": {"collection_id": row.id, "taxonomy_id": taxonomy.id, "estimated_documents": estimated},
        "error": None,
        "created_at": now_iso(),
    }
    state.db.put_record(ns, "task", row.id, task_id, task)
    thread = threading.Thread(
        target=_backfill,
        args=(state, ns, row.id, taxonomy.id, request, task),
        name=f"apply-taxonomy-{task_id}",
        daemon=True,
    )
    state.threads[:] = [t for t in state.threads if t.is_alive()]
    state.threads.append(thread)
    thread.start()
    answer = {
        "task_id": task_id,
        "status": "PENDING",
        "collection_id": row.id,
        "taxonomy_id": taxonomy.id,
        "estimated_documents": estimated,
    }
    return with_warnings(answer, warnings)


def _backfill(
    state: LocalState, ns: str, collection_id: str, taxonomy_id: str, request: dict[str, Any], task: dict[str, Any]
) -> None:
    db = state.db
    task_id = task["task_id"]
    extra = dict(task["additional_data"])

    def record(status: str, **fields: Any) -> None:
        db.put_record(ns, "task", collection_id, task_id, {**task, "status": status, **fields})

    record("IN_PROGRESS")
    row = db.get_by_id(ns, "collection", collection_id)
    apps = (row.body.get("taxonomy_applications") or []) if row else []
    app = next((a for a in apps if a.get("taxonomy_id") == taxonomy_id), None)
    if row is None or app is None:
        error = "the collection was deleted" if row is None else "the taxonomy is no longer applied to the collection"
        record("FAILED", error=error, additional_data={**extra, "error": error})
        return
    scroll = request.get("scroll_filters")
    keep = compile_filter(scroll, where="scroll_filters") if scroll else always
    docs = [d for d in db.documents(ns, collection_id) if keep(d.body)]
    batch_size = int(request.get("batch_size") or 1000)
    max_ms = (request.get("budget_limits") or {}).get("max_time_ms")
    started = time.monotonic()
    total = Outcome()
    batches = 0
    for start in range(0, len(docs), batch_size):
        spent_ms = int((time.monotonic() - started) * 1000)
        if max_ms is not None and spent_ms >= max_ms:
            stopped = {"budget": {"max_time_ms": max_ms}, "spent": {"time_ms": spent_ms}, "stopped_at": start}
            record("CANCELED", outputs=[_stats(total, batches)], additional_data={**extra, **stopped})
            return
        chunk = docs[start : start + batch_size]
        bodies = [dict(d.body) for d in chunk]
        vectors = [
            {
                k: np.asarray(v, dtype=np.float32)
                for k, v in db.document_vectors(ns, collection_id, d.document_id).items()
            }
            for d in chunk
        ]
        try:
            outcome = run_taxonomy(state, ns, row.body, app, bodies, vectors)
        except EngineError as exc:
            record(
                "FAILED",
                error=exc.message,
                outputs=[_stats(total, batches)],
                additional_data={**extra, "error": exc.message},
            )
            return
        batches += 1
        total.processed += outcome.processed
        total.enriched += outcome.enriched
        total.errors += outcome.errors
        if not app.get("target_collection_id"):
            changed: list[tuple[str, dict[str, Any], Vectors]] = [
                (d.document_id, b, {}) for d, b in zip(chunk, bodies, strict=True) if b != d.body
            ]
            if changed:
                db.put_documents(ns, collection_id, changed, replace_vectors=False)
    status = "COMPLETED_WITH_ERRORS" if total.errors else "COMPLETED"
    record(status, outputs=[_stats(total, batches)], additional_data={**extra, "errors": total.errors[:100]})


def _stats(outcome: Outcome, batches: int) -> dict[str, Any]:
    return {
        "processed_docs": outcome.processed,
        "enriched": outcome.enriched,
        "errors": len(outcome.errors),
        "batches": batches,
    }
