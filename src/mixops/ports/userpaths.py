"""Paths in messages, written as the user would type them from where they stand.

One rule for the shell and the workflows alike (an export refusal and the CLI's
own lines name the same file the same way).
"""

from __future__ import annotations

import shlex
from pathlib import Path


def shown(path: Path) -> str:
    """A path as the user would type it from where they stand: relative below the current directory."""
    absolute = path.absolute()
    try:
        return absolute.relative_to(Path.cwd()).as_posix() or "."
    except ValueError:
        return absolute.as_posix()


def shell_word(text: str) -> str:
    """`text` as one argument the user can paste into a POSIX shell, and safe to print.

    Quoted only when it needs to be (`products/tags` stays as is). Text that holds control
    or other unprintable characters (a name from a file or a flag) is written as a bash
    `$'...'` string with escapes (`$'a\\x1b[31mb'`): printed raw, they would act on the
    terminal instead of being read.
    """
    if text.isprintable():
        return shlex.quote(text)
    return "$'" + "".join(_escaped(c) for c in text) + "'"


def _escaped(char: str) -> str:
    if char in "\\'":
        return "\\" + char
    if char.isprintable():
        return char
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def invocation(project_dir: Path) -> str:
    """How the user called mixops, for the commands that messages tell them to run next.

    `mixops -C DIR` when they named a project directory other than where they stand
    (DIR as they would type it, quoted for the shell), else `mixops`: every hint that
    names a command is built on this, so copying it works from where they are.
    """
    if project_dir.resolve() == Path.cwd().resolve():
        return "mixops"
    return f"mixops -C {shell_word(shown(project_dir))}"
