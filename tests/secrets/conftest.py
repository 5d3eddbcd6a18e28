"""Shared set-up for the secret-leak tests: a copy of examples/catalog and a CLI runner."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from mixops.cli.main import cli

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "catalog"


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    root = tmp_path / "catalog"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".mixops"))
    return root


def invoke(project: Path, env: dict[str, str], *args: str) -> str:
    """Everything the command printed, and its exception when it raised one."""
    result = CliRunner().invoke(cli, ["-C", str(project), *args], env=env)
    return result.output + (repr(result.exception) if result.exception else "")
