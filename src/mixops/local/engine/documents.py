"""Result documents: building them from stored documents and editing fields by dot path.

A result document is ``{document_id, collection_id, score, <user fields at the root>}``
while a pipeline runs; ``finish`` adds the ``payload`` mirror of the user fields
(seed 002's result shape) when the pipeline ends. Editing helpers copy every dict
they change, so stored documents are never mutated.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SYSTEM_KEYS = ("document_id", "collection_id", "score")


def from_stored(stored: Mapping[str, Any], score: float) -> dict[str, Any]:
    """A result document for a stored document."""
    out = {"document_id": stored["document_id"], "collection_id": stored["collection_id"], "score": score}
    out.update((k, v) for k, v in stored.items() if k not in ("document_id", "collection_id"))
    out["score"] = score
    return out


def payload_fields(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The user fields of a stored or result document, as `payload` mirrors them (system keys, `payload`
    and `_internal` removed; local/documents.py `stored_fields` is the write side)."""
    return {k: v for k, v in doc.items() if k not in (*SYSTEM_KEYS, "payload", "_internal")}


def finish(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The response form of a result document: adds ``payload`` mirroring the user fields."""
    out = dict(doc)
    out["payload"] = payload_fields(doc)
    return out


def set_path(doc: dict[str, Any], path: str, value: Any) -> None:
    """Set ``path`` (dot path) in ``doc``, copying nested dicts on the way."""
    parts = path.split(".")
    current = doc
    for part in parts[:-1]:
        child = current.get(part)
        child = dict(child) if isinstance(child, Mapping) else {}
        current[part] = child
        current = child
    current[parts[-1]] = value


def append_path(doc: dict[str, Any], path: str, value: Any) -> None:
    """Append ``value`` (or each item of a list) to the list at ``path``, skipping duplicates."""
    existing = get_plain(doc, path)
    items = list(existing) if isinstance(existing, list) else ([] if existing is None else [existing])
    for item in value if isinstance(value, list) else [value]:
        if item not in items:
            items.append(item)
    set_path(doc, path, items)


def get_plain(doc: Mapping[str, Any], path: str, default: Any = None) -> Any:
    """The value at a dot path through dicts only (no list fan-out), or ``default``."""
    current: Any = doc
    for part in path.split("."):
        if not isinstance(current, Mapping) or part not in current:
            return default
        current = current[part]
    return current
