"""An applied copy of the catalog example, copied again for each test that edits it."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result
from tests.support.example import apply_collections_only

from mixops.cli.main import cli
from mixops.core.plan import PlanOptions
from mixops.local.inprocess import local_transport
from mixops.ports.project import load_project
from mixops.ports.reconcile import plan_and_apply

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "catalog"


@pytest.fixture(scope="session")
def applied_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example applied once to its local namespace (no tests run)."""
    root = tmp_path_factory.mktemp("applied") / "catalog"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".mixops", "__pycache__"))
    project = load_project(root, local_backend=local_transport)
    asyncio.run(plan_and_apply(project, "local", PlanOptions(), apply=True))
    return root


@pytest.fixture
def applied(applied_base: Path, tmp_path: Path) -> Path:
    """A private copy of the applied project: its SQLite namespace included."""
    dest = tmp_path / "catalog"
    shutil.copytree(applied_base, dest)
    return dest


@pytest.fixture
def fresh(tmp_path: Path) -> Path:
    dest = tmp_path / "fresh"
    shutil.copytree(EXAMPLE, dest, ignore=shutil.ignore_patterns(".mixops", "__pycache__"))
    return dest


@pytest.fixture
def collections_only(fresh: Path) -> Path:
    """The example's collections applied with their documents; nothing else exists yet."""
    asyncio.run(apply_collections_only(fresh))
    return fresh


def mixops(root: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--no-color", "-C", str(root), *args], catch_exceptions=False)


def plan_json(root: Path, *args: str) -> tuple[int, dict[str, Any]]:
    result = mixops(root, "plan", "--format", "json", *args)
    return result.exit_code, json.loads(result.stdout)


def edit(root: Path, file: str, change: Callable[[dict[str, Any]], None]) -> None:
    path = root / file
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def named(items: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(i for i in items if i["name"] == name)


def outcomes_by_name(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in plan["tests"]}
