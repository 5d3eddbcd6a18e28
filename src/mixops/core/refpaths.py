"""Where references live inside a resource spec (pure, on plain dicts).

One table serves three jobs: offline reference checks (names declared?), the
write path (names -> ids for the API) and the read path (ids -> names before
diffing). Paths use `*` for "every item of this list".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Path = tuple[str | int, ...]

# (kind, pattern, referenced kind). A pattern ending in "*" is a list of references.
_STAGE = ("stages", "*", "config", "parameters")
REF_PATTERNS: dict[str, tuple[tuple[tuple[str, ...], str], ...]] = {
    "retriever": (
        (("collection_identifiers", "*"), "collection"),
        ((*_STAGE, "collection_identifiers", "*"), "collection"),
        ((*_STAGE, "searches", "*", "collection_identifiers", "*"), "collection"),
        ((*_STAGE, "searches", "*", "query", "document_ref", "collection_id"), "collection"),
        ((*_STAGE, "taxonomy_id"), "taxonomy"),
        ((*_STAGE, "retriever_id"), "retriever"),
        ((*_STAGE, "target_collection_id"), "collection"),
    ),
    "taxonomy": (
        (("config", "retriever_id"), "retriever"),
        (("config", "source_collection", "collection_id"), "collection"),
        (("config", "hierarchical_nodes", "*", "collection_id"), "collection"),
        (("config", "hierarchical_nodes", "*", "parent_collection_id"), "collection"),
        (("config", "hierarchical_nodes", "*", "retriever_id"), "retriever"),
        (("config", "inference_collections", "*"), "collection"),
        (("config", "cluster_ids", "*"), "cluster"),
    ),
    "cluster": (
        (("collection_ids", "*"), "collection"),
        (("source_cluster_ids", "*"), "cluster"),
    ),
}

# Stage parameters whose reference meaning depends on the stage id.
_STAGE_REF_OWNER = {
    "taxonomy_id": ("taxonomy_enrich", "taxonomy_join"),
    "retriever_id": ("document_enrich",),
    "target_collection_id": ("document_enrich",),
}


def iter_refs(kind: str, spec: dict[str, Any]) -> list[tuple[Path, str, Any]]:
    """Every (path, referenced kind, value) for each reference present in `spec`."""
    out: list[tuple[Path, str, Any]] = []
    for pattern, ref_kind in REF_PATTERNS[kind]:
        hits: list[tuple[Path, Any]] = []
        _collect(spec, pattern, 0, (), hits)
        for path, value in hits:
            if not isinstance(value, str):
                continue
            if kind == "retriever" and len(path) > 4 and path[0] == "stages" and path[3] == "parameters":
                owners = _STAGE_REF_OWNER.get(str(path[4]))
                stage_id = spec["stages"][path[1]].get("config", {}).get("stage_id")
                if owners is not None and stage_id not in owners:
                    continue
                # `parent_collection_id` of a hierarchical node is a reference too, handled by pattern.
            out.append((path, ref_kind, value))
    return out


def _collect(node: Any, pattern: tuple[str, ...], i: int, path: Path, hits: list[tuple[Path, Any]]) -> None:
    """Append (path, value) for every match of pattern[i:] under `node` (runs per resource per plan)."""
    end = len(pattern)
    while i < end:
        head = pattern[i]
        if head == "*":
            if isinstance(node, list):
                for j, item in enumerate(node):
                    _collect(item, pattern, i + 1, (*path, j), hits)
            return
        if not isinstance(node, dict) or head not in node:
            return
        node = node[head]
        path = (*path, head)
        i += 1
    hits.append((path, node))


def set_path(spec: dict[str, Any], path: Path, value: Any) -> None:
    node: Any = spec
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


def rewrite_refs(kind: str, spec: dict[str, Any], mapping: Callable[[str, str], str]) -> dict[str, Any]:
    """A deep copy of `spec` with every reference value replaced by `mapping(ref_kind, value)`."""
    import copy

    out = copy.deepcopy(spec)
    for path, ref_kind, value in list(iter_refs(kind, out)):
        set_path(out, path, mapping(ref_kind, value))
    return out
