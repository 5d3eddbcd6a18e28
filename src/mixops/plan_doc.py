"""The plan document's JSON Schema and docs/plan-json.md's field tables, generated from the models.

core/plan.py's `Plan` (with `Step`, `FieldChange` and core/outcomes.py's `TestOutcome`) is the
one description of a plan: `mixops plan --format json` writes it, `mixops apply plan.json`
reads it back strictly, and this module turns the same models into
`schemas/mixops-plan.schema.json` and the tables between the `generated` markers of
docs/plan-json.md. tests/arch/test_plan_doc.py fails when either is stale.

    python -m mixops.plan_doc           # rewrite both in the source tree
    python -m mixops.plan_doc --check   # exit 1 naming what is stale
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SCHEMA_NAME = "mixops-plan.schema.json"
SCHEMA_BASE = "https://github.com/mixops/mixops/schemas/"
BEGIN = "<!-- generated from core/plan.py's models by `python -m mixops.plan_doc`; do not edit by hand -->"
END = "<!-- end of generated tables -->"


def plan_schema() -> dict[str, Any]:
    """The JSON Schema of a plan document as mixops writes it (derived `counts` and `marker` included)."""
    from mixops.core.plan import Plan

    schema = Plan.model_json_schema(mode="serialization", by_alias=True)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_BASE + SCHEMA_NAME,
        "title": "mixops plan (plan --format json, plan --out, apply PLAN_FILE)",
        **schema,
    }


def render_schema() -> str:
    return json.dumps(plan_schema(), indent=2, sort_keys=True) + "\n"


def render_tables() -> str:
    """One Markdown table for the top level, then one per top-level array of objects (`steps[]`, `tests[]`)."""
    schema = plan_schema()
    defs: dict[str, Any] = schema["$defs"]
    top: list[tuple[str, str, str]] = []
    sections: list[tuple[str, list[tuple[str, str, str]]]] = []
    for name, node in schema["properties"].items():
        ref = _array_ref(node)
        top.append((f"`{name}`", _type(node, defs), _description(node, defs)))
        if ref is not None:
            sections.append((f"{name}[]", list(_rows(defs[ref], f"{name}[].", defs))))
        else:
            top.extend(_rows_below(node, name, defs))
    out = [BEGIN, "", "## Top level", "", *_table(top)]
    for title, rows in sections:
        out += ["", f"## `{title}`", "", *_table(rows)]
    return "\n".join([*out, "", END])


def _table(rows: list[tuple[str, str, str]]) -> list[str]:
    return ["| field | type | meaning |", "| --- | --- | --- |", *(f"| {a} | {b} | {c} |" for a, b, c in rows)]


def _rows(model: dict[str, Any], prefix: str, defs: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    for name, node in model.get("properties", {}).items():
        path = prefix + name
        yield f"`{path}`", _type(node, defs), _description(node, defs)
        yield from _rows_below(node, path, defs)


def _rows_below(node: dict[str, Any], path: str, defs: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """The rows of a field's own fields (an object, or an array of objects); a model used twice
    (`desired` and `live`) is listed at both places, so every path a plan holds has its row."""
    ref, suffix = _object_ref(node), "."
    if ref is None:
        ref, suffix = _array_ref(node), "[]."
    if ref is not None:
        yield from _rows(defs[ref], path + suffix, defs)
        return
    # A map whose keys are a fixed set of names (`capabilities`): one object per name.
    value = node.get("additionalProperties")
    names = node.get("propertyNames", {})
    if not isinstance(value, dict):
        return
    ref = _ref_name(value)
    if ref is not None and ("const" in names or "enum" in names):
        for name in names.get("enum", [names.get("const")]):
            yield f"`{path}.{name}`", "object", _description(value, defs)
            yield from _rows(defs[ref], f"{path}.{name}.", defs)


def _ref_name(node: dict[str, Any]) -> str | None:
    ref = node.get("$ref")
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None


def _object_ref(node: dict[str, Any]) -> str | None:
    """The model of an object field (`X` or `X | None`), if it is one."""
    for alt in [node, *node.get("anyOf", [])]:
        name = _ref_name(alt)
        if name is not None:
            return name
    return None


def _array_ref(node: dict[str, Any]) -> str | None:
    return _ref_name(node["items"]) if node.get("type") == "array" and isinstance(node.get("items"), dict) else None


def _type(node: dict[str, Any], defs: dict[str, Any]) -> str:
    alts = node.get("anyOf")
    if alts:
        return " or ".join(_type(a, defs) for a in alts)
    kind = node.get("type")
    if kind == "null":
        return "null"
    ref = _ref_name(node)
    if ref is not None:
        return _type(defs[ref], defs)  # a model is an object; an enum is a string
    if kind == "array":
        if "prefixItems" in node:
            return "[" + ", ".join(_type(i, defs) for i in node["prefixItems"]) + "]"
        items = node.get("items")
        if not isinstance(items, dict):
            return "array"
        inner = _type(items, defs)
        return f"array of {'objects' if inner == 'object' else inner + 's' if ' ' not in inner else inner}"
    if kind in ("string", "integer", "number", "boolean", "object"):
        return str(kind)
    if "const" in node or "enum" in node:
        values = node.get("enum", [node.get("const")])
        return "string" if all(isinstance(v, str) for v in values) else "integer"
    return "any"


def _description(node: dict[str, Any], defs: dict[str, Any]) -> str:
    text = node.get("description")
    if text is None:
        ref = _object_ref(node) or _array_ref(node)
        text = defs[ref].get("description", "") if ref else ""
    return " ".join(str(text).split()).replace("|", "\\|")


def splice(doc: str, tables: str) -> str:
    """`doc` with the text between the markers replaced by `tables` (markers included)."""
    start, end = doc.find(BEGIN), doc.find(END)
    if start < 0 or end < start:
        raise ValueError(f"the generated-table markers are missing; put {BEGIN!r} and {END!r} around the tables")
    return doc[:start] + tables + doc[end + len(END) :]


def source_tree() -> Path:
    """The mixops source tree this module runs from (the files are the repository's, not a project's)."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").is_file() and (parent / "docs" / "plan-json.md").is_file():
            return parent
    raise FileNotFoundError("not running from a mixops source tree (no pyproject.toml with docs/plan-json.md)")


def stale(root: Path) -> dict[Path, str]:
    """Each generated file that differs from what the models give, with its fresh text."""
    schema_path, doc_path = root / "schemas" / SCHEMA_NAME, root / "docs" / "plan-json.md"
    doc = doc_path.read_text(encoding="utf-8")
    fresh = {schema_path: render_schema(), doc_path: splice(doc, render_tables())}
    return {p: t for p, t in fresh.items() if not p.is_file() or p.read_text(encoding="utf-8") != t}


def main(argv: list[str]) -> int:
    root = source_tree()
    out = stale(root)
    for path, text in out.items():
        shown = path.relative_to(root).as_posix()
        if "--check" in argv:
            print(f"stale: {shown} (run `python -m mixops.plan_doc`)", file=sys.stderr)
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {shown}")
    return 1 if out and "--check" in argv else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
