"""The JSON plan is stable, versioned, documented, and can be applied like a saved plan."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tests.render.golden import check_golden
from tests.render.plans import full_plan, noop_plan

from mixops.core.plan import Plan
from mixops.render import render

DOC = Path(__file__).resolve().parents[2] / "docs" / "plan-json.md"


def test_golden() -> None:
    check_golden("full.json", render(full_plan(), "json"))


def test_same_as_a_saved_plan_and_round_trips() -> None:
    for plan in (full_plan(), noop_plan()):
        text = render(plan, "json")
        assert text == plan.dumps()
        assert Plan.from_json(json.loads(text)) == plan


def test_sorted_keys_indent_two_and_step_order_kept() -> None:
    text = render(full_plan(), "json")
    data = json.loads(text)
    assert text == json.dumps(data, indent=2, sort_keys=True) + "\n"
    assert data["format"] == 1
    assert [s["name"] for s in data["steps"]] == [s.name for s in full_plan().steps]
    assert data["counts"] == {
        "create": 1,
        "update": 2,
        "version": 1,
        "replace": 1,
        "delete": 1,
        "backfill": 1,
        "noop": 2,
    }


# Maps whose keys are data (names, spec fields, metric names), not schema.
FREE_FORM = {
    "fingerprints",
    "steps[].desired",
    "steps[].params",  # keyed by field path
    "steps[].changes[].old",
    "steps[].changes[].new",
    "tests[].desired.observed",
    "tests[].live.observed",
    "tests[].diff.metric_deltas",
}


def _keys(node: Any, prefix: str = "") -> set[str]:
    """Every field path of a JSON document, lists written as `[]`."""
    out: set[str] = set()
    if prefix in FREE_FORM:
        return out
    if isinstance(node, dict):
        for key, value in node.items():
            path = f"{prefix}.{key}" if prefix else key
            out |= {path} | _keys(value, path)
    elif isinstance(node, list):
        for item in node:
            out |= _keys(item, prefix + "[]")
    return out


def test_every_field_is_documented() -> None:
    documented = set(re.findall(r"^\| `([^`]+)` \|", DOC.read_text(encoding="utf-8"), re.M))
    data = json.loads(render(full_plan(), "json"))
    missing = sorted(_keys(data) - documented)
    assert not missing, f"fields missing from docs/plan-json.md: {missing}"


def test_the_documented_example_has_the_fields_a_plan_has() -> None:
    """The abridged example may leave whole fields out, but what it shows is what a plan prints:
    every key it uses exists, and `counts` (documented as always complete) has all its keys."""
    text = DOC.read_text(encoding="utf-8")
    example = json.loads(text.split("## Example (abridged)", 1)[1].split("```json", 1)[1].split("```", 1)[0])
    documented = set(re.findall(r"^\| `([^`]+)` \|", text, re.M))
    assert not sorted(_keys(example) - documented)
    assert set(example["counts"]) == set(json.loads(render(full_plan(), "json"))["counts"])
