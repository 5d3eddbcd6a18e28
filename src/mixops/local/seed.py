"""Seed data: documents, and the collections and retrievers that only the seed declares.

A seed file is YAML or JSON, checked against ``core/models/seed.py`` (the same model
``mixops validate`` reports against, with file:line:col)::

    namespace: catalog-dev            # optional; else the namespace passed in
    collections:
      # documents for a collection a manifest declares: its settings come from there
      - collection_name: products
        documents_file: products.jsonl              # relative to the seed file
      # a seed-only collection: a builder and the API's create fields
      - collection_name: tag_nodes
        collection_id: col_tags_v1                  # optional: a chosen id (the seeds' ids)
        feature_extractor: {feature_extractor_name: text_extractor, version: v1,
                            input_mappings: {text: title}}
        documents:
          - {document_id: t1, label: running}
          - {label: hiking, vectors: {...}}         # id derived from the content
    retrievers:                          # optional, create-request bodies
      - {retriever_id: ret_clip_v1, retriever_name: clip, collection_identifiers: [tag_nodes], stages: [...]}

Loading is idempotent and keeps the database in line with the file:

- Documents are upserted under stable ids (given ``document_id``, else a hash of their
  content). The ids loaded from the seed are remembered per collection; a document
  the seed no longer lists (removed, or edited without a ``document_id``, which gives
  it a new id) is deleted on the next load. Documents written over the API are never
  touched.
- Documents for a collection that does not exist yet wait in ``LocalState.seed_documents``
  and are loaded when a collection of that name is created (``POST /v1/collections``,
  as ``mixops apply`` does) or renamed to it (a replacement taking the name).
- A seed-only collection that exists with settings other than the seed's (its
  extractor, input mappings, ...) is an error naming the fields: its documents were
  embedded under the old settings. ``reset_namespace`` (``mixops local reset``)
  rebuilds the namespace from the seed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from mixops.core.jsonlines import BOM, LINE_FIX, json_lines
from mixops.core.models.seed import BUILDERS, DATA_KEYS, SeedCollection, SeedFile
from mixops.core.normalise import MANAGED_BY
from mixops.errors import SeedError
from mixops.local.api.collections import create_collection
from mixops.local.api.deps import LocalState, Settings
from mixops.local.api.namespaces import ensure_namespace
from mixops.local.api.retrievers import create_retriever
from mixops.local.db import ROOT, Database, Row
from mixops.local.engine.embedder import HashingEmbedder
from mixops.local.problems import ApiProblem
from mixops.local.seeded import SeedDocuments, load_documents

RESET_HINT = "rebuild the namespace from the seed with `mixops local reset`"
# Settings a seed-only collection is compared on: builders always (they decide the
# vectors), the other fields of a seed collection when the seed sets them (its name,
# id and documents are not settings).
_SETTINGS = tuple(k for k in SeedCollection.model_fields if k not in (*DATA_KEYS, *BUILDERS, "collection_id"))
_DEFAULTS: dict[str, Any] = {"source": {"type": "none"}, "enabled": True}


def _state_of(target: Any) -> LocalState:
    if isinstance(target, LocalState):
        return target
    if isinstance(target, Database):
        return LocalState(db=target, embedder=HashingEmbedder(), settings=Settings())
    state = getattr(getattr(target, "state", None), "local", None)
    if isinstance(state, LocalState):
        return state
    raise TypeError("load_seed needs a LocalState, a Database or an app made by create_app")


def read_seed(path: Path) -> SeedFile:
    """The seed file, validated (a SeedError names the file and each problem's place)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SeedError(f"{path}: cannot read seed file ({exc.strerror})") from exc
    try:
        # A leading byte order mark is dropped, as `mixops validate` drops it.
        text = text.removeprefix(BOM)
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise SeedError(f"{path}: not valid {'JSON' if path.suffix == '.json' else 'YAML'}: {exc}") from exc
    if not isinstance(data, dict):
        raise SeedError(f"{path}: a seed file is a mapping with a 'collections' list")
    try:
        return SeedFile.model_validate(data, strict=True)
    except ValidationError as exc:
        parts = [
            f"{'.'.join(str(p) for p in e['loc']) or 'the file'}: {e['msg']}" for e in exc.errors(include_url=False)
        ]
        raise SeedError(f"{path}: " + "; ".join(parts[:5]) + " (run `mixops validate` for every problem)") from None


def _jsonl(path: Path) -> list[dict[str, Any]]:
    """A documents file, read as `mixops validate` checks it (core/jsonlines.py)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SeedError(f"{path}: cannot read documents file ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise SeedError(f"{path}: not valid UTF-8 ({exc.reason}) (run `mixops validate` for its place)") from exc
    docs, bad = json_lines(text)
    if bad:
        raise SeedError(f"{path}:{bad[0].line}: {bad[0].message} ({LINE_FIX})")
    return docs


def _documents(path: Path, entry: SeedCollection) -> list[dict[str, Any]]:
    docs = [dict(d) for d in entry.documents or []]
    if entry.documents_file:
        docs += _jsonl(path.parent / entry.documents_file)
    return docs


def load_seed(target: Any, path: str | Path, namespace: str = "default") -> dict[str, int]:
    """Load one seed file into ``namespace`` (unless the file names one); returns counts."""
    state = _state_of(target)
    path = Path(path)
    seed = read_seed(path)
    ns = ensure_namespace(state.db, seed.namespace or namespace)
    counts = {"collections": 0, "documents": 0, "retrievers": 0, "pending": 0, "removed": 0}
    for i, entry in enumerate(seed.collections):
        where = f"{path}: collections[{i}] ({entry.collection_name})"
        docs = _documents(path, entry)
        try:
            if entry.documents_only:
                state.seed_documents[(ns, entry.collection_name)] = SeedDocuments(where, docs)
                row = state.db.get(ns, "collection", entry.collection_name)
                if row is None:
                    counts["pending"] += len(docs)  # loaded when apply creates the collection
                    continue
            else:
                request = entry.model_dump(exclude_none=True, exclude={"documents", "documents_file"})
                row = state.db.get(ns, "collection", entry.collection_id or entry.collection_name)
                if row is None:
                    row = create_collection(state, ns, request)
                    counts["collections"] += 1
                else:
                    _check_settings(row, request, where)
            loaded, removed = load_documents(state, ns, row, docs)
        except ApiProblem as exc:
            raise SeedError(f"{where}: {exc.message}") from exc
        counts["documents"] += loaded
        counts["removed"] += removed
    for i, retriever in enumerate(seed.retrievers):
        where = f"{path}: retrievers[{i}] ({retriever.retriever_name})"
        if state.db.get(ns, "retriever", retriever.retriever_id or retriever.retriever_name) is not None:
            continue
        try:
            request = retriever.model_dump(exclude_none=True, exclude={"retriever_id"})
            create_retriever(state, ns, request, retriever_id=retriever.retriever_id)
        except ApiProblem as exc:
            raise SeedError(f"{where}: {exc.message}") from exc
        counts["retrievers"] += 1
    return counts


def _comparable(key: str, value: Any) -> Any:
    if key == "feature_extractor" and isinstance(value, dict):
        return {k: v for k, v in value.items() if k != "feature_extractor_id"}
    return value


def _check_settings(row: Row, request: dict[str, Any], where: str) -> None:
    """A SeedError naming every setting of a seed-only collection the database holds otherwise.

    Not for a collection mixops manages (adopted into a manifest: `managed_by` in its
    metadata): its settings are the manifest's now, and apply keeps them in line.
    """
    if (row.body.get("metadata") or {}).get("managed_by") == MANAGED_BY:
        return
    changed: list[str] = []
    for key in (*BUILDERS, *_SETTINGS):
        if key not in BUILDERS and key not in request:
            continue
        want = _comparable(key, request.get(key, _DEFAULTS.get(key)))
        have = _comparable(key, row.body.get(key, _DEFAULTS.get(key)))
        if want == have:
            continue
        if isinstance(want, dict) and isinstance(have, dict):
            changed += [f"{key}.{k}" for k in sorted(set(want) | set(have)) if want.get(k) != have.get(k)]
        else:
            changed.append(key)
    if changed:
        raise SeedError(
            f"{where}: the local database holds this collection with other settings than the seed "
            f"({', '.join(changed)} differ), and its documents were embedded with the old ones; {RESET_HINT}",
            needs_reset=True,
        )


def seed_namespaces(seed_files: Sequence[str | Path], namespace: str) -> list[str]:
    """The namespaces loading ``seed_files`` into ``namespace`` writes to."""
    names = [namespace]
    for path in seed_files:
        own = read_seed(Path(path)).namespace
        if own and own not in names:
            names.append(own)
    return names


def reset_namespace(db_path: str | Path, namespace: str, seed_files: Sequence[str | Path]) -> dict[str, Any]:
    """Drop ``namespace`` (and any namespace a seed file names) from the database, then load the seeds.

    Returns what was removed (per kind, plus documents) and what the seeds loaded.
    """
    names = seed_namespaces(seed_files, namespace)  # a broken seed fails before anything is dropped
    state = LocalState(db=Database(db_path), embedder=HashingEmbedder(), settings=Settings())
    try:
        removed: dict[str, int] = {"collections": 0, "documents": 0, "retrievers": 0, "taxonomies": 0, "clusters": 0}
        for name in names:
            row = state.db.get(ROOT, "namespace", name)
            if row is None:
                continue
            for kind, key in (
                ("collection", "collections"),
                ("retriever", "retrievers"),
                ("taxonomy", "taxonomies"),
                ("cluster", "clusters"),
            ):
                rows = state.db.list(row.id, kind)
                removed[key] += len(rows)
                if kind == "collection":
                    removed["documents"] += sum(state.db.count_documents(row.id, r.id) for r in rows)
            state.db.delete(ROOT, "namespace", row.id)
        loaded: dict[str, int] = {}
        for path in seed_files:
            for key, n in load_seed(state, path, namespace).items():
                loaded[key] = loaded.get(key, 0) + n
        return {"namespaces": names, "removed": removed, "loaded": loaded}
    finally:
        state.close()
