"""Issue 14 item 2: the plan document is described once, by core/plan.py's models.

docs/plan-json.md's field tables and schemas/mixops-plan.schema.json are generated from them
(`python -m mixops.plan_doc`) and must be fresh; the schema describes every key mixops writes.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from tests.render.plans import full_plan

from mixops.plan_doc import END, SCHEMA_NAME, main, plan_schema, source_tree, stale


def test_the_plan_doc_and_schema_are_generated_from_the_models_and_fresh() -> None:
    out = stale(source_tree())
    assert not out, f"stale: {', '.join(p.name for p in out)}; run `python -m mixops.plan_doc` and commit the result"


def _copy_tree(tmp_path: Path) -> Path:
    root = source_tree()
    for rel in ("docs/plan-json.md", f"schemas/{SCHEMA_NAME}"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(root / rel, tmp_path / rel)
    return tmp_path


def test_a_hand_edit_of_a_generated_row_is_stale_and_regenerating_restores_it(tmp_path: Path) -> None:
    root = _copy_tree(tmp_path)
    doc = root / "docs" / "plan-json.md"
    fresh = doc.read_text(encoding="utf-8")
    doc.write_text(fresh.replace("| `steps[].wave` | integer |", "| `steps[].wave` | string |"), encoding="utf-8")
    (root / "schemas" / SCHEMA_NAME).unlink()
    assert set(stale(root)) == {doc, root / "schemas" / SCHEMA_NAME}
    for path, text in stale(root).items():
        path.write_text(text, encoding="utf-8")
    assert doc.read_text(encoding="utf-8") == fresh and not stale(root)


def test_the_hand_written_diff_table_stays_outside_the_generated_part() -> None:
    doc = (source_tree() / "docs" / "plan-json.md").read_text(encoding="utf-8")
    assert doc.index("| `tests[].diff.rbo` |") > doc.index(END)


def test_check_mode_exits_1_on_a_stale_tree_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _copy_tree(tmp_path)
    (root / "schemas" / SCHEMA_NAME).write_text("{}\n", encoding="utf-8")
    monkeypatch.setattr("mixops.plan_doc.source_tree", lambda: root)
    assert main(["--check"]) == 1
    assert f"stale: schemas/{SCHEMA_NAME}" in capsys.readouterr().err
    assert (root / "schemas" / SCHEMA_NAME).read_text(encoding="utf-8") == "{}\n"
    assert main([]) == 0 and main(["--check"]) == 0


def _keys_match(value: Any, node: dict[str, Any], defs: dict[str, Any], where: str) -> None:
    """Every object key mixops writes is a property the schema declares, and every required one is there."""
    while "$ref" in node or "anyOf" in node:
        if "$ref" in node:
            node = defs[node["$ref"].rsplit("/", 1)[-1]]
        else:
            node = next(a for a in node["anyOf"] if a.get("type") != "null" or value is None)
    if isinstance(value, dict) and "properties" in node:
        assert set(value) <= set(node["properties"]), f"{where}: undeclared {set(value) - set(node['properties'])}"
        assert set(node.get("required", ())) <= set(value), f"{where}: missing required keys"
        for key, item in value.items():
            _keys_match(item, node["properties"][key], defs, f"{where}.{key}")
    elif isinstance(value, list) and isinstance(node.get("items"), dict):
        for i, item in enumerate(value):
            _keys_match(item, node["items"], defs, f"{where}[{i}]")


def test_the_schema_declares_every_key_of_a_written_plan() -> None:
    schema = plan_schema()
    data = full_plan().to_json()
    assert {"counts", "steps", "tests"} <= set(data) and any(s["changes"] for s in data["steps"])
    _keys_match(data, schema, schema["$defs"], "plan")
    assert schema["properties"]["counts"]["readOnly"] is True  # derived: written, never read back
