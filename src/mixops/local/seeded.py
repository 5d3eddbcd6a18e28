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
from mixops.local.documents import ingest
from mixops.local.problems import ApiProblem

log = logging.getLogger("mixops.local")

RECORD = "seed_documents"  # per collection: the document ids a seed loaded last


@dataclass(frozen=True)
class SeedDocuments:
    """The documents a seed file holds for one collection (``where`` names the entry)."""

    where: str
    documents: list[dict[str, Any]]


def load_documents(state: LocalState, ns: str, row: Row, docs: Sequence[dict[str, Any]]) -> tuple[int, int]:
    """Upsert the seed's documents into ``row``'s collection; delete the ones it no longer lists.

    Returns (documents loaded, documents removed). Only ids an earlier load of a seed
    recorded are ever removed.
    """
    ids: list[str] = []
    enrich = enricher_for(state, ns, row.body)
    for start in range(0, len(docs), 1000):
        stored = ingest(
            state.db, state.embedder, ns, row.body, docs[start : start + 1000], id_from_content=True, enrich=enrich
        )
        ids += [d.document_id for d in stored]
    previous = state.db.get_record(ns, RECORD, row.id) or {}
    gone = sorted(set(previous.get("document_ids") or []) - set(ids))
    removed = sum(state.db.delete_document(ns, row.id, doc_id) for doc_id in gone)
    if ids or previous:
        state.db.put_record(ns, RECORD, row.id, row.id, {"document_ids": sorted(set(ids))})
    return len(ids), removed


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
