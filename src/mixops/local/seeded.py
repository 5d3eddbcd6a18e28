"""Seed documents in the database: loading them in line with the seed, and late loading.

Shared by the seed loader (``seed.py``) and the collection routes: documents a seed
holds for a collection that a manifest declares wait until ``mixops apply`` creates
that collection (or a replacement is renamed to it), then load here.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mixops.local.api.deps import LocalState
from mixops.local.applications import enricher_for
from mixops.local.db import Row
from mixops.local.documents import content_id, ingest, stored_fields
from mixops.local.problems import ApiProblem

log = logging.getLogger("mixops.local")

RECORD = "seed_documents"  # per collection: the document ids a seed loaded last


@dataclass(frozen=True)
class SeedDocuments:
    """The documents a seed file holds for one collection (``where`` names the entry)."""

    where: str
    documents: list[dict[str, Any]]


def load_documents(state: LocalState, ns: str, row: Row, docs: Sequence[dict[str, Any]]) -> tuple[int, int]:
    """Put the seed's documents into ``row``'s collection; delete the ones it no longer lists.

    A document the last load wrote with the same content, and still there, is left as it
    is: loading a seed at every command must not re-embed it, and must not re-run the
    collection's applications over it (a backfill is an explicit apply-taxonomy). New and
    changed documents are ingested, enriched as any written document is.
    Returns (documents the seed holds, documents removed). Only ids an earlier load of a
    seed recorded are ever removed.
    """
    previous = state.db.get_record(ns, RECORD, row.id) or {}
    before: dict[str, str] = dict(previous.get("hashes") or {})
    present = {d.document_id for d in state.db.documents(ns, row.id)} if before else set()
    hashes: dict[str, str] = {}
    todo: list[dict[str, Any]] = []
    for doc in docs:
        doc_id = _id_of(doc)
        digest = content_id(doc)
        if doc_id in hashes:
            todo = [d for d in todo if _id_of(d) != doc_id]  # a repeated id: the last one wins, as on upsert
        hashes[doc_id] = digest
        if before.get(doc_id) != digest or doc_id not in present:
            todo.append(doc)
    enrich = enricher_for(state, ns, row.body)
    for start in range(0, len(todo), 1000):
        ingest(state.db, state.embedder, ns, row.body, todo[start : start + 1000], id_from_content=True, enrich=enrich)
    gone = sorted(set(previous.get("document_ids") or []) - set(hashes))
    removed = sum(state.db.delete_document(ns, row.id, doc_id) for doc_id in gone)
    if hashes or previous:
        state.db.put_record(ns, RECORD, row.id, row.id, {"document_ids": sorted(hashes), "hashes": hashes})
    return len(hashes), removed


def _id_of(doc: dict[str, Any]) -> str:
    given = doc.get("document_id")
    return given if isinstance(given, str) and given else content_id(stored_fields(doc))


def load_waiting(state: LocalState, ns: str, row: Row) -> list[str]:
    """Load the seed documents waiting for a collection named like ``row`` (create or rename).

    Returns warnings for the create/PATCH response: a seed document the new collection
    refuses (a vector for an index it does not have) must not fail the API call that
    created the collection, and must not pass unnoticed either.
    """
    waiting = state.seed_documents.get((ns, row.name))
    if waiting is None:
        return []
    try:
        loaded, _ = load_documents(state, ns, row, waiting.documents)
    except ApiProblem as exc:
        log.warning("%s: seed documents not loaded: %s", waiting.where, exc.message)
        return [f"seed documents not loaded ({waiting.where}): {exc.message}"]
    log.info("%s: %d seed documents loaded into the new collection", waiting.where, loaded)
    return []
