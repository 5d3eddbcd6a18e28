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
    "collection": (
        (("source", "collection_id"), "collection"),
        (("source", "collection_ids", "*"), "collection"),
    ),
    # One entry of a collection's application lists (core/models/collection.Application).
    "application": (
        (("collection",), "collection"),
        (("taxonomy_id",), "taxonomy"),
        (("cluster_id",), "cluster"),
        (("retriever_id",), "retriever"),
        (("target_collection_id",), "collection"),
    ),
}

# Stage parameters whose reference meaning depends on the stage id.
_STAGE_REF_OWNER = {
    "taxonomy_id": ("taxonomy_enrich", "taxonomy_join"),
    "retriever_id": ("document_enrich",),
    "target_collection_id": ("document_enrich",),
}


class _Node:
    """One step of the patterns of a kind, merged into a trie: patterns that share a prefix
    (six of the retriever's run under stages.*.config.parameters) walk it once."""

    __slots__ = ("ends", "keys", "star")

    def __init__(self) -> None:
        self.keys: dict[str, _Node] = {}
        self.star: _Node | None = None
        self.ends: list[tuple[int, str]] = []  # (pattern index, referenced kind) ending here

    def child(self, head: str) -> _Node:
        if head == "*":
            self.star = self.star or _Node()
            return self.star
        return self.keys.setdefault(head, _Node())


def _trie(patterns: tuple[tuple[tuple[str, ...], str], ...]) -> _Node:
    root = _Node()
    for index, (pattern, ref_kind) in enumerate(patterns):
        node = root
        for head in pattern:
            node = node.child(head)
        node.ends.append((index, ref_kind))
    return root


# Built once, when the module loads: REF_PATTERNS is a constant table (never edit it at run time).
_TRIES = {kind: _trie(patterns) for kind, patterns in REF_PATTERNS.items()}


def iter_refs(kind: str, spec: dict[str, Any]) -> list[tuple[Path, str, Any]]:
    """Every (path, referenced kind, value) for each reference present in `spec`.

    In pattern order (REF_PATTERNS), and in document order within a pattern.
    """
    hits: list[tuple[int, Path, str, Any]] = []
    _walk(spec, _TRIES[kind], (), hits)
    hits.sort(key=lambda hit: hit[0])  # stable: document order stays within a pattern
    out: list[tuple[Path, str, Any]] = []
    for _, path, ref_kind, value in hits:
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


def _walk(value: Any, node: _Node, path: Path, hits: list[tuple[int, Path, str, Any]]) -> None:
    """Append (pattern index, path, referenced kind, value) for every pattern ending under `value`
    (runs per resource per plan, desired and live)."""
    for index, ref_kind in node.ends:
        hits.append((index, path, ref_kind, value))
    if node.keys and isinstance(value, dict):
        for head, child in node.keys.items():
            if head in value:
                _walk(value[head], child, (*path, head), hits)
    star = node.star
    if star is not None and isinstance(value, list):
        for j, item in enumerate(value):
            _walk(item, star, (*path, j), hits)


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
