"""Shared building blocks of the manifest models.

Every model is strict (no type coercion: YAML already gives typed values) and
forbids unknown keys, so a typo is an error with the field's location rather
than a silently ignored setting.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Discriminator, Field, Tag

# Resource names are the identity of every resource (kind, name). They travel
# to the API as retriever_name / taxonomy_name / cluster_name; mixops also
# derives temporary names from them during replacement, hence the length cap.
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"
Name = Annotated[str, Field(min_length=1, max_length=90, pattern=NAME_PATTERN)]

# `{{INPUT.query}}`-style runtime templates (Mixpeek's syntax, double braces;
# the namespace is case-insensitive). Distinct from mixops' own `${{ ... }}`
# placeholders, which are resolved before the models ever see the data.
WHOLE_TEMPLATE_RE = re.compile(r"^\s*\{\{[^{}]+\}\}\s*$")


def _is_template(value: str) -> str:
    if not WHOLE_TEMPLATE_RE.match(value):
        raise ValueError("a whole `{{INPUT.name}}` template")
    return value


Template = Annotated[str, AfterValidator(_is_template)]


# Keys mixops writes into a resource's `metadata`: its ownership records. apply overwrites
# them and the plan leaves them out of every comparison (core/normalise.py, core/bodies.py),
# so a value a manifest gave one would be dropped without a word: refused instead.
OWNER_KEYS = (
    "managed_by",
    "mixops_stack",
    "mixops_digest",
    "mixops_extra",
    "mixops_applied",
    "mixops_tests",
    "mixops_applications",  # on a collection: which stack attached each application entry
)


def _not_an_owner_key(key: str) -> str:
    if key in OWNER_KEYS:
        raise ValueError(
            f"{key!r} is a metadata key mixops writes itself (its record of which stack owns the resource): "
            "apply would overwrite the value given here (use another key name)"
        )
    return key


# A resource's `metadata` in a manifest: any keys but those mixops owns.
UserMetadata = dict[Annotated[str, AfterValidator(_not_an_owner_key)], Any]


def tagged_union(members: dict[str, type[BaseModel]], pick: Callable[[Any], str]) -> Any:
    """A discriminated union of `members` (tag -> model) where `pick` names the tag of an input.

    Tags start with `~` so error locations can drop them (see core/locations.py).
    """
    union: Any = None
    for tag, model in members.items():
        member = Annotated[model, Tag(tag)]  # type: ignore[valid-type]
        union = member if union is None else union | member
    return Annotated[union, Discriminator(pick)]


class StrictModel(BaseModel):
    """Base of every manifest model: strict types, unknown keys refused, no inf/nan.

    Bounds (`ge`, `le`, lengths) mirror the official SDK's request models: what the API
    refuses at execution time is refused here, offline, with the field's location
    (tests/validate/test_sdk_constraints.py keeps them in step).
    """

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True, allow_inf_nan=False)


class EnrichmentField(StrictModel):
    """A field copied from a matched node into the enriched document."""

    field_path: str
    target_field: str | None = None
    merge_mode: Literal["replace", "append"] | None = None


# The operators of a filter condition: the API's list, once. The manifest models take the
# Literal; the local backend's filter engine takes the tuples (it evaluates the value
# operators and refuses the geographic ones).
FilterOperator = Literal[
    "eq", "ne", "gt", "lt", "gte", "lte", "in", "nin", "contains", "starts_with", "ends_with", "regex",
    "exists", "is_null", "text", "phrase", "words", "geo_radius", "geo_bounding_box", "geo_polygon",
]  # fmt: skip
FILTER_OPERATORS: tuple[str, ...] = get_args(FilterOperator)
GEO_OPERATORS = ("geo_radius", "geo_bounding_box", "geo_polygon")
VALUE_OPERATORS = tuple(op for op in FILTER_OPERATORS if op not in GEO_OPERATORS)


def _check_logical(value: Any, path: str = "") -> None:
    """Structural check of a LogicalOperator (mixpeek-api.md 1.6).

    Shorthand `field.path: value` keys are legal, so this only checks the parts
    with a fixed shape: AND/OR/NOT lists and `{field, operator, value}` conditions.
    """
    if not isinstance(value, dict):
        raise ValueError(f"{path or 'filter'} must be a mapping")
    for key in ("AND", "OR", "NOT"):
        if key in value:
            items = value[key]
            if not isinstance(items, list):
                raise ValueError(f"{path}{key} must be a list of conditions")
            for i, item in enumerate(items):
                _check_condition(item, f"{path}{key}[{i}].")
    if "field" in value and "operator" in value:
        _check_condition(value, path)


def _check_condition(item: Any, path: str) -> None:
    if not isinstance(item, dict):
        raise ValueError(f"{path.rstrip('.')} must be a mapping")
    if any(k in item for k in ("AND", "OR", "NOT")):
        _check_logical(item, path)
        return
    if "field" in item:
        op = item.get("operator", "eq")
        if op not in FILTER_OPERATORS:
            raise ValueError(f"{path}operator: unknown operator {op!r} (one of: {', '.join(FILTER_OPERATORS)})")
        if "value" not in item and op not in ("exists", "is_null"):
            raise ValueError(f"{path}value is required for operator {op!r}")


def _logical(value: dict[str, Any]) -> dict[str, Any]:
    _check_logical(value)
    return value


LogicalOperator = Annotated[dict[str, Any], AfterValidator(_logical)]
