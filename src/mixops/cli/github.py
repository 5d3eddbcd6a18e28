"""Errors as GitHub Actions workflow commands (`::error file=...,line=...::...`), for `--format github`.

Manifest problems carry their own position. A plan error names resources
(`retriever 'product_search' ...`); each is pinned to where that resource is
declared, so the annotation lands on the pull request's diff.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from mixops.core.stack import Stack
from mixops.errors import ManifestError, MixopsError, Problem

_RESOURCE = re.compile(r"\b(retriever|taxonomy|cluster) '([^']+)'")


def _escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def annotation(message: str, level: str = "error") -> str:
    """A workflow command without a file position."""
    return f"::{level} title=mixops::{_escape(message)}"


def error_lines(err: MixopsError, stack: Stack | None) -> Iterable[str]:
    if isinstance(err, ManifestError):
        for p in err.problems:
            yield p.render_github()
        return
    text = str(err)
    head, _, rest = text.partition("\n")
    items = [line.strip() for line in rest.splitlines() if line.strip()] if rest.startswith("  ") else []
    for item in items or [text]:
        origin = None
        match = _RESOURCE.search(item)
        if match and stack is not None:
            origin = stack.origins.get((match.group(1), match.group(2)))
        message = f"{head} {item}" if items else item
        if origin is None:
            yield annotation(message)
        else:
            yield Problem(origin.file, origin.line, origin.col, "", message).render_github()
