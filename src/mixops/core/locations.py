"""Turn pydantic errors into located, human `Problem`s (pure).

Pydantic locations contain discriminated-union tags; ours all start with `~`
and are dropped so the path matches what the user wrote in YAML.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any, Protocol

from pydantic import BaseModel, ValidationError

from mixops.errors import Problem

Path = tuple[str | int, ...]


class Locatable(Protocol):
    @property
    def file(self) -> str: ...

    def locate(self, path: Sequence[str | int]) -> tuple[int, int]: ...


def clean_loc(loc: Iterable[str | int]) -> Path:
    return tuple(p for p in loc if not (isinstance(p, str) and p.startswith("~")))


def render_path(path: Sequence[str | int]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


@cache
def known_field_names() -> tuple[str, ...]:
    """Every field name of every manifest model: the vocabulary for did-you-mean."""
    from mixops.core.models.manifest import ManifestFile
    from mixops.core.models.project import ProjectConfig

    names: set[str] = set()
    seen: set[type[BaseModel]] = set()

    def visit(tp: Any) -> None:
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            if tp in seen:
                return
            seen.add(tp)
            for name, info in tp.model_fields.items():
                names.add(info.alias or name)
                visit(info.annotation)
            return
        for arg in getattr(tp, "__args__", ()) or ():
            visit(arg)
        origin = getattr(tp, "__origin__", None)
        if origin is not None and origin is not tp:
            for meta in getattr(tp, "__metadata__", ()) or ():
                visit(meta)

    visit(ManifestFile)
    visit(ProjectConfig)
    from mixops.core.models import cluster, stages

    for model in [*stages._INNER_MODELS.values(), *cluster.VECTOR_MODELS.values()]:
        visit(model)
    for params in [*stages.TYPED_PARAMS.values(), *cluster.METHOD_PARAMS.values()]:
        visit(params)
    return tuple(sorted(names))


def problems_from_validation(
    err: ValidationError, doc: Locatable, *, base: Path = (), fields: Sequence[str] | None = None
) -> list[Problem]:
    out: list[Problem] = []
    seen: set[tuple[Path, str]] = set()
    for e in err.errors(include_url=False):
        path = (*base, *clean_loc(e["loc"]))
        message, fix = _humanise(e, path, fields)
        if (path, message) in seen:
            continue
        seen.add((path, message))
        line, col = doc.locate(path)
        out.append(Problem(doc.file, line, col, render_path(path), message, fix))
    return out


def _humanise(e: Any, path: Path, fields: Sequence[str] | None) -> tuple[str, str]:
    kind = e["type"]
    msg = str(e["msg"])
    field = path[-1] if path else ""
    if kind == "extra_forbidden":
        vocab = fields if fields is not None else known_field_names()
        close = difflib.get_close_matches(str(field), vocab, n=1, cutoff=0.75)
        fix = f"did you mean {close[0]!r}?" if close else "remove it; see the JSON Schema in schemas/ for valid fields"
        return f"unknown field {field!r}", fix
    if kind == "missing":
        return f"missing required field {field!r}", f"add `{field}:`"
    if kind in ("value_error", "assertion_error"):
        msg = msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
        if "(" in msg and msg.endswith(")"):
            head, _, tail = msg.rpartition(" (")
            return head, tail[:-1]
        return msg, ""
    got = e.get("input")
    if kind == "literal_error":
        return f"{msg}, got {_short(got)}", ""
    if kind.endswith("_type") or kind.endswith("_parsing") or kind.startswith("string_") or kind in (
        "greater_than_equal", "less_than_equal", "greater_than", "less_than", "too_short", "too_long",
    ):  # fmt: skip
        return f"{msg[0].lower()}{msg[1:]}, got {_short(got)}", ""
    return msg, ""


def _short(value: Any) -> str:
    text = repr(value)
    if isinstance(value, dict):
        text = "a mapping"
    elif isinstance(value, list):
        text = f"a list of {len(value)}"
    return text if len(text) <= 60 else text[:57] + "..."
