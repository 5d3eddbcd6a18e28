"""The API's answers to a PATCH its update surface refuses (422 in the error envelope).

The rules themselves live in the core rule book (`mixops.core.surfaces`), which the
planner reads too: what the local backend refuses is exactly what a plan predicts
to need a replacement. This module only turns a violation into the API's error.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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
    "CLUSTER_PATCHABLE",
    "RETRIEVER_IMMUTABLE",
    "RETRIEVER_PATCHABLE",
    "TAXONOMY_PATCHABLE",
    "check_input_schema",
    "check_only",
    "immutable_fields",
    "input_schema_violations",
]


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
