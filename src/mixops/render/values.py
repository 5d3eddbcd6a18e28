"""Wording and value formatting shared by the text and Markdown renderers.

Everything here turns parts of a `Plan` into strings or plain rows; nothing
decides what a plan means. Secrets arrive masked and stay masked: values are
only ever printed as they are in the plan.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from mixops.core.plan import FieldChange, Plan, Step
from mixops.core.surfaces import taxonomy_path
from mixops.core.wording import action_counts, compact, count

UNSET = "(unset)"  # what Plan puts on the absent side of an added or removed field
CREATE_LINES = 40

# The surface a step's field changes have unless said otherwise; the others get a note.
DEFAULT_SURFACE = {"create": "in_place", "update": "in_place", "version": "new_version", "replace": "in_place"}
SURFACE_NOTES = {"in_place": "in place", "new_version": "new version", "replace": "forces replacement"}

RowKind = Literal["add", "remove", "change", "more"]


@dataclass(frozen=True)
class Row:
    """One line of a resource's changes: `kind` says which side(s) it has."""

    kind: RowKind
    path: str
    old: str = ""
    new: str = ""
    note: str = ""
    origin: str = ""  # `(params.search_top_k)`: the parameter the new value comes from


def flatten(spec: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Leaf `path: value` pairs of a spec; scalar lists and empty containers stay whole."""
    if isinstance(spec, dict) and spec:
        for key in sorted(spec):
            yield from flatten(spec[key], f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(spec, list) and spec and any(isinstance(v, dict | list) for v in spec):
        for i, item in enumerate(spec):
            yield from flatten(item, f"{prefix}[{i}]")
    else:
        yield prefix, spec


def headline(step: Step) -> str:
    """`retriever "product_search" will be created`, without the marker."""
    if step.action == "backfill":
        return backfill_headline(step)
    what = f'{step.kind} "{step.name}"'
    reasons = ", ".join(step.replace_reasons)
    verb = "forces" if len(step.replace_reasons) == 1 else "force"
    phrase = {
        "create": "will be created",
        "update": "will be updated in place",
        "version": "will get a new version",
        "replace": f"must be replaced ({reasons} {verb} replacement)" if reasons else "must be replaced",
        "delete": "will be deleted",
        "noop": "is unchanged",
    }[step.action]
    return f"{what} {phrase}"


def backfill_headline(step: Step) -> str:
    """`backfill products with product_tags: 358 documents`."""
    spec = step.desired or {}
    collection, taxonomy = spec.get("collection", "?"), spec.get("taxonomy_id", "?")
    if step.live_id is None:
        held = "the documents it holds once created"
    elif step.documents is None:
        held = "an unknown number of documents"
    else:
        held = f"{step.documents:,} document{'' if step.documents == 1 else 's'}"
    return f"backfill {collection} with {taxonomy}: {held}"


def step_notes(step: Step) -> list[str]:
    """Facts about a step that are not field changes: adoption, recovery, live id."""
    notes = []
    if step.adopt:
        notes.append("adopted: it exists but this stack did not own it (--adopt)")
    if step.recover_from:
        notes.append(f'resumes an interrupted replacement from "{step.recover_from}"')
    if step.detach_first:
        notes.append(f"first detaches entries an interrupted apply left: {', '.join(step.detach_first)}")
    if step.action == "delete" and step.live_id:
        notes.append(f"live id {step.live_id}; owned by this stack and no longer declared")
    if step.action == "backfill":
        notes.append(f"due: {'; '.join(step.backfill_due)}")
        notes.append("runs the apply-taxonomy task over the documents already there (billed), after every other step")
    if step.taxonomy_config is not None:
        notes.append(f"config change: {taxonomy_path(step.taxonomy_config)}")
    if step.kind == "collection" and step.action in ("delete", "replace"):
        if step.documents == 0:
            notes.append("holds no documents")
        else:
            held = "an unknown number of" if step.documents is None else str(step.documents)
            plural = "" if step.documents == 1 else "s"
            notes.append(f"holds {held} document{plural}, lost with it (--allow-data-loss)")
    return notes


def change_rows(step: Step, limit: int = CREATE_LINES) -> list[Row]:
    """The rows shown under a step: field changes, or the desired spec of a create."""
    if step.action == "create":
        pairs = list(flatten(step.desired or {}))
        rows = [
            Row("add", path, new=compact(value), origin=_origin(_under(step, path))) for path, value in pairs[:limit]
        ]
        hidden = len(pairs) - len(rows)
        return rows + ([Row("more", f"... {hidden} more")] if hidden > 0 else [])
    return [_row(step, c) for c in step.changes]


def _row(step: Step, change: FieldChange) -> Row:
    default = DEFAULT_SURFACE.get(step.action, "in_place")
    note = "" if change.surface == default else SURFACE_NOTES.get(change.surface, change.surface)
    origin = _origin(change.params)
    if change.old == UNSET:
        return Row("add", change.path, new=compact(change.new), note=note, origin=origin)
    if change.new == UNSET:
        return Row("remove", change.path, old=compact(change.old), note=note)
    return Row("change", change.path, compact(change.old), compact(change.new), note, origin)


def _origin(params: tuple[str, ...]) -> str:
    """`(params.search_top_k)`: where a value that differs per environment comes from."""
    return f"({', '.join(f'params.{name}' for name in params)})" if params else ""


def _under(step: Step, path: str) -> tuple[str, ...]:
    """The parameters behind a shown field of a create: its own, or those inside it (a list shown whole)."""
    names: list[str] = []
    for at, params in step.params.items():
        if at == path or at.startswith((path + ".", path + "[")):
            names += [n for n in params if n not in names]
    return tuple(names)


def shown_value(row: Row) -> str:
    """The row's new value with its origin: `25 (params.search_top_k)`."""
    return f"{row.new} {row.origin}" if row.origin else row.new


def summary_line(plan: Plan) -> str:
    c = plan.counts()
    if not plan.has_changes:
        return "No changes. Live state matches the manifests."
    backfills = f", {count(c['backfill'], 'backfill')}" if c.get("backfill") else ""
    return f"Plan: {action_counts(c)}{backfills} ({c['noop']} unchanged)."
