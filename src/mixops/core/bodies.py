"""Build API request bodies from desired resources (pure).

Manifests hold names; the API takes ids. `to_id(kind, name)` is supplied by
the apply engine and reflects ids created earlier in the same apply (so the
dependents of a replaced resource point at its replacement).
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Callable, Collection, Iterable
from typing import Any

from mixops.core.normalise import MANAGED_BY, normalise, unobserved
from mixops.core.refpaths import rewrite_refs
from mixops.core.surfaces import (
    CLUSTER_PATCH_TOP,
    CLUSTER_PATCH_VECTOR,
    COLLECTION_IN_PLACE,
    COLLECTION_PATCHABLE,
    RETRIEVER_IN_PLACE,
    TAXONOMY_IN_PLACE,
)

NAME_KEY = {
    "retriever": "retriever_name",
    "taxonomy": "taxonomy_name",
    "cluster": "cluster_name",
    "collection": "collection_name",
}
ToId = Callable[[str, str], str]


def spec_of(resource: Any) -> dict[str, Any]:
    """What the user wrote (unset defaults left out), as plain data."""
    out: dict[str, Any] = resource.model_dump(mode="json", by_alias=True, exclude_unset=True, exclude_none=True)
    return out


def spec_digest(kind: str, spec: dict[str, Any]) -> str:
    """Digest of the normalised spec: what drift detection compares the live spec against."""
    norm = normalise(kind, spec)
    norm.pop("name", None)
    return hashlib.sha256(json.dumps(norm, sort_keys=True).encode()).hexdigest()[:16]


def ownership(kind: str, spec: dict[str, Any], stack: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    meta = dict(spec.get("metadata") or {})
    meta.update({"managed_by": MANAGED_BY, "mixops_stack": stack, "mixops_digest": spec_digest(kind, spec)})
    recorded = unobserved(kind, spec)  # fields the read shape never returns (normalise.UNOBSERVED)
    if recorded:
        meta["mixops_extra"] = recorded
    if extra:
        meta.update(extra)
    return meta


def create_body(
    kind: str, spec: dict[str, Any], name: str, stack: str, to_id: ToId, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    body = rewrite_refs(kind, {k: v for k, v in spec.items() if k != "name"}, to_id)
    body[NAME_KEY[kind]] = name
    body["metadata"] = ownership(kind, spec, stack, extra)
    return body


# The keys each PATCH takes come from the rule book (mixpeek-api.md 4.4, 5.4, 6.4).
RETRIEVER_PATCH = RETRIEVER_IN_PLACE
TAXONOMY_PATCH = TAXONOMY_IN_PLACE

# What a PATCH sends to clear a field the manifest no longer has. In Mixpeek's PATCH
# models null means "leave untouched", so a removal needs a value the API stores and
# normalisation reads back as "not set": an empty string or object, the documented
# switch-off (`{enabled: false}`, SDK PatchClusterRequest), or the API default.
CLEARS: dict[str, dict[str, Any]] = {
    "retriever": {"description": "", "tags": [], "visibility": "private", "collection_identifiers": []},
    "taxonomy": {"description": ""},
    "cluster": {"description": "", "filters": {}, "llm_labeling": {"enabled": False}},
    "collection": {"description": "", "enabled": True},
}
assert set(COLLECTION_IN_PLACE) <= set(COLLECTION_PATCHABLE)
CLUSTER_VECTOR_CLEARS: dict[str, Any] = {
    "face_cluster_merge": {"enabled": False},
    "algorithm_params": {},  # the method's defaults (normalise fills them on both sides)
    "layout_stability": "align",  # the documented default mode
}


def changed_keys(changes: Iterable[Any]) -> frozenset[str]:
    """The top-level spec keys a plan step changes (from its FieldChange paths, e.g. `stages[0].config`)."""
    heads = (re.split(r"[.\[]", str(c.path), maxsplit=1)[0] for c in changes)
    return frozenset(h for h in heads if h != "name")


def patch_body(
    kind: str,
    spec: dict[str, Any],
    stack: str,
    to_id: ToId,
    extra: dict[str, Any] | None = None,
    changed: Collection[str] | None = None,
) -> dict[str, Any]:
    """The PATCH body that brings a live resource to `spec`.

    `changed` names the top-level keys the plan found different; only those are
    sent (plus metadata, which carries the ownership stamp), so a description
    edit on a published retriever does not resend its immutable stages. Without
    it, the whole in-place surface is sent. A changed key the spec no longer has
    is sent as its clear value (see CLEARS).
    """
    full = rewrite_refs(kind, spec, to_id)
    meta = ownership(kind, spec, stack, extra)
    wanted = set(changed) if changed is not None else None

    def pick(keys: Iterable[str], clears: dict[str, Any], source: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in keys:
            if wanted is not None and key not in wanted:
                continue
            if source.get(key) is not None:
                out[key] = source[key]
            elif key in clears:
                out[key] = copy.deepcopy(clears[key])
        return out

    if kind == "retriever":
        body = pick(RETRIEVER_PATCH, CLEARS["retriever"], full)
        if wanted is None and "collection_identifiers" not in full:
            body.pop("collection_identifiers", None)  # only an explicit removal empties the collections
    elif kind == "taxonomy":
        body = pick(TAXONOMY_PATCH, CLEARS["taxonomy"], full)
    elif kind == "collection":
        body = pick(COLLECTION_IN_PLACE, CLEARS["collection"], full)
    else:
        body = pick(CLUSTER_PATCH_TOP, CLEARS["cluster"], full)
        if full.get("cluster_type", "vector") == "vector" and (wanted is None or "vector_config" in wanted):
            vector = full.get("vector_config") or {}
            body.update({k: vector[k] for k in CLUSTER_PATCH_VECTOR if vector.get(k) is not None})
            body.update({k: copy.deepcopy(v) for k, v in CLUSTER_VECTOR_CLEARS.items() if vector.get(k) is None})
    body["metadata"] = meta
    return body


def version_body(spec: dict[str, Any], to_id: ToId) -> dict[str, Any]:
    """A new taxonomy config snapshot (POST /v1/taxonomies/{id}/versions)."""
    full = rewrite_refs("taxonomy", spec, to_id)
    return {"config": full["config"]}


def rename_body(kind: str, name: str) -> dict[str, Any]:
    return {NAME_KEY[kind]: name}


# --- application entries: one entry of a collection's list at a time -------------------


def application_entry(spec: dict[str, Any], to_id: ToId) -> dict[str, Any]:
    """The wire entry of an `application` spec: ids for names, without mixops' own keys."""
    full = rewrite_refs("application", spec, to_id)
    return {k: v for k, v in full.items() if k not in ("name", "collection", "type", "backfill")}


def with_entry(entries: list[Any], target_key: str, entry: dict[str, Any]) -> list[dict[str, Any]]:
    """`entries` with `entry` in place of the one for the same applied resource (or appended).

    The other entries are sent back as read, without the nulls of the read shape.
    """
    out: list[dict[str, Any]] = []
    placed = False
    for old in entries:
        if not isinstance(old, dict):
            continue
        if old.get(target_key) == entry[target_key]:
            if not placed:
                out.append(entry)
                placed = True
            continue
        out.append({k: v for k, v in old.items() if v is not None})
    if not placed:
        out.append(entry)
    return out


def without_entry(entries: list[Any], target_key: str, target_id: str) -> list[dict[str, Any]]:
    return [
        {k: v for k, v in old.items() if v is not None}
        for old in entries
        if isinstance(old, dict) and old.get(target_key) != target_id
    ]
