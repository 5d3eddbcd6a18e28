"""The rule book of Mixpeek's update surfaces: what may change in place (pure).

One place for the API's PATCH rules (mixpeek-api.md 4.4, 5.4, 6.4). The planner
labels every field change with them; the local backend refuses exactly what they
refuse (local/rules.py turns a violation into the API's error answer); the request
builders send only the fields they list. Keeping them in one module is the point:
two copies of these rules once disagreed, and a plan announced an update that the
API then refused.

Each field change is labelled `in_place`, `new_version` or `replace`. The ordered
enum lets a resource's action be the maximum over its changes, like sqlmesh's
change categories.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

Path = tuple[str | int, ...]


class Surface(IntEnum):
    IN_PLACE = 1
    NEW_VERSION = 2
    REPLACE = 3

    @property
    def label(self) -> str:
        return {1: "in place", 2: "new version", 3: "forces replacement"}[self.value]


# --- the wire: which keys each PATCH model accepts -----------------------------------

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
# Keys a retriever PATCH refuses, with the remedy the refusal names.
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

# Cluster PATCH is flat: the vector_config keys it takes are sent at the top level.
CLUSTER_PATCH_TOP = ("description", "metadata", "llm_labeling", "filters", "source_cluster_ids")
CLUSTER_PATCH_VECTOR = ("sample_size", "algorithm_params", "face_cluster_merge", "layout_stability")
CLUSTER_PATCHABLE = ("cluster_name", *CLUSTER_PATCH_TOP, *CLUSTER_PATCH_VECTOR)

# Collection PATCH (mixpeek-api.md 3.4): the SDK types its body as a free object. The
# endpoint names collection_name, description, taxonomy_applications and enabled; the
# clone description adds metadata, schedule, tiering "and the other mutable fields";
# model texts add index_map and retriever_transform.retriever_version. ASSUMPTION: the
# other application lists (cluster_applications, the API itself writes entries there;
# alert_applications; retriever_enrichments) are among "the other mutable fields".
COLLECTION_PATCHABLE = (
    "collection_name",
    "description",
    "enabled",
    "metadata",
    "schedule",
    "taxonomy_applications",
    "cluster_applications",
    "alert_applications",
    "retriever_enrichments",
    "index_map",
    "tiering",
    "retriever_transform",  # only its retriever_version (the pin)
)
# Keys a collection PATCH refuses, with the remedy the refusal names.
COLLECTION_CLONE_HINT = "cannot be changed in place; clone the collection (POST /v1/collections/{id}/clone) instead"
COLLECTION_IMMUTABLE = {
    "source": COLLECTION_CLONE_HINT,
    "feature_extractor": COLLECTION_CLONE_HINT,
    "features": COLLECTION_CLONE_HINT,
    "input_schema": COLLECTION_CLONE_HINT,
    "embedding_task": COLLECTION_CLONE_HINT,
    "collection_id": "collection_id is assigned by the server",
    "tiering_rules": "tiering_rules writes are refused; use tiering",
}
# The only key of retriever_transform a PATCH may send.
COLLECTION_TRANSFORM_PATCHABLE = ("retriever_version",)

# --- the manifest: which top-level spec fields change in place -----------------------

RETRIEVER_IN_PLACE = (
    "description",
    "tags",
    "metadata",
    "display_config",
    "visibility",
    "collection_identifiers",
    "stages",  # only while unpublished: see STAGES_NEED_UNPUBLISHED
    "input_schema",  # only non-breaking changes: see input_schema_violations
)
TAXONOMY_IN_PLACE = ("description", "metadata")
# A config change is a new version where the API shows it has them (POST
# /v1/taxonomies/{id}/versions, same id), else a replacement: the SDK contradicts itself
# ("Version: (Not implemented) - Use clone"), so the plan asks (ports/capabilities.py).
TAXONOMY_VERSIONED = ("config",)
NO_VERSIONS = "this API has no taxonomy versions"
# A collection's build (source, extractor or features, input_schema, embedding_task) is
# immutable: a change there replaces the collection, and its documents with it. The
# application lists are not here: each entry is a resource of kind `application`, patched
# into its collection's list in place (APPLICATION_IN_PLACE).
COLLECTION_IN_PLACE = ("description", "enabled", "metadata", "schedule")

# In-place fields with no clear value: null leaves them untouched, and `sample_size`
# or a `display_config` (required title, inputs, exposed_fields) has no "unset"
# value the API accepts. Removing one is only possible by replacing the resource.
UNCLEARABLE: dict[str, frozenset[tuple[str, ...]]] = {
    "retriever": frozenset({("display_config",)}),
    "taxonomy": frozenset(),
    "cluster": frozenset({("vector_config", "sample_size"), ("source_cluster_ids",)}),
    # No documented way to remove a schedule in place (null leaves it untouched).
    "collection": frozenset({("schedule",)}),
}


def removal_forces_replace(kind: str, path: Path) -> bool:
    """True when removing the field at `path` (the whole field, not a part of it) cannot be patched."""
    return tuple(str(p) for p in path) in UNCLEARABLE.get(kind, frozenset())


def input_schema_violations(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> list[str]:
    """The breaking changes from `old` to `new` input_schema, as the retriever PATCH refuses them.

    mixpeek-api.md 5.4: allowed are adding default / examples / description to a
    field and adding a new OPTIONAL field; refused (422) are removing a field,
    changing its type and making a field required (a new one included, default or not).
    """
    old = old or {}
    new = new or {}
    out: list[str] = []
    for name, field in old.items():
        old_field = field if isinstance(field, Mapping) else {}
        if name not in new:
            out.append(f"input_schema.{name}: field removed")
            continue
        new_field = new[name] if isinstance(new[name], Mapping) else {}
        if old_field.get("type") != new_field.get("type"):
            out.append(f"input_schema.{name}: type changed from {old_field.get('type')!r} to {new_field.get('type')!r}")
        if new_field.get("required") and not old_field.get("required"):
            out.append(f"input_schema.{name}: field became required")
    for name, field in new.items():
        if name not in old and isinstance(field, Mapping) and field.get("required"):
            out.append(f"input_schema.{name}: new field is required (new fields must be optional)")
    return out


@dataclass(frozen=True)
class Context:
    """What the rules need besides the changed path: the state of the two specs."""

    schema_violations: tuple[str, ...] = ()  # input_schema_violations(live, desired)
    published: bool = False  # the live retriever is published: its stages are frozen
    taxonomy_versions: bool = True  # the API takes POST /v1/taxonomies/{id}/versions


def context(
    kind: str,
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    *,
    published: bool = False,
    taxonomy_versions: bool = True,
) -> Context:
    if kind == "taxonomy":
        return Context(taxonomy_versions=taxonomy_versions)
    if kind != "retriever":
        return Context()
    violations = input_schema_violations(old.get("input_schema"), new.get("input_schema"))
    return Context(tuple(violations), published)


TAXONOMY_PATHS = {
    "new_version": "a new version (POST /v1/taxonomies/{id}/versions, same id): this API has taxonomy versions",
    "replacement": (
        f"a replacement ({NO_VERSIONS}): a new taxonomy under a temporary name, tested, dependents "
        "re-pointed, the old one deleted, then renamed"
    ),
}


def taxonomy_path(taxonomy_config: str) -> str:
    """How a taxonomy's config change is made, in words (a plan step's `taxonomy_config`)."""
    return TAXONOMY_PATHS.get(taxonomy_config, taxonomy_config)


def taxonomy_config_surface(ctx: Context) -> Surface:
    """How a taxonomy's config changes (a re-pointed reference included): a new version, or a replacement."""
    return Surface.NEW_VERSION if ctx.taxonomy_versions else Surface.REPLACE


def classify(kind: str, path: Path, ctx: Context = Context(), *, removed: bool = False) -> Surface:
    """The surface of one field change at `path` (`removed`: the new side no longer has it)."""
    head = str(path[0]) if path else ""
    if removed and removal_forces_replace(kind, path):
        return Surface.REPLACE  # the API has no way to clear this field in place
    if kind == "retriever":
        if head == "input_schema":
            return Surface.REPLACE if ctx.schema_violations else Surface.IN_PLACE
        if head == "stages" and ctx.published:
            return Surface.REPLACE  # PATCH refuses stages on a published retriever
        return Surface.IN_PLACE if head in RETRIEVER_IN_PLACE else Surface.REPLACE
    if kind == "taxonomy":
        if head in TAXONOMY_IN_PLACE:
            return Surface.IN_PLACE
        return taxonomy_config_surface(ctx) if head in TAXONOMY_VERSIONED else Surface.REPLACE
    if kind == "collection":
        return Surface.IN_PLACE if head in COLLECTION_IN_PLACE else Surface.REPLACE
    if kind == "application":
        return Surface.IN_PLACE  # an entry of its collection's list, rewritten by a PATCH
    if head in CLUSTER_PATCH_TOP:
        return Surface.IN_PLACE
    if head == "vector_config" and len(path) > 1 and str(path[1]) in CLUSTER_PATCH_VECTOR:
        return Surface.IN_PLACE
    return Surface.REPLACE


def replace_reason(kind: str, path: Path, ctx: Context) -> str:
    """How the plan names the field that forces a replacement."""
    from mixops.core.locations import render_path

    if kind == "retriever" and path and path[0] == "input_schema" and ctx.schema_violations:
        return "input_schema (" + "; ".join(ctx.schema_violations) + ")"
    if kind == "retriever" and path and path[0] == "stages" and ctx.published:
        return "stages (the retriever is published)"
    if kind == "taxonomy" and path and path[0] in TAXONOMY_VERSIONED and not ctx.taxonomy_versions:
        return f"config ({NO_VERSIONS})"
    return render_path(path[:2] if path and path[0] == "vector_config" else path[:1])
