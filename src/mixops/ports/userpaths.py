"""Paths in messages, written as the user would type them from where they stand.

One rule for the shell and the workflows alike (an export refusal and the CLI's
own lines name the same file the same way).
"""

from __future__ import annotations

from pathlib import Path


def shown(path: Path) -> str:
    """A path as the user would type it from where they stand: relative below the current directory."""
    absolute = path.absolute()
    try:
        return absolute.relative_to(Path.cwd()).as_posix() or "."
    except ValueError:
        return absolute.as_posix()
