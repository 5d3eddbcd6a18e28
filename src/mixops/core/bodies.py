"""Build API request bodies from desired resources (pure).

Manifests hold names; the API takes ids. `to_id(kind, name)` is supplied by
the apply engine and reflects ids created earlier in the same apply (so the
dependents of a replaced resource point at its replacement).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from mixops.core.normalise import MANAGED_BY, cluster_unobserved, normalise
from mixops.core.refpaths import rewrite_refs

NAME_KEY = {"retriever": "retriever_name", "taxonomy": "taxonomy_name", "cluster": "cluster_name"}
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
    if kind == "cluster":
        unobserved = cluster_unobserved(spec)
        if unobserved:
            meta["mixops_extra"] = unobserved
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


# Cluster PATCH takes these keys only (mixpeek-api.md 6.4); vector_config ones are flattened.
CLUSTER_PATCH_TOP = ("description", "metadata", "llm_labeling", "filters", "source_cluster_ids")
CLUSTER_PATCH_VECTOR = ("sample_size", "algorithm_params", "face_cluster_merge", "layout_stability")
RETRIEVER_PATCH = ("description", "tags", "metadata", "display_config", "visibility", "collection_identifiers",
                   "stages", "input_schema")  # fmt: skip


def patch_body(
    kind: str, spec: dict[str, Any], stack: str, to_id: ToId, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The full in-place surface with desired values (absent keys reset where the API allows)."""
    full = rewrite_refs(kind, spec, to_id)
    meta = ownership(kind, spec, stack, extra)
    if kind == "retriever":
        body = {k: full[k] for k in RETRIEVER_PATCH if k in full}
        body.setdefault("tags", [])  # tags replace as a whole: an absent list clears them
        body["metadata"] = meta
        return body
    if kind == "taxonomy":
        out: dict[str, Any] = {"metadata": meta}
        if full.get("description") is not None:
            out["description"] = full["description"]
        return out
    body = {k: full[k] for k in CLUSTER_PATCH_TOP if full.get(k) is not None}
    vector = full.get("vector_config") or {}
    body.update({k: vector[k] for k in CLUSTER_PATCH_VECTOR if vector.get(k) is not None})
    body["metadata"] = meta
    return body


def version_body(spec: dict[str, Any], to_id: ToId) -> dict[str, Any]:
    """A new taxonomy config snapshot (POST /v1/taxonomies/{id}/versions)."""
    full = rewrite_refs("taxonomy", spec, to_id)
    return {"config": full["config"]}


def rename_body(kind: str, name: str) -> dict[str, Any]:
    return {NAME_KEY[kind]: name}
