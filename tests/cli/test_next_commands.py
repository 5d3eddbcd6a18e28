"""The commands messages tell the user to run next are commands they can paste as they are.

Each names the project directory as the user did (`mixops -C DIR ...` after `-C DIR`, plain
`mixops` when run from the project), and every word taken from a file or a flag (an
environment name, a path) is quoted for the shell, with control characters written as
escapes: they never reach the terminal raw.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mixops.cli.main import cli
from mixops.ports.userpaths import invocation, shell_word

RED = "\x1b[31m"


def mixops(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env={"NO_COLOR": "1"})


@pytest.fixture
def project(tmp_path: Path) -> Path:
    made = mixops("init", str(tmp_path / "proj"))
    assert made.exit_code == 0, made.output
    return tmp_path / "proj"


def _rename_environment(project: Path, name_in_yaml: str) -> None:
    """The init project's only environment, `local`, renamed (the name as written in YAML)."""
    config = project / "mixops.yaml"
    text = config.read_text(encoding="utf-8")
    text = text.replace("default_environment: local", f"default_environment: {name_in_yaml}")
    config.write_text(text.replace("\n  local:\n", f"\n  {name_in_yaml}:\n"), encoding="utf-8")


def test_a_word_is_quoted_only_when_the_shell_needs_it() -> None:
    assert shell_word("products/product_tags") == "products/product_tags"
    assert shell_word("my plan.json") == "'my plan.json'"
    assert shell_word(f"a{RED}b") == "$'a\\x1b[31mb'"
    assert shell_word("it's\x07") == "$'it\\'s\\x07'"
    assert shell_word("zero\u200bwidth") == "$'zero\\u200bwidth'"


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash to read the $'...' string back")
@pytest.mark.parametrize("word", ["plain", "two words", "it's", f"a{RED}b", "tab\tand\nnewline", "\\x1b", "z\u200bw"])
def test_bash_reads_the_quoted_word_back_as_it_was(word: str) -> None:
    echoed = subprocess.run(
        ["bash", "-c", f"printf %s {shell_word(word)}"], capture_output=True, check=True, text=True
    ).stdout
    assert echoed == word


def test_the_invocation_names_the_directory_only_when_it_is_not_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    odd = tmp_path / f"my {RED}project"
    odd.mkdir()
    monkeypatch.chdir(tmp_path)
    assert invocation(tmp_path) == "mixops"
    assert invocation(Path(".")) == "mixops"
    assert invocation(odd) == "mixops -C $'my \\x1b[31mproject'"  # as typed from here, escaped


def test_a_saved_plan_says_how_to_apply_it_from_where_the_user_stands(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project.parent)
    out = mixops("-C", "proj", "plan", "--no-tests", "--out", "my plan.json")
    assert out.exit_code == 0, out.output
    assert "Saved the plan to 'my plan.json'; apply it with: mixops -C proj apply 'my plan.json' --env local\n" in (
        out.output
    )
    applied = mixops("-C", "proj", "apply", "my plan.json", "--auto-approve", "--no-tests")
    assert applied.exit_code == 0, applied.output


def test_a_protected_environment_names_the_whole_apply_command(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = project / "mixops.yaml"
    config.write_text(
        config.read_text(encoding="utf-8").replace("    target: local", "    protect: true\n    target: local")
    )
    monkeypatch.chdir(project.parent)
    assert mixops("-C", "proj", "plan", "--no-tests", "--out", "plan.json").exit_code == 0
    refused = mixops("-C", "proj", "apply", "plan.json", "--auto-approve", "--no-tests")
    assert refused.exit_code == 1
    assert "say it on the command line: mixops -C proj apply plan.json --env local" in refused.output


def test_an_environment_name_with_control_characters_is_escaped_in_the_next_command(project: Path) -> None:
    _rename_environment(project, '"\\e[31mlocal"')  # YAML's escape: the name holds a raw ESC
    reset = mixops("-C", str(project), "local", "reset")
    assert reset.exit_code == 0, reset.output
    assert f"Next: mixops -C {project.as_posix()} apply --env $'\\x1b[31mlocal'" in reset.output
    assert "\x1b" not in reset.output


def test_a_stale_saved_plan_says_how_to_plan_again(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project.parent)
    assert mixops("-C", "proj", "plan", "--no-tests", "--out", "plan.json").exit_code == 0
    manifest = project / "manifests" / "retrievers.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace("help-centre", "help centre"), encoding="utf-8")
    refused = mixops("-C", "proj", "apply", "plan.json", "--auto-approve", "--no-tests")
    assert refused.exit_code == 1
    assert "the manifests changed" in refused.output
    assert "run `mixops -C proj plan --env local` again" in refused.output


def test_a_test_of_a_resource_not_applied_says_how_to_apply_it(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project.parent)
    tested = mixops("-C", "proj", "test")
    assert tested.exit_code == 1, tested.output
    assert "retriever 'article_search' does not exist in the namespace (run mixops -C proj apply --env local)" in (
        tested.output
    )
