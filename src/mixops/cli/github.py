"""Errors as GitHub Actions workflow commands (`::error file=...,line=...::...`), for `--format github`.

Manifest problems and plan problems carry their own position (a plan problem is
located where the plan found it: the `collection_identifiers` entry naming a
missing collection, the declaration of a resource another stack owns), so the
annotation lands on the pull request's diff. Anything else is one annotation
without a file.
"""

from __future__ import annotations

from collections.abc import Iterable

from mixops.errors import ManifestError, MixopsError, PlanError


def _escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def annotation(message: str, level: str = "error") -> str:
    """A workflow command without a file position."""
    return f"::{level} title=mixops::{_escape(message)}"


def error_lines(err: MixopsError) -> Iterable[str]:
    if isinstance(err, ManifestError):
        for p in err.problems:
            yield p.render_github()
        return
    if isinstance(err, PlanError) and err.problems:
        head = str(err).partition("\n")[0]
        for p in err.problems:
            yield annotation(f"{head} {p.render_plain()}") if not p.file else p.render_github()
        return
    yield annotation(str(err))
