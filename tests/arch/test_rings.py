"""The rings, as a user and the build see them: the shell injects the local backend, the core reads no clock.

The import contracts themselves are checked by `lint-imports` (pyproject.toml), run by scripts/test.sh.
"""

from __future__ import annotations

import ast
import datetime as dt
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from mixops.cli.main import cli
from mixops.core.live import LiveState
from mixops.core.plan import build_plan
from mixops.errors import ProjectError
from mixops.ports.project import load_project, load_stack
from mixops.ports.target import connect

CORE = Path(__file__).resolve().parents[2] / "src" / "mixops" / "core"


def _local_project(root: Path) -> Path:
    (root / "mixops.yaml").write_text(
        "stack: shop\nmanifests: [manifests]\nenvironments:\n  dev:\n    target: local\n", encoding="utf-8"
    )
    (root / "manifests").mkdir()
    (root / "manifests" / "empty.yaml").write_text('version: "1.0"\n', encoding="utf-8")
    return root


def test_a_missing_local_extra_is_a_clean_error_naming_the_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "mixops.local.inprocess", None)  # as if mixops[local] were not installed
    result = CliRunner().invoke(cli, ["-C", str(_local_project(tmp_path)), "plan"])
    assert result.exit_code == 1, result.output
    assert "pip install 'mixops[local]'" in result.output
    assert "Traceback" not in result.output


async def test_a_local_environment_without_an_injected_backend_is_refused(tmp_path: Path) -> None:
    project = load_project(_local_project(tmp_path))  # no local_backend=
    with pytest.raises(ProjectError, match="embedded local backend"):
        async with connect(project, "dev"):
            pass
    assert not (tmp_path / ".mixops").exists()  # refused before touching the disk


def test_the_plan_is_stamped_with_the_time_its_caller_passes(tmp_path: Path) -> None:
    stack = load_stack(load_project(_local_project(tmp_path)), "dev")
    paris = dt.timezone(dt.timedelta(hours=2))
    plan = build_plan(stack, LiveState(namespace="shop-dev"), now=dt.datetime(2026, 5, 4, 12, 30, 15, 999, paris))
    assert plan.created_at == "2026-05-04T10:30:15+00:00"


def test_the_core_opens_no_file_and_prints_nothing() -> None:
    """What ruff's banned-api cannot see: calls of the builtins `open`, `print` and `input`."""
    calls = []
    for path in sorted(CORE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in {"open", "print", "input"}
            ):
                calls.append(f"{path.relative_to(CORE)}:{node.lineno}: {node.func.id}()")
    assert calls == []
