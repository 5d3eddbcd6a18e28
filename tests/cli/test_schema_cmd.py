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


REPOSITORY = Path(__file__).resolve().parents[2]


def test_the_example_checks_the_schemas_its_files_point_at() -> None:
    # Its files point at the mixops tree's schemas/ (`../../schemas`), which CI keeps fresh.
    result = CliRunner().invoke(cli, ["-C", str(REPOSITORY / "examples" / "catalog"), "schema", "--check"])
    assert result.exit_code == 0, result.output
    assert "are up to date" in result.output


def _project(root: Path, modeline: str) -> Path:
    root.mkdir(parents=True)
    (root / "mixops.yaml").write_text(f"# yaml-language-server: $schema={modeline}\nstack: shop\n", encoding="utf-8")
    return root


def test_a_user_project_gets_its_schemas_where_its_mixops_yaml_points(tmp_path: Path) -> None:
    project = _project(tmp_path / "shop", "config/schemas/mixops-project.schema.json")
    wrote = CliRunner().invoke(cli, ["-C", str(project), "schema"])
    assert wrote.exit_code == 0, wrote.output
    assert sorted(p.name for p in (project / "config" / "schemas").iterdir()) == [
        "mixops-manifest.schema.json",
        "mixops-project.schema.json",
    ]
    assert not (project / "schemas").exists()
    assert CliRunner().invoke(cli, ["-C", str(project), "schema", "--check"]).exit_code == 0


def test_a_pointer_out_of_the_project_is_not_followed(tmp_path: Path) -> None:
    # An example copied out of the mixops tree keeps `../../schemas`: nothing is written up there.
    project = _project(tmp_path / "a" / "b" / "shop", "../../schemas/mixops-project.schema.json")
    wrote = CliRunner().invoke(cli, ["-C", str(project), "schema"])
    assert wrote.exit_code == 0, wrote.output
    assert (project / "schemas" / "mixops-project.schema.json").is_file()
    assert not (tmp_path / "a" / "schemas").exists()
    assert "outside the project" in wrote.output
    assert "$schema=schemas/mixops-project.schema.json" in wrote.output


@pytest.mark.parametrize("modeline", ["https://example.com/mixops-project.schema.json", "other/thing.json"])
def test_a_url_or_another_file_falls_back_to_the_project_s_schemas(tmp_path: Path, modeline: str) -> None:
    project = _project(tmp_path / "shop", modeline)
    assert CliRunner().invoke(cli, ["-C", str(project), "schema"]).exit_code == 0
    assert (project / "schemas" / "mixops-manifest.schema.json").is_file()
