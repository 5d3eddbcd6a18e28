"""Issue 14: no function in src/ over 80 lines without a comment saying why (right above its `def`)."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "mixops"
LIMIT = 80


def _reason_above(lines: list[str], def_line: int) -> str:
    """The comment block that ends on the line above `def` (1-based `def_line`)."""
    block = []
    i = def_line - 2
    while i >= 0 and lines[i].strip().startswith("#"):
        block.insert(0, lines[i].strip())
        i -= 1
    return " ".join(block)


def test_every_function_over_80_lines_says_why() -> None:
    unexplained = []
    for path in sorted(SRC.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno is not None:
                length = node.end_lineno - node.lineno + 1
                if length > LIMIT and "over 80 lines on purpose" not in _reason_above(lines, node.lineno).lower():
                    unexplained.append(f"{path.relative_to(SRC.parent)}:{node.lineno} {node.name} ({length} lines)")
    assert not unexplained, (
        "split these, or say why not in a '# Over 80 lines on purpose: ...' comment right above the def:\n  "
        + "\n  ".join(unexplained)
    )
