"""CLI conventions every command keeps (issue 2 item 10)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

from mixops import __version__
from mixops.cli.main import LazyGroup, cli


def test_exit_codes_are_documented_in_help() -> None:
    out = CliRunner().invoke(cli, ["--help"]).output
    for code, meaning in (("0", "success"), ("1", "error"), ("2", "changes present"), ("3", "tests failed")):
        assert any(line.strip().startswith(code) and meaning in line for line in out.splitlines()), out


@pytest.mark.parametrize("command", sorted(LazyGroup.lazy))
def test_every_command_has_help_with_an_example(command: str) -> None:
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output or "mixops " in result.output.split("Options:")[0], result.output


def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output


def test_version_imports_nothing_heavy() -> None:
    code = (
        "import sys; sys.argv = ['mixops', '--version']\n"
        "from mixops.cli.main import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('numpy', 'sklearn', 'fastapi', 'uvicorn', 'mixops.local') if m in sys.modules]\n"
        "print('HEAVY:' + ','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY:\n" in out.stdout + "\n" and out.stdout.strip().endswith("HEAVY:"), out.stdout


def test_unknown_command_is_a_clean_error() -> None:
    result = CliRunner().invoke(cli, ["planx"])
    assert result.exit_code == 2  # click's usage error
    assert "Traceback" not in result.output
