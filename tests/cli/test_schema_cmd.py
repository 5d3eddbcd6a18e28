"""Issue 13 item 7: `mixops schema` in a user's project works on that project, not on mixops' source tree."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from mixops.cli.main import cli


def test_schema_writes_into_the_project_s_schemas_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "mixops.yaml").write_text("stack: shop\n", encoding="utf-8")
    (tmp_path / "manifests").mkdir()
    monkeypatch.chdir(tmp_path / "manifests")  # found from a subdirectory, as every command finds the project

    stale = CliRunner().invoke(cli, ["schema", "--check"])
    assert stale.exit_code == 1
    assert "stale: ../schemas/mixops-manifest.schema.json" not in stale.output  # shown from where the user stands
    assert f"{tmp_path.as_posix()}/schemas/mixops-manifest.schema.json" in stale.output

    wrote = CliRunner().invoke(cli, ["schema"])
    assert wrote.exit_code == 0, wrote.output
    assert f"wrote 2 schema files to {tmp_path.as_posix()}/schemas/" in wrote.output
    assert json.loads((tmp_path / "schemas" / "mixops-manifest.schema.json").read_text())["$id"].endswith(
        "mixops-manifest.schema.json"
    )
    fresh = CliRunner().invoke(cli, ["schema", "--check"])
    assert fresh.exit_code == 0 and "are up to date" in fresh.output


def test_schema_outside_any_project_asks_for_one_or_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["schema"])
    assert result.exit_code == 1
    assert "no mixops.yaml found" in result.output and "--out DIR" in result.output
    assert list(tmp_path.iterdir()) == []
    written = CliRunner().invoke(cli, ["schema", "--out", "editor"])
    assert written.exit_code == 0 and "to editor/" in written.output, written.output
    assert (tmp_path / "editor" / "mixops-project.schema.json").is_file()
