"""`${{ params.NAME }}` and `${{ env.NAME }}` placeholders (pure).

A placeholder that is the whole string takes the value's own type, so
`final_top_k: "${{ params.top_k }}"` becomes an integer; inside a longer string
it is interpolated as text. `env` values are secrets: every resolved value is
recorded so that renderers can mask it as `***` wherever it would appear.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mixops.core.locations import Unrepresentable
from mixops.core.wording import with_article

if TYPE_CHECKING:
    from mixops.core.models.manifest import Parameter

REF_RE = re.compile(r"^(params|env)\.([A-Za-z_][A-Za-z0-9_.\-]*)$")
MASK = "***"

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class ParamOrigin:
    """The parameters a string placeholder filled, and the value it resolved to there."""

    params: tuple[str, ...]
    value: Any


# A resolved string as a template: literal text, or (True, NAME) for an env hole.
Segment = tuple[bool, str]
Template = tuple[Segment, ...]


def iter_placeholders(text: str) -> Iterator[tuple[int, int, str]]:
    """Every `${{ expr }}` of `text`, left to right, as (start, end, expr stripped).

    A placeholder is `${{`, then text without braces, then `}}`. Linear in
    len(text) by construction: only `str.find` calls, each starting where the last
    one of its kind stopped (never further back than 3 characters), so no character
    is looked at more than a few times. HAZARD: the regex this replaces had three
    quantifiers over the same characters (`\\s*[^{}]*?\\s*`) and took cubic time on
    `${{` followed by spaces and no `}}` (8,000 spaces: minutes).
    """
    pos = 0
    # The next "{" and "}" at or after the current candidate; found once, reused
    # until the scan passes them.
    next_open = next_close = -2
    end = len(text)
    while True:
        start = text.find("${{", pos)
        if start < 0:
            return
        inner = start + 3
        if next_open < inner and next_open != -1:
            next_open = text.find("{", inner)
        if next_close < inner and next_close != -1:
            next_close = text.find("}", inner)
        if next_close == -1:
            return  # no "}" anywhere after: no later placeholder can close either
        if next_open != -1 and next_open < next_close:
            # A "{" comes first: no placeholder starts here. The next `${{` can start
            # one character before that "{" at the earliest (nothing before it has a brace).
            pos = next_open - 1
        elif next_close + 1 < end and text[next_close + 1] == "}":
            yield start, next_close + 2, text[inner:next_close].strip()
            pos = next_close + 2
        else:
            pos = next_close + 1  # a lone "}": likewise, no `${{` starts before it


def check_param_value(param: Parameter, value: Any) -> str | None:
    """Why `value` does not fit the declared parameter, or None when it does."""
    return value_problem(param.type, param.enum, value)


def value_problem(type_: str, enum: list[Any] | None, value: Any) -> str | None:
    """Why `value` is no value of a parameter of `type_` (and `enum`), or None when it is."""
    ok = {
        "string": isinstance(value, str),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, int | float) and not isinstance(value, bool),
        "boolean": isinstance(value, bool),
    }.get(type_, True)
    if not ok:
        return f"expected {with_article(type_)}, got {type(value).__name__} {value!r}"
    if isinstance(value, str) and "${{" in value:
        # Parameter values are never resolved: the API would get `${{ env.X }}` as text.
        return (
            "placeholders are not resolved in parameter values "
            "(write the value itself; for a secret, put ${{ env.NAME }} in the field that uses it)"
        )
    if enum is not None and value not in enum:
        return f"{value!r} is not one of {enum!r}"
    return None


@dataclass
class Resolution:
    """Result of resolving one document: new data, problems by path, secrets seen."""

    data: Any
    problems: list[tuple[Path, str, str]] = field(default_factory=list)
    secrets: set[str] = field(default_factory=set)
    secret_names: dict[str, str] = field(default_factory=dict)  # value -> variable name, for export
    used_params: set[str] = field(default_factory=set)
    # Where a value came (wholly or partly) from `${{ env.X }}`, and its template: what lets
    # output mask the LIVE value at that path too (a rotated secret's old value is unknown).
    secret_paths: dict[Path, Template] = field(default_factory=dict)
    # Where a value came (wholly or partly) from `${{ params.X }}`: the parameters, and the
    # value as resolved there. The plan shows a change's origin from this (never guessed).
    param_paths: dict[Path, ParamOrigin] = field(default_factory=dict)


def resolve(
    data: Any,
    params: Mapping[str, Any],
    env: Mapping[str, str],
    *,
    base: Path = (),
    quiet: frozenset[str] | None = frozenset(),
) -> Resolution:
    """Replace every placeholder in `data` (a YAML-shaped tree); collect all problems.

    A string whose placeholder cannot be resolved is left as an `Unrepresentable`: the
    problem is reported once, here, and validation says nothing more about that value.
    `quiet` names parameters whose declaration is broken (reported where declared);
    None stands for every undeclared parameter (a file that declares parameters could
    not be read).
    """
    res = Resolution(data=None)
    res.data = _Resolver(params, env, quiet, res).walk(data, base)
    return res


def _inert(value: Any) -> bool:
    """True for values that cannot hold a placeholder (the common case: skip them cheaply)."""
    return value is None or isinstance(value, int | float | bool) or (isinstance(value, str) and "${{" not in value)


@dataclass
class _Resolver:
    """One `resolve` call: its inputs, and the `Resolution` its walk and lookups fill."""

    params: Mapping[str, Any]
    env: Mapping[str, str]
    quiet: frozenset[str] | None  # as in `resolve`
    res: Resolution

    def walk(self, node: Any, path: Path) -> Any:
        """Copy-on-write: containers without placeholders are returned as they are."""
        if isinstance(node, str):
            return self.substitute(node, path) if "${{" in node else node
        if not isinstance(node, dict | list):
            return node
        # Dicts and lists alike: a container is copied at its first entry that changes.
        entries = node.items() if isinstance(node, dict) else enumerate(node)
        out: dict[Any, Any] | list[Any] | None = None
        for key, value in entries:
            if _inert(value):
                continue
            new = self.walk(value, (*path, key))
            if new is not value:
                if out is None:
                    out = dict(node) if isinstance(node, dict) else list(node)
                out[key] = new
        return node if out is None else out

    def lookup(self, expr: str, path: Path) -> tuple[bool, Any]:
        res = self.res
        match = REF_RE.match(expr)
        if not match:
            res.problems.append(
                (path, f"invalid placeholder '${{{{ {expr} }}}}'", "use ${{ params.NAME }} or ${{ env.NAME }}")
            )
            return False, None
        kind, name = match.groups()
        if kind == "params":
            if name not in self.params:
                if self.quiet is None or name in self.quiet:
                    return False, None
                known = ", ".join(sorted(self.params)) or "none declared"
                res.problems.append(
                    (path, f"unknown parameter {name!r}", f"declare it under `parameters:`; declared: {known}")
                )
                return False, None
            res.used_params.add(name)
            value = self.params[name]
            if value is None:
                res.problems.append(
                    (path, f"parameter {name!r} has no value", "give it a `default` or a value in the environment")
                )
                return False, None
            return True, value
        if name not in self.env:
            res.problems.append((path, f"environment variable {name} is not set", f"export {name}=... before running"))
            return False, None
        secret = self.env[name]
        if secret:
            res.secrets.add(secret)
            res.secret_names[secret] = name
        return True, secret

    def substitute(self, text: str, path: Path) -> Any:
        res = self.res
        found = list(iter_placeholders(text))
        if len(found) == 1 and not text[: found[0][0]].strip() and not text[found[0][1] :].strip():
            # The whole string is one placeholder: the value keeps its own type.
            expr = found[0][2]
            ok, value = self.lookup(expr, path)
            env_name = _env_name(expr)
            if ok and env_name:
                res.secret_paths[path] = ((True, env_name),)
            param = _param_name(expr)
            if ok and param:
                res.param_paths[path] = ParamOrigin((param,), value)
            return value if ok else Unrepresentable(text)

        template: list[Segment] = []
        used: list[str] = []
        failed = False
        pos = 0
        for start, end, expr in found:
            template.append((False, text[pos:start]))
            pos = end
            ok, value = self.lookup(expr, path)
            name = _env_name(expr)
            param = _param_name(expr)
            if ok and param and param not in used:
                used.append(param)
            if not ok:
                failed = True
                template.append((False, text[start:end]))
            elif name:
                template.append((True, name))
            else:
                template.append((False, ("true" if value else "false") if isinstance(value, bool) else str(value)))
        template.append((False, text[pos:]))
        if any(hole for hole, _ in template):
            res.secret_paths[path] = tuple(template)
        out = "".join(value if not hole else self.env.get(value, "") for hole, value in template)
        if used and not failed:
            res.param_paths[path] = ParamOrigin(tuple(used), out)
        return Unrepresentable(out) if failed else out


def _env_name(expr: str) -> str | None:
    match = REF_RE.match(expr)
    return match.group(2) if match and match.group(1) == "env" else None


def _param_name(expr: str) -> str | None:
    match = REF_RE.match(expr)
    return match.group(2) if match and match.group(1) == "params" else None


def params_behind(origins: Mapping[Path, ParamOrigin], at: Path, value: Any) -> tuple[str, ...]:
    """The parameters that made `value`, found at `at` in a resource's spec (empty when none did).

    `origins` are the resource's placeholder paths (as written in its manifest). An
    origin counts only where the value there is still the one the placeholder
    resolved to: a spec reordered by normalisation (set-like lists are sorted) can put
    another value at that index, and an origin must never be claimed for it. A change
    of a whole subtree (a list of names) collects the origins inside it.
    """
    names: list[str] = []
    for path, origin in origins.items():
        if path[: len(at)] != at:
            continue
        found = value_at(value, path[len(at) :])
        if found is not _ABSENT and _same(found, origin.value):
            names += [n for n in origin.params if n not in names]
    return tuple(names)


_ABSENT = object()


def value_at(node: Any, path: Path, absent: Any = _ABSENT) -> Any:
    """The value at `path` in a JSON-shaped tree, or `absent` when the path leads nowhere."""
    for part in path:
        if isinstance(node, dict):
            if part not in node:
                return absent
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            return absent
    return node


def _same(a: Any, b: Any) -> bool:
    """Equal as values, where a bool is not a number (True is not 1 here)."""
    return a == b and isinstance(a, bool) == isinstance(b, bool)


# Values shorter than this are not masked by value: "ab" would turn every URL, name and
# word containing it into `***` soup (`POST /v1/retriever***/li***t`). Masking by path
# (below) still hides such a value where the manifests put it; a plan warns about each
# such variable by name (never by value). Masking is for output only: it never touches
# what is compared, stored or sent.
MASK_MIN_LENGTH = 4


def maskable(secrets: frozenset[str] | set[str]) -> list[str]:
    """The secrets that `mask` replaces: long enough, longest first (so overlaps mask fully)."""
    return sorted((s for s in secrets if len(s) >= MASK_MIN_LENGTH), key=len, reverse=True)


def mask(text: str, secrets: frozenset[str] | set[str]) -> str:
    """Replace every secret value of at least MASK_MIN_LENGTH characters in `text` by `***`."""
    for secret in maskable(secrets):
        text = text.replace(secret, MASK)
    return text


def mask_tree(node: Any, secrets: frozenset[str] | set[str]) -> Any:
    """`node` (a JSON-shaped tree) with `mask` applied to every string in it."""
    values = maskable(secrets)
    return _mask_tree(node, values) if values else node


def _mask_tree(node: Any, values: list[str]) -> Any:
    if isinstance(node, dict):
        return {k: _mask_tree(v, values) for k, v in node.items()}
    if isinstance(node, list):
        return [_mask_tree(v, values) for v in node]
    if isinstance(node, str):
        for secret in values:
            node = node.replace(secret, MASK)
        return node
    return node


# --- masking by path --------------------------------------------------------------
#
# Masking by value only hides the CURRENT secret. A live object still holding a
# rotated secret's old value, or any value at a path the manifests fill from the
# environment, must be masked by where it is, not by what it is.

SecretPaths = Mapping[Path, Template]


def fits_template(value: str, template: Template) -> bool:
    """Whether `value` is the template's literal text with anything in each hole.

    This is wildcard matching (each hole a `*`), decided without a regex: a pattern
    of several `(.*?)` groups backtracks polynomially in the value's length with the
    number of holes, and live values are not ours to bound. Anchoring the first and
    last literal and placing each middle literal at its leftmost occurrence is exact
    for `*`-only patterns: an earlier placement never leaves less room for the rest.
    """
    chunks = [""]  # literal text between holes; len(chunks) == holes + 1
    for hole, text in template:
        if hole:
            chunks.append("")
        else:
            chunks[-1] += text
    if len(chunks) == 1:
        return value == chunks[0]
    first, middle, last = chunks[0], chunks[1:-1], chunks[-1]
    if len(value) < len(first) + len(last) or not value.startswith(first) or not value.endswith(last):
        return False
    pos, end = len(first), len(value) - len(last)
    for literal in middle:
        found = value.find(literal, pos, end)
        if found < 0:
            return False
        pos = found + len(literal)
    return True


def mask_with_template(value: Any, template: Template, fill: Callable[[str], str] | None = None) -> Any:
    """`value` with the parts matching the template's env holes replaced by `fill(NAME)` (`***`).

    A value that does not fit the template at all (edited by hand, or not a
    string) cannot have its secret part told from the rest: it is masked whole,
    or, with `fill`, replaced by the template itself.
    """
    if isinstance(value, str) and fits_template(value, template):
        return "".join((fill(text) if fill else MASK) if hole else text for hole, text in template)
    if fill is None:
        return MASK
    return "".join(fill(text) if hole else text for hole, text in template)


def _matches(rule: Path, at: Path, any_index: bool) -> bool:
    return all(
        r == a or (any_index and isinstance(r, int) and isinstance(a, int)) for r, a in zip(rule, at, strict=False)
    )


def mask_at_paths(
    value: Any,
    at: Path,
    secret_paths: SecretPaths,
    *,
    any_index: bool = True,
    fill: Callable[[str], str] | None = None,
) -> Any:
    """Mask `value`, found at `at` in a manifest-shaped spec, wherever a secret path reaches into it.

    With `any_index`, list positions are ignored (a secret in `stages[0]` masks the
    same field in every stage): a positional diff after an insertion, or a sorted
    set-like list, puts the old value at another index than the manifest's.
    `fill` replaces holes by something else than `***` (export writes placeholders).
    """
    out = value
    for rule, template in secret_paths.items():
        if not _matches(rule, at, any_index):
            continue
        if len(rule) <= len(at):
            return mask_with_template(value, template, fill) if len(rule) == len(at) else MASK
        out = _mask_below(out, rule[len(at) :], template, any_index, fill)
    return out


def _mask_below(node: Any, rest: Path, template: Template, any_index: bool, fill: Callable[[str], str] | None) -> Any:
    if not rest:
        return mask_with_template(node, template, fill)
    head, tail = rest[0], rest[1:]
    if isinstance(node, dict) and head in node:
        return {**node, head: _mask_below(node[head], tail, template, any_index, fill)}
    if isinstance(node, list) and isinstance(head, int):
        return [
            _mask_below(v, tail, template, any_index, fill) if (any_index or i == head) else v
            for i, v in enumerate(node)
        ]
    return node
