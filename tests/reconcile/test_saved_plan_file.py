"""A saved plan file can only be refused, never widen what apply does.

`apply plan.json` recomputes the plan and runs it only when the file says the same
(actions, changed fields, ids, environment, namespace, target); nothing unowned is
deleted whatever the file says; odd files are clean errors.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from tests.reconcile.conftest import api, apply, live, live_rows, retriever_body

from mixops.cli.main import cli


def _cli(project: Path, *args: str) -> Any:
    return CliRunner().invoke(cli, ["-C", str(project), *args])


def _saved(project: Path) -> tuple[Path, dict[str, Any]]:
    path = project / "p.json"
    result = _cli(project, "plan", "--no-tests", "--out", str(path))
    assert result.exit_code in (0, 2), result.output
    return path, json.loads(path.read_text(encoding="utf-8"))


def _apply_file(project: Path, path: Path, data: dict[str, Any]) -> Any:
    path.write_text(json.dumps(data), encoding="utf-8")
    return _cli(project, "apply", str(path), "--auto-approve", "--no-tests")


def test_a_create_turned_into_noop_is_refused_and_nothing_is_applied(project_dir: Path) -> None:
    path, data = _saved(project_dir)
    data["steps"][0]["action"] = "noop"
    result = _apply_file(project_dir, path, data)
    assert result.exit_code == 1, result.output
    assert "differs from the plan computed now" in result.output and "internal error" not in result.output
    assert not [r for r in asyncio.run(live(project_dir)).resources.values() if r.owner_stack]  # nothing applied


def test_a_delete_of_an_unowned_retriever_added_to_the_file_is_refused(project_dir: Path) -> None:
    asyncio.run(apply(project_dir))

    async def by_hand() -> dict[str, Any]:
        async with api(project_dir) as client:
            return await client.create_retriever(retriever_body("hand_made"))

    made = asyncio.run(by_hand())
    path, data = _saved(project_dir)
    data["steps"].append(
        {"kind": "retriever", "name": "hand_made", "action": "delete", "live_id": made["retriever_id"]}
    )
    result = _apply_file(project_dir, path, data)
    assert result.exit_code == 1, result.output
    assert "hand_made" in result.output
    rows, _ = asyncio.run(live_rows(project_dir))
    assert "hand_made" in {r["retriever_name"] for r in rows["retriever"]}


def test_a_file_edited_to_another_namespace_is_refused(project_dir: Path) -> None:
    path, data = _saved(project_dir)
    data["namespace"] = "catalog-prod"
    result = _apply_file(project_dir, path, data)
    assert result.exit_code == 1, result.output
    assert "catalog-prod" in result.output
    assert not [r for r in asyncio.run(live(project_dir)).resources.values() if r.owner_stack]  # nothing applied


def test_a_deeply_nested_file_is_a_clean_error(project_dir: Path) -> None:
    path = project_dir / "p.json"
    path.write_text("[" * 100_000, encoding="utf-8")
    result = _cli(project_dir, "apply", str(path), "--auto-approve")
    assert result.exit_code == 1, result.output
    assert "internal error" not in result.output and "cannot read plan file" in result.output


def test_an_endless_device_file_is_refused_in_bounded_memory(project_dir: Path) -> None:
    result = _cli(project_dir, "apply", "/dev/zero", "--auto-approve")
    assert result.exit_code == 1, result.output
    assert "too large for a plan" in result.output and "internal error" not in result.output


def test_a_file_edited_to_name_a_protected_environment_needs_that_environment_on_the_command_line(
    project_dir: Path,
) -> None:
    # A second local environment, protected, whose fresh plan is the same as local's
    # (both namespaces empty, same parameters): only the command line can pick it.
    config = project_dir / "mixops.yaml"
    text = config.read_text(encoding="utf-8")
    local = text[text.index("  local:\n") : text.index("  staging:\n")]
    guarded = local.replace("  local:\n", "  guarded:\n").replace("catalog-local", "catalog-guarded")
    config.write_text(text.replace("  staging:\n", guarded + "    protect: true\n\n  staging:\n"), encoding="utf-8")
    path, data = _saved(project_dir)
    data["environment"], data["namespace"] = "guarded", "catalog-guarded"
    result = _apply_file(project_dir, path, data)
    assert result.exit_code == 1, result.output
    assert "protected environment 'guarded'" in result.output
    assert "--env guarded" in result.output and "Traceback" not in result.output
    # Said on the command line, the same file applies there.
    result = _cli(project_dir, "apply", str(path), "--env", "guarded", "--auto-approve", "--no-tests")
    assert result.exit_code == 0, result.output
    assert "Apply complete" in result.output


def test_what_a_stale_refusal_reads_from_the_file_reaches_the_terminal_escaped(project_dir: Path) -> None:
    path, data = _saved(project_dir)
    title = "\x1b]0;pwned\x07"  # a terminal title change: click passes it through when not a terminal too
    data["manifest_digest"] = f"d{title}"
    data["fingerprints"][f"retriever/ghost{title}"] = "f0"
    result = _apply_file(project_dir, path, data)
    assert result.exit_code == 1, result.output
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "the manifests changed (digest d\\x1b]0;pwned\\x07 when planned" in result.output
    assert "retriever/ghost\\x1b]0;pwned\\x07 disappeared from the namespace" in result.output
