"""Issue 13 item 3: outside a project mixops says so and how to start; `mixops init` starts one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mixops.cli.main import cli


def mixops(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env={"NO_COLOR": "1"})


OUTSIDE = [
    ["plan", "--env", "dev"],
    ["validate"],
    ["apply", "--auto-approve"],
    ["drift"],
    ["export"],
    ["test"],
    ["promote", "--from", "a", "--to", "b", "--plan-only"],
]


@pytest.mark.parametrize("args", OUTSIDE)
def test_outside_a_project_every_command_says_no_mixops_yaml_and_how_to_start(tmp_path: Path, args: list[str]) -> None:
    result = mixops("-C", str(tmp_path), *args)
    assert result.exit_code == 1, result.output
    assert f"no mixops.yaml found in {tmp_path.resolve().as_posix()}" in result.output
    assert "mixops init" in result.output
    assert "unknown environment" not in result.output and "path does not exist" not in result.output


def test_the_project_is_found_from_a_subdirectory(tmp_path: Path) -> None:
    assert mixops("init", str(tmp_path / "proj")).exit_code == 0
    result = mixops("-C", str(tmp_path / "proj" / "manifests"), "validate")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("valid: 1 retriever")


def test_the_search_stops_at_a_git_root(tmp_path: Path) -> None:
    assert mixops("init", str(tmp_path)).exit_code == 0  # a mixops.yaml outside the repository
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "sub").mkdir()
    result = mixops("-C", str(repo / "sub"), "validate")
    assert result.exit_code == 1, result.output
    assert f"searched up to {repo.resolve().as_posix()}" in result.output


def test_init_makes_a_project_that_validates_plans_applies_and_tests_green(tmp_path: Path) -> None:
    project = tmp_path / "My Search"
    created = mixops("init", str(project))
    assert created.exit_code == 0, created.output
    assert "stack 'my-search'" in created.output

    validated = mixops("-C", str(project), "validate")
    assert validated.exit_code == 0, validated.output
    planned = mixops("-C", str(project), "plan", "--detailed-exitcode")
    assert planned.exit_code == 2, planned.output  # changes present: the retriever is new
    assert "1 to create" in planned.output and "1 passed, 0 failed" in planned.output
    applied = mixops("-C", str(project), "apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert "1 passed, 0 failed" in applied.output
    tested = mixops("-C", str(project), "test")
    assert tested.exit_code == 0 and "1 passed, 0 failed, 0 skipped" in tested.output, tested.output
    again = mixops("-C", str(project), "plan", "--detailed-exitcode")
    assert again.exit_code == 0 and "No changes" in again.output, again.output


def test_init_files_point_at_schemas_that_exist(tmp_path: Path) -> None:
    assert mixops("init", str(tmp_path)).exit_code == 0
    for path in [tmp_path / "mixops.yaml", *(tmp_path / "manifests").glob("*.yaml")]:
        first = path.read_text(encoding="utf-8").splitlines()[0]
        match = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first)
        assert match, (path, first)
        assert (path.parent / match.group(1)).is_file(), (path, match.group(1))
    # the schemas written are the current ones
    assert mixops("-C", str(tmp_path), "schema", "--check").exit_code == 0


def test_init_refuses_to_overwrite_and_then_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "manifests").mkdir()
    mine = tmp_path / "manifests" / "tests.yaml"
    mine.write_text("# my own tests\n", encoding="utf-8")

    result = mixops("init", str(tmp_path))

    assert result.exit_code == 1, result.output
    assert "refuses to overwrite" in result.output and "manifests/tests.yaml" in result.output
    assert mine.read_text(encoding="utf-8") == "# my own tests\n"
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == [
        "manifests",
        "manifests/tests.yaml",
    ]


def test_init_refuses_a_stack_name_it_cannot_use(tmp_path: Path) -> None:
    result = mixops("init", str(tmp_path), "--stack", "no spaces")
    assert result.exit_code == 1 and "stack name 'no spaces' is not valid" in result.output
    assert not any(tmp_path.iterdir())
