"""Turn pydantic errors into located, human `Problem`s (pure).

Pydantic locations contain discriminated-union tags; ours all start with `~`
and are dropped so the path matches what the user wrote in YAML.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any, Protocol

from pydantic import BaseModel, ValidationError

from mixops.errors import Problem

Path = tuple[str | int, ...]


class Unrepresentable(str):
    """A scalar the loader refused (a number JSON cannot carry), kept as its text.

    The loader reports it where it was written; validation ignores errors about such
    a value, which would only say the same thing again in other words.
    """

    __slots__ = ()


class Locatable(Protocol):
    @property
    def file(self) -> str: ...
    @property
    def data(self) -> Any: ...

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
    from mixops.core.models import cluster, retriever_stages

    for model in [*retriever_stages._INNER_MODELS.values(), *cluster.VECTOR_MODELS.values()]:
        visit(model)
    for params in [*retriever_stages.TYPED_PARAMS.values(), *cluster.METHOD_PARAMS.values()]:
        visit(params)
    return tuple(sorted(names))


def user_path(loc: Iterable[str | int], data: Any, kind: str) -> Path:
    """The path as the user wrote it: pydantic's union-member labels and our `~` tags dropped.

    A segment is kept when it indexes into the input data; a final segment that
    names a missing field (or an unknown one) is kept too.
    """
    parts = list(clean_loc(loc))
    out: list[str | int] = []
    node = data
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        ):
            out.append(part)
            node = node[part]  # type: ignore[index]
        elif last and kind in ("missing", "extra_forbidden") and isinstance(node, dict):
            out.append(part)
        # anything else is a union-member label such as "int" or "function-after[...]"
    return tuple(out)


def problems_from_validation(
    err: ValidationError,
    doc: Locatable,
    *,
    base: Path = (),
    data: Any = None,
    model: type[BaseModel] | None = None,
) -> list[Problem]:
    source = doc.data if data is None and hasattr(doc, "data") else data
    node = source
    for part in base:
        node = node[part] if isinstance(node, dict | list) else None  # type: ignore[index]
    grouped: dict[Path, list[tuple[str, str]]] = {}
    kinds: dict[Path, list[str]] = {}
    for e in err.errors(include_url=False):
        if isinstance(e.get("input"), Unrepresentable):
            continue
        path = (*base, *user_path(e["loc"], node, e["type"]))
        fields = fields_at(model, e["loc"]) if model is not None and e["type"] == "extra_forbidden" else None
        msg = _humanise(e, path, fields)
        if msg not in grouped.setdefault(path, []):
            grouped[path].append(msg)
            kinds.setdefault(path, []).append(e["type"])
    out: list[Problem] = []
    for path, messages in grouped.items():
        if len(messages) > 1:
            messages = _one_union_message(messages, kinds[path])
        line, col = doc.locate(path)
        for message, fix in messages:
            out.append(Problem(doc.file, line, col, render_path(path), message, fix))
    return out


_RANGE_ERRORS = frozenset({"greater_than_equal", "less_than_equal", "greater_than", "less_than"})


def _one_union_message(messages: list[tuple[str, str]], kinds: list[str]) -> list[tuple[str, str]]:
    """The alternatives of a union failed one by one: say it once.

    A number out of range failed the number alternative on its bound and the others
    on their type: only the bound is news to the user (`top_k: -5` must read "greater
    than or equal to 1", not "... or a valid string").
    """
    in_range = [m for m, k in zip(messages, kinds, strict=True) if k in _RANGE_ERRORS]
    if in_range:
        return in_range[:1]
    got = next((m.split(", got ", 1)[1] for m, _ in messages if ", got " in m), "")
    wants = [m.split(", got ", 1)[0].removeprefix("input should be ").removeprefix("expected ") for m, _ in messages]
    return [("expected " + " or ".join(dict.fromkeys(wants)) + (f", got {got}" if got else ""), messages[0][1])]


def fields_at(root: type[BaseModel], loc: Sequence[str | int]) -> tuple[str, ...] | None:
    """Field names valid at pydantic location `loc` (tags included), or None when unknown.

    Walks the model's annotations: fields, list items, dict values, and
    discriminated-union members picked by their `~tag`.
    """
    import types
    import typing

    from pydantic import Discriminator, Tag

    def unwrap(tp: Any, tag: str | None = None) -> list[Any]:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            base, *meta = typing.get_args(tp)
            is_union = any(isinstance(m, Discriminator) for m in meta)
            if tag is not None and not is_union and not any(isinstance(m, Tag) and m.tag == tag for m in meta):
                return []  # a union member whose tag is not the one in the location
            return unwrap(base, tag if is_union else None)
        if origin in (typing.Union, types.UnionType):
            found: list[Any] = []
            for arg in typing.get_args(tp):
                found += unwrap(arg, tag)
            return found
        return [tp]

    current: list[Any] = [root]
    for part in loc[:-1]:
        nxt: list[Any] = []
        for tp in current:
            if isinstance(part, str) and part.startswith("~"):
                nxt += unwrap(tp, part)
                continue
            for t in unwrap(tp):
                origin = typing.get_origin(t)
                if isinstance(t, type) and issubclass(t, BaseModel) and isinstance(part, str):
                    info = t.model_fields.get(part) or next(
                        (f for f in t.model_fields.values() if f.alias == part), None
                    )
                    if info is not None:
                        nxt.append(info.annotation)
                elif origin is list and isinstance(part, int):
                    nxt.append(typing.get_args(t)[0])
                elif origin is dict and isinstance(part, str):
                    nxt.append(typing.get_args(t)[1])
        current = nxt
        if not current:
            return None
    names: list[str] = []
    for tp in current:
        for t in unwrap(tp):
            if isinstance(t, type) and issubclass(t, BaseModel):
                names += [f.alias or n for n, f in t.model_fields.items()]
    return tuple(dict.fromkeys(names)) or None


def _humanise(e: Any, path: Path, fields: Sequence[str] | None) -> tuple[str, str]:
    kind = e["type"]
    msg = str(e["msg"])
    field = path[-1] if path else ""
    if kind == "extra_forbidden":
        vocab = fields if fields is not None else known_field_names()
        close = [c for c in difflib.get_close_matches(str(field), vocab, n=2, cutoff=0.75) if c != field]
        if close:
            fix = f"did you mean {close[0]!r}?"
        elif fields is not None:
            shown = ", ".join(fields[:12]) + (", ..." if len(fields) > 12 else "")
            fix = f"valid here: {shown}"
        else:
            fix = "remove it; see the JSON Schema in schemas/ for valid fields"
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
        return _literal(e, field, got)
    if kind == "string_pattern_mismatch" and (words := _pattern_words(str(e.get("ctx", {}).get("pattern", "")))):
        return _pattern(words, str(e.get("ctx", {}).get("pattern")), field, got)
    if (
        kind.endswith("_type")
        or kind.endswith("_parsing")
        or kind.startswith("string_")
        or kind
        in (
            "greater_than_equal",
            "less_than_equal",
            "greater_than",
            "less_than",
            "too_short",
            "too_long",
        )
    ):
        return f"{msg[0].lower()}{msg[1:]}, got {_short(got)}", ""
    return msg, ""


def _pattern_words(pattern: str) -> str | None:
    """What a pattern of the manifest models allows, in words (None: a pattern not described here)."""
    from mixops.core.models.collection import COLLECTION_NAME_PATTERN
    from mixops.core.models.common import NAME_PATTERN
    from mixops.core.models.project import ENV_VAR_PATTERN, URL_PATTERN

    return {
        COLLECTION_NAME_PATTERN: "3 to 88 characters, each a letter, digit, '_' or '-' (the API takes 100; mixops "
        "keeps 12 for the temporary name of a replacement)",
        NAME_PATTERN: "letters, digits, '_', '.' and '-', starting with a letter or digit",
        URL_PATTERN: "a URL starting with http:// or https://",
        ENV_VAR_PATTERN: "an environment variable's name: letters, digits and '_', not starting with a digit",
    }.get(pattern)


def _pattern(words: str, pattern: str, field: str | int, got: Any) -> tuple[str, str]:
    """`'départements' is not a valid name: ...`, with a cleaned-up name to use when there is one."""
    what = field if isinstance(field, str) and field else "value"
    fix = ""
    if isinstance(got, str):
        ascii_only = unicodedata.normalize("NFKD", got).encode("ascii", "ignore").decode()
        candidate = re.sub(r"[^A-Za-z0-9_-]+", "_", ascii_only).strip("_")
        if candidate != got and re.fullmatch(pattern, candidate) and len(candidate) <= len(got) + 1:
            fix = f"did you mean {candidate!r}?"
    return f"{_short(got)} is not a valid {what}: {words}", fix


def _literal(e: Any, field: str | int, got: Any) -> tuple[str, str]:
    """`'bogus_op' is not a valid operator (one of: eq, ne, ...)`, with a did-you-mean when close."""
    allowed = [str(a).strip("'") for a in str(e.get("ctx", {}).get("expected", "")).replace(" or ", ", ").split(", ")]
    allowed = [a for a in allowed if a]
    what = field if isinstance(field, str) and field else "value"
    close = difflib.get_close_matches(str(got), allowed, n=1, cutoff=0.6) if isinstance(got, str) else []
    fix = f"did you mean {close[0]!r}?" if close else f"one of: {', '.join(allowed)}"
    return f"{_short(got)} is not a valid {what}", fix


def _short(value: Any) -> str:
    text = repr(value)
    if isinstance(value, dict):
        text = "a mapping"
    elif isinstance(value, list):
        text = f"a list of {len(value)}"
    return text if len(text) <= 60 else text[:57] + "..."
