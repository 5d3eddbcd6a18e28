"""A small checker of the Markdown structure GitHub needs: balanced fences and details."""

from __future__ import annotations

import re

FENCE = re.compile(r"^(`{3,})([\w-]*)$")


def structure_problems(md: str) -> list[str]:
    problems: list[str] = []
    fence: str | None = None
    depth = 0
    for number, line in enumerate(md.splitlines(), 1):
        match = FENCE.match(line)
        if fence is not None:
            if match and not match.group(2) and len(match.group(1)) >= len(fence):
                fence = None
            continue
        if match:
            fence = match.group(1)
            continue
        depth += line.count("<details>") - line.count("</details>")
        if depth < 0:
            problems.append(f"line {number}: </details> without <details>")
            depth = 0
        if line.count("<summary>") != line.count("</summary>"):
            problems.append(f"line {number}: unbalanced <summary>")
    if fence is not None:
        problems.append("a code fence is never closed")
    if depth:
        problems.append(f"{depth} <details> never closed")
    return problems
