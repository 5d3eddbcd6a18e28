"""The API's answers to a PATCH its update surface refuses (422 in the error envelope).

The rules themselves live in the core rule book (`mixops.core.surfaces`), which the
planner reads too: what the local backend refuses is exactly what a plan predicts
to need a replacement. This module only turns a violation into the API's error.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mixops.core.surfaces import (
    CLUSTER_PATCHABLE,
    RETRIEVER_IMMUTABLE,
    RETRIEVER_PATCHABLE,
    TAXONOMY_PATCHABLE,
    input_schema_violations,
)
from mixops.local.problems import ApiProblem

__all__ = [
    "CLOSED_PATCH",
    "CLUSTER_PATCHABLE",
    "RETRIEVER_IMMUTABLE",
    "RETRIEVER_PATCHABLE",
    "TAXONOMY_PATCHABLE",
    "check_input_schema",
    "check_only",
    "immutable_fields",
    "input_schema_violations",
]


@dataclass(frozen=True)
class ClosedPatch:
    """A kind whose PATCH takes only the listed fields, and what its refusals say."""

    fields: tuple[str, ...]
    empty: str  # what an empty PATCH is told to send
    instead: str  # what to do instead of changing any other field


CLOSED_PATCH = {
    "cluster": ClosedPatch(
        CLUSTER_PATCHABLE,
        "send at least one patchable field",
        "Clusters have no clone: create a new cluster with the new configuration and delete this one.",
    ),
    "taxonomy": ClosedPatch(
        TAXONOMY_PATCHABLE,
        "send taxonomy_name, description or metadata",
        "A taxonomy's config is immutable: POST /v1/taxonomies/{id}/versions for a new version, or clone it.",
    ),
}


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
