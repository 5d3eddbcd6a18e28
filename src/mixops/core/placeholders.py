"""`${{ params.NAME }}` and `${{ env.NAME }}` placeholders (pure).

A placeholder that is the whole string takes the value's own type, so
`final_top_k: "${{ params.top_k }}"` becomes an integer; inside a longer string
it is interpolated as text. `env` values are secrets: every resolved value is
recorded so that renderers can mask it as `***` wherever it would appear.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mixops.core.models.manifest import Parameter

PLACEHOLDER_RE = re.compile(r"\$\{\{\s*([^{}]*?)\s*\}\}")
REF_RE = re.compile(r"^(params|env)\.([A-Za-z_][A-Za-z0-9_.\-]*)$")
MASK = "***"

Path = tuple[str | int, ...]


def check_param_value(param: Parameter, value: Any) -> str | None:
    """Why `value` does not fit the declared parameter, or None when it does."""
    ok = {
        "string": isinstance(value, str),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, int | float) and not isinstance(value, bool),
        "boolean": isinstance(value, bool),
    }[param.type]
    if not ok:
        return f"expected a {param.type}, got {type(value).__name__} {value!r}"
    if param.enum is not None and value not in param.enum:
        return f"{value!r} is not one of {param.enum!r}"
    return None


@dataclass
class Resolution:
    """Result of resolving one document: new data, problems by path, secrets seen."""

    data: Any
    problems: list[tuple[Path, str, str]] = field(default_factory=list)
    secrets: set[str] = field(default_factory=set)
    secret_names: dict[str, str] = field(default_factory=dict)  # value -> variable name, for export
    used_params: set[str] = field(default_factory=set)


def resolve(data: Any, params: Mapping[str, Any], env: Mapping[str, str], *, base: Path = ()) -> Resolution:
    """Replace every placeholder in `data` (a YAML-shaped tree); collect all problems."""
    res = Resolution(data=None)
    res.data = _walk(data, base, params, env, res)
    return res


def _inert(value: Any) -> bool:
    """True for values that cannot hold a placeholder (the common case: skip them cheaply)."""
    return value is None or isinstance(value, int | float | bool) or (isinstance(value, str) and "${{" not in value)


def _walk(node: Any, path: Path, params: Mapping[str, Any], env: Mapping[str, str], res: Resolution) -> Any:
    """Copy-on-write: containers without placeholders are returned as they are."""
    if isinstance(node, dict):
        out: dict[Any, Any] | None = None
        for k, v in node.items():
            if _inert(v):
                continue
            nv = _walk(v, (*path, k), params, env, res)
            if nv is not v:
                if out is None:
                    out = dict(node)
                out[k] = nv
        return node if out is None else out
    if isinstance(node, list):
        items: list[Any] | None = None
        for i, v in enumerate(node):
            if _inert(v):
                continue
            nv = _walk(v, (*path, i), params, env, res)
            if nv is not v:
                if items is None:
                    items = list(node)
                items[i] = nv
        return node if items is None else items
    if isinstance(node, str) and "${{" in node:
        return _substitute(node, path, params, env, res)
    return node


def _lookup(
    expr: str, path: Path, params: Mapping[str, Any], env: Mapping[str, str], res: Resolution
) -> tuple[bool, Any]:
    match = REF_RE.match(expr)
    if not match:
        res.problems.append(
            (path, f"invalid placeholder '${{{{ {expr} }}}}'", "use ${{ params.NAME }} or ${{ env.NAME }}")
        )
        return False, None
    kind, name = match.groups()
    if kind == "params":
        if name not in params:
            known = ", ".join(sorted(params)) or "none declared"
            res.problems.append(
                (path, f"unknown parameter {name!r}", f"declare it under `parameters:`; declared: {known}")
            )
            return False, None
        res.used_params.add(name)
        value = params[name]
        if value is None:
            res.problems.append(
                (path, f"parameter {name!r} has no value", "give it a `default` or a value in the environment")
            )
            return False, None
        return True, value
    if name not in env:
        res.problems.append((path, f"environment variable {name} is not set", f"export {name}=... before running"))
        return False, None
    secret = env[name]
    if secret:
        res.secrets.add(secret)
        res.secret_names[secret] = name
    return True, secret


def _substitute(text: str, path: Path, params: Mapping[str, Any], env: Mapping[str, str], res: Resolution) -> Any:
    whole = PLACEHOLDER_RE.fullmatch(text.strip())
    if whole:
        ok, value = _lookup(whole.group(1), path, params, env, res)
        return value if ok else text

    def repl(m: re.Match[str]) -> str:
        ok, value = _lookup(m.group(1), path, params, env, res)
        if not ok:
            return m.group(0)
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    return PLACEHOLDER_RE.sub(repl, text)


def mask(text: str, secrets: frozenset[str] | set[str]) -> str:
    """Replace every secret value in `text` by `***` (longest first, so overlaps mask fully)."""
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, MASK)
    return text


def mask_tree(node: Any, secrets: frozenset[str] | set[str]) -> Any:
    if not secrets:
        return node
    if isinstance(node, dict):
        return {k: mask_tree(v, secrets) for k, v in node.items()}
    if isinstance(node, list):
        return [mask_tree(v, secrets) for v in node]
    if isinstance(node, str):
        return mask(node, secrets)
    return node
