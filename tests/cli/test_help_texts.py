"""Issue 13 item 7: every option a help text or the README's command table names exists.

The top-level help said drift takes `--detailed-exitcode`; it does not. Each
`--option` in a help text is checked against the command it belongs to: the
command whose help it is, or the `mixops CMD` written before it on the same line.
"""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from mixops.cli.main import cli

README = Path(__file__).resolve().parents[2] / "README.md"


def _commands() -> dict[str, click.Command]:
    ctx = click.Context(cli)
    return {name: cmd for name in cli.list_commands(ctx) if (cmd := cli.get_command(ctx, name)) is not None}


COMMANDS = _commands()
NAMES = "|".join(sorted(COMMANDS))
# `mixops [global options] CMD`, a bare `CMD` right before an option (`plan --detailed-exitcode`),
# or an `--option` (not inside a longer word such as `a--b`)
TOKEN = re.compile(
    rf"\bmixops((?:\s+(?:-C\s+\S+|--no-color|--debug))*)\s+({NAMES})\b"
    rf"|\b({NAMES})(?=\s+--)"
    r"|(?<![\w-])(--[a-z][a-z-]*)"
)


def _options(command: click.Command) -> set[str]:
    own = {o for p in command.params for o in (*p.opts, *p.secondary_opts)} | {"--help"}
    if isinstance(command, click.Group):  # `mixops local reset --env`: the subcommands' options count
        for sub in command.commands.values():
            own |= _options(sub)
    return own


def _unknown(text: str, own: str | None) -> list[str]:
    """`CMD --option` pairs in `text` that do not exist; `own` is the command the text documents."""
    wrong = []
    for line in text.splitlines():
        current = own
        for m in TOKEN.finditer(line):
            if m.group(2) or m.group(3):
                current = m.group(2) or m.group(3)
                continue
            options = _options(cli) if current is None else _options(COMMANDS[current])
            if m.group(4) not in options:
                wrong.append(f"{current or 'mixops'} has no {m.group(4)}: {line.strip()}")
    return wrong


def _texts(command: click.Command) -> str:
    parts = [command.help or "", command.epilog or ""]
    parts += [p.help or "" for p in command.params if isinstance(p, click.Option)]
    return "\n".join(parts)


def test_top_level_help_names_only_real_options() -> None:
    assert _unknown(_texts(cli), None) == []


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_command_s_help_names_only_real_options(name: str) -> None:
    assert _unknown(_texts(COMMANDS[name]), name) == []


def test_the_readme_command_table_names_only_real_options() -> None:
    rows = [line for line in README.read_text(encoding="utf-8").splitlines() if line.startswith("| `mixops ")]
    assert len(rows) >= len(COMMANDS) - 1, "the command table was not found"
    cells = [row.split("` |")[0].replace("\\|", "|") for row in rows]
    assert _unknown("\n".join(cells), None) == []


def test_the_checker_finds_a_wrong_option() -> None:
    assert _unknown("2  changes present (plan/drift with --detailed-exitcode)", None) == [
        "mixops has no --detailed-exitcode: 2  changes present (plan/drift with --detailed-exitcode)"
    ]
    assert _unknown("mixops drift --detailed-exitcode", None) != []
    assert _unknown("mixops plan --detailed-exitcode", "drift") == []


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_global_options_are_accepted_after_every_command(name: str) -> None:
    result = CliRunner().invoke(cli, [name, "--no-color", "--debug", "-C", ".", "--help"])
    assert result.exit_code == 0, result.output


def test_debug_after_the_command_shows_the_traceback(tmp_path: Path) -> None:
    quiet = CliRunner().invoke(cli, ["validate", "-C", str(tmp_path)])
    loud = CliRunner().invoke(cli, ["validate", "-C", str(tmp_path), "--debug", "--no-color"])
    assert quiet.exit_code == loud.exit_code == 1
    assert "no mixops.yaml found" in quiet.output and "Traceback" not in quiet.output
    assert "Traceback" in loud.output
