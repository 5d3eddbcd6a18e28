"""Seed data: collections (with documents) and retrievers loaded idempotently.

A seed file is YAML or JSON::

    namespace: catalog-dev            # optional; else the namespace passed in
    collections:
      - collection_name: products
        collection_id: col_products_v1     # optional: a chosen id (the seeds' ids)
        feature_extractor: {feature_extractor_name: text_extractor, version: v1,
                            input_mappings: {text: title}}
        documents:
          - {document_id: p1, title: red running shoes, category: running}
          - {title: leather boots, vectors: {...}}   # id derived from the content
        documents_file: products.jsonl              # relative to the seed file
    retrievers:                          # optional, create-request bodies
      - {retriever_id: ret_clip_v1, retriever_name: clip, collection_identifiers: [products], stages: [...]}

Loading twice changes nothing: existing collections and retrievers (matched by name)
are kept as they are, and documents are upserted under stable ids (given
``document_id``, else a hash of their content).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from mixops.errors import SeedError
from mixops.local.api.collections import create_collection
from mixops.local.api.deps import LocalState, Settings
from mixops.local.api.namespaces import ensure_namespace
from mixops.local.api.retrievers import create_retriever
from mixops.local.applications import enricher_for
from mixops.local.db import Database
from mixops.local.documents import ingest
from mixops.local.engine.embedder import HashingEmbedder
from mixops.local.problems import ApiProblem


def _state_of(target: Any) -> LocalState:
    if isinstance(target, LocalState):
        return target
    if isinstance(target, Database):
        return LocalState(db=target, embedder=HashingEmbedder(), settings=Settings())
    state = getattr(getattr(target, "state", None), "local", None)
    if isinstance(state, LocalState):
        return state
    raise TypeError("load_seed needs a LocalState, a Database or an app made by create_app")


def _read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SeedError(f"{path}: cannot read seed file ({exc.strerror})") from exc
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise SeedError(f"{path}: not valid {'JSON' if path.suffix == '.json' else 'YAML'}: {exc}") from exc
    if not isinstance(data, dict):
        raise SeedError(f"{path}: a seed file is a mapping with a 'collections' list")
    return data


def _jsonl(path: Path) -> list[dict[str, Any]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise SeedError(f"{path}: cannot read documents file ({exc.strerror})") from exc
    out = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
        except ValueError as exc:
            raise SeedError(f"{path}:{n}: not valid JSON: {exc}") from exc
        if not isinstance(doc, dict):
            raise SeedError(f"{path}:{n}: each line must be a JSON object")
        out.append(doc)
    return out


def load_seed(target: Any, path: str | Path, namespace: str = "default") -> dict[str, int]:
    """Load one seed file into ``namespace`` (unless the file names one); returns counts."""
    state = _state_of(target)
    path = Path(path)
    data = _read(path)
    ns = ensure_namespace(state.db, str(data.get("namespace") or namespace))
    counts = {"collections": 0, "documents": 0, "retrievers": 0}
    for i, entry in enumerate(data.get("collections") or []):
        where = f"{path}: collections[{i}]"
        if not isinstance(entry, Mapping) or not isinstance(entry.get("collection_name"), str):
            raise SeedError(f"{where}: needs a collection_name")
        try:
            row = state.db.get(ns, "collection", entry.get("collection_id") or entry["collection_name"])
            if row is None:
                request = {k: v for k, v in entry.items() if k not in ("documents", "documents_file")}
                row = create_collection(state, ns, request)
                counts["collections"] += 1
            docs = list(entry.get("documents") or [])
            if entry.get("documents_file"):
                docs += _jsonl(path.parent / str(entry["documents_file"]))
            if not all(isinstance(d, Mapping) for d in docs):
                raise SeedError(f"{where}.documents: each document must be a mapping")
            for start in range(0, len(docs), 1000):
                counts["documents"] += len(
                    ingest(
                        state.db,
                        state.embedder,
                        ns,
                        row.body,
                        docs[start : start + 1000],
                        id_from_content=True,
                        enrich=enricher_for(state, ns, row.body),
                    )
                )
        except ApiProblem as exc:
            raise SeedError(f"{where}: {exc.message}") from exc
    for i, entry in enumerate(data.get("retrievers") or []):
        where = f"{path}: retrievers[{i}]"
        if not isinstance(entry, Mapping) or not isinstance(entry.get("retriever_name"), str):
            raise SeedError(f"{where}: needs a retriever_name")
        if state.db.get(ns, "retriever", entry.get("retriever_id") or entry["retriever_name"]) is not None:
            continue
        if not isinstance(entry.get("stages"), list) or not entry["stages"]:
            raise SeedError(f"{where}: needs a non-empty stages list")
        try:
            request = {k: v for k, v in entry.items() if k != "retriever_id"}
            create_retriever(state, ns, request, retriever_id=entry.get("retriever_id"))
        except ApiProblem as exc:
            raise SeedError(f"{where}: {exc.message}") from exc
        counts["retrievers"] += 1
    return counts
