"""Documents files (JSON Lines): the one parser that both ``mixops validate`` and the
local backend's seed loader use, so a file one accepts the other loads.

Lines are split on "\\n" only (a trailing "\\r" dropped): ``str.splitlines`` would also
split on U+2028, U+0085, form feed and other characters JSON allows unescaped inside a
string, which refuses valid files and shifts every line number after them. A UTF-8 byte
order mark at the start is dropped, as it is for manifests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

BOM = "\ufeff"
LINE_FIX = "one JSON object per line"


@dataclass(frozen=True)
class LineProblem:
    """A line of a documents file that is not a JSON object (1-based line number)."""

    line: int
    message: str


def json_lines(text: str) -> tuple[list[dict[str, Any]], list[LineProblem]]:
    """The documents of a JSON Lines text (blank lines skipped) and every bad line."""
    docs: list[dict[str, Any]] = []
    problems: list[LineProblem] = []
    for n, line in enumerate(text.removeprefix(BOM).split("\n"), 1):
        line = line.removesuffix("\r")
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError as exc:
            problems.append(LineProblem(n, f"not valid JSON: {exc}"))
            continue
        if isinstance(value, dict):
            docs.append(value)
        else:
            problems.append(LineProblem(n, "each line must be a JSON object"))
    return docs, problems
