"""CLI conventions every command keeps (issue 2 item 10)."""

from __future__ import annotations

import subprocess
import sys

import click
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
    assert result.exit_code == 1  # a usage error; 2 would read as "changes present"
    assert "Traceback" not in result.output


def _commands() -> list[tuple[str, click.Command]]:
    ctx = click.Context(cli)
    out = []
    for name in cli.list_commands(ctx):
        command = cli.get_command(ctx, name)
        assert command is not None, name
        out.append((name, command))
    return out


def _value_options(command: click.Command) -> list[str]:
    return [
        name
        for opt in command.params
        if isinstance(opt, click.Option) and not opt.is_flag and not opt.count and opt.nargs > 0
        for name in opt.opts
    ]


# Every command, not a hand-kept list: a command added later is covered as it lands.
COMMANDS = [name for name, _ in _commands()]
VALUE_OPTIONS = [(name, opt) for name, command in _commands() for opt in _value_options(command)]


@pytest.mark.parametrize("command", COMMANDS)
def test_an_unknown_option_exits_1_with_click_s_message(command: str) -> None:
    result = CliRunner().invoke(cli, [command, "--no-such-optoin"])
    assert result.exit_code == 1, result.output
    assert "No such option '--no-such-optoin'" in result.output
    assert f"{command} --help' for help" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(("command", "option"), VALUE_OPTIONS)
def test_an_option_without_its_value_exits_1(command: str, option: str) -> None:
    result = CliRunner().invoke(cli, [command, option])
    assert result.exit_code == 1, result.output
    assert f"Option '{option}' requires an argument" in result.output


def test_usage_errors_of_the_issue_exit_1_and_keep_did_you_mean() -> None:
    for args, message in (
        (["plan", "--detailed-exitcod"], "Did you mean '--detailed-exitcode'?"),
        (["plan", "--env"], "Option '--env' requires an argument."),
        (["plna"], "No such command 'plna'. Did you mean 'plan'?"),
        (["apply", "--auto-aprove"], "Did you mean '--auto-approve'?"),
        (["--no-colour", "plan"], "Did you mean '--no-color'?"),
        (["plan", "unexpected"], "unexpected extra argument"),
    ):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 1, (args, result.output)
        assert message in result.output, (args, result.output)


def test_the_value_options_are_found() -> None:
    # guards the parametrisation above against finding nothing
    assert ("plan", "--env") in VALUE_OPTIONS and ("export", "--out") in VALUE_OPTIONS
