"""Update surfaces: what Mixpeek lets mixops change in place (pure).

Each field change is labelled `in_place`, `new_version` or `replace`
(mixpeek-api.md 4.4, 5.4, 6.4). The ordered enum lets a resource's action be
the maximum over its changes, like sqlmesh's change categories.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any


class Surface(IntEnum):
    IN_PLACE = 1
    NEW_VERSION = 2
    REPLACE = 3

    @property
    def label(self) -> str:
        return {1: "in place", 2: "new version", 3: "forces replacement"}[self.value]


RETRIEVER_IN_PLACE = {
    "description",
    "tags",
    "metadata",
    "display_config",
    "visibility",
    "collection_identifiers",
    "stages",
    "input_schema",
}
TAXONOMY_IN_PLACE = {"description", "metadata"}
CLUSTER_IN_PLACE_TOP = {"description", "metadata", "llm_labeling", "filters", "source_cluster_ids"}
CLUSTER_IN_PLACE_VECTOR = {"sample_size", "algorithm_params", "face_cluster_merge", "layout_stability"}


def classify(kind: str, path: tuple[str | int, ...], *, breaking_schema: bool = False) -> Surface:
    head = str(path[0]) if path else ""
    if kind == "retriever":
        if head == "input_schema":
            return Surface.REPLACE if breaking_schema else Surface.IN_PLACE
        return Surface.IN_PLACE if head in RETRIEVER_IN_PLACE else Surface.REPLACE
    if kind == "taxonomy":
        if head in TAXONOMY_IN_PLACE:
            return Surface.IN_PLACE
        return Surface.NEW_VERSION if head == "config" else Surface.REPLACE
    if head in CLUSTER_IN_PLACE_TOP:
        return Surface.IN_PLACE
    if head == "vector_config" and len(path) > 1 and str(path[1]) in CLUSTER_IN_PLACE_VECTOR:
        return Surface.IN_PLACE
    return Surface.REPLACE


def input_schema_violations(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Breaking input_schema changes as Mixpeek's PATCH refuses them (5.4)."""
    out = []
    for key, spec in old.items():
        if key not in new:
            out.append(f"input {key!r} removed")
            continue
        if spec.get("type") != new[key].get("type"):
            out.append(f"input {key!r} type {spec.get('type')} -> {new[key].get('type')}")
        if new[key].get("required") and not spec.get("required"):
            out.append(f"input {key!r} newly required")
    for key, spec in new.items():
        if key not in old and spec.get("required") and spec.get("default") is None:
            out.append(f"new input {key!r} is required")
    return out
