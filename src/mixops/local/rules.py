"""The real API's update surfaces (mixpeek-api.md 4.4, 5.4, 6.4) as pure checks.

Each check returns nothing or raises an ``ApiProblem`` (422) naming every offending
field, so a client learns all of them from one answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from mixops.local.problems import ApiProblem

TAXONOMY_PATCHABLE = ("taxonomy_name", "description", "metadata")

RETRIEVER_PATCHABLE = (
    "retriever_name",
    "description",
    "tags",
    "metadata",
    "display_config",
    "visibility",
    "marketplace_listing_id",
    "requires_subscription",
    "collection_identifiers",
    "stages",
    "input_schema",
)
RETRIEVER_IMMUTABLE = {
    "budget_limits": "budget_limits cannot be changed in place; clone the retriever with new limits",
    "retriever_id": "retriever_id is assigned by the server",
    "version": "version is assigned by the server (it increments on every update)",
    "fusion": "fusion is derived from the feature_search stage",
    "feature_dependencies": "feature_dependencies are derived from the stages",
    "created_at": "created_at is assigned by the server",
    "updated_at": "updated_at is assigned by the server",
    "is_published": "use the publish endpoints",
}

CLUSTER_PATCHABLE = (
    "cluster_name",
    "description",
    "metadata",
    "llm_labeling",
    "filters",
    "face_cluster_merge",
    "sample_size",
    "algorithm_params",
    "source_cluster_ids",
    "layout_stability",
)


def immutable_fields(fields: Iterable[str], hint: str) -> ApiProblem:
    names = sorted(fields)
    return ApiProblem(
        422,
        f"Field(s) not updatable in place: {', '.join(names)}. {hint}",
        "validation_error",
        "immutable_field",
        {
            "fields": names,
            "validation_errors": [
                {"loc": ["body", n], "msg": f"'{n}' cannot be changed with PATCH", "type": "immutable_field"}
                for n in names
            ],
        },
    )


def check_only(keys: Iterable[str], allowed: Iterable[str], hint: str) -> None:
    bad = set(keys) - set(allowed)
    if bad:
        raise immutable_fields(bad, hint)


def input_schema_violations(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> list[str]:
    """Breaking changes from ``old`` to ``new``: removed field, type change, newly required."""
    old = old or {}
    new = new or {}
    out: list[str] = []
    for name, field in old.items():
        if name not in new:
            out.append(f"input_schema.{name}: field removed")
            continue
        old_type = field.get("type") if isinstance(field, Mapping) else None
        new_field = new[name] if isinstance(new[name], Mapping) else {}
        if old_type != new_field.get("type"):
            out.append(f"input_schema.{name}: type changed from {old_type!r} to {new_field.get('type')!r}")
        if not (isinstance(field, Mapping) and field.get("required")) and new_field.get("required"):
            out.append(f"input_schema.{name}: field became required")
    for name, field in new.items():
        if name not in old and isinstance(field, Mapping) and field.get("required"):
            out.append(f"input_schema.{name}: new field is required (new fields must be optional)")
    return out


def check_input_schema(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> None:
    violations = input_schema_violations(old, new)
    if violations:
        raise ApiProblem(
            422,
            "Breaking input_schema change (clone the retriever instead): " + "; ".join(violations),
            "validation_error",
            "breaking_input_schema_change",
            {"violations": violations},
        )
