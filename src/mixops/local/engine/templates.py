"""``{{INPUT.x}}`` substitution in stage parameters (mixpeek-api.md 5.2).

Only the input namespace is substituted here (``INPUT``/``inputs``/``input``, any
case); ``DOC``, ``CONTEXT`` and ``STAGE`` templates are left as written for the
stages that evaluate them per document. Single braces are never substituted.

A template that is the whole string keeps the input's type (a list stays a list,
a number a number). Inside a longer string the value is rendered with ``str``.
A template naming a missing input becomes ``None`` when it is the whole string
and ``""`` inside a longer string; ``missing_inputs`` reports which ones were
missing so the runner can tell the user.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_SCALARS = frozenset({int, float, bool, type(None)})
_TEMPLATE = re.compile(r"\{\{\s*(input|inputs)\.([A-Za-z0-9_.\-]+)\s*\}\}", re.IGNORECASE)


def substitute(value: Any, inputs: Mapping[str, Any], missing: set[str] | None = None) -> Any:
    """A copy of ``value`` with every input template replaced (recursively)."""
    if isinstance(value, str):
        return _substitute_str(value, inputs, missing)
    if isinstance(value, Mapping):
        return {k: substitute(v, inputs, missing) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, inputs, missing) for v in value]
    return value


def has_input_templates(value: Any) -> bool:
    """Whether ``value`` holds an input template anywhere (without copying it, unlike ``substitute``)."""
    if isinstance(value, str):
        return _TEMPLATE.search(value) is not None
    if isinstance(value, Mapping):
        return any(has_input_templates(v) for v in value.values())
    if isinstance(value, list):
        # Skip numbers (a query vector's hundreds of them) without a call each.
        return any(has_input_templates(v) for v in value if type(v) not in _SCALARS)
    return False


def missing_inputs(value: Any, inputs: Mapping[str, Any]) -> set[str]:
    """Names of inputs that ``value``'s templates reference but ``inputs`` lacks."""
    missing: set[str] = set()
    substitute(value, inputs, missing)
    return missing


def _lookup(inputs: Mapping[str, Any], path: str) -> tuple[bool, Any]:
    current: Any = inputs
    for part in path.split("."):
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        else:
            return False, None
    return True, current


def _substitute_str(text: str, inputs: Mapping[str, Any], missing: set[str] | None) -> Any:
    whole = _TEMPLATE.fullmatch(text.strip())
    if whole is not None:
        found, value = _lookup(inputs, whole.group(2))
        if not found and missing is not None:
            missing.add(whole.group(2))
        return value

    def render(match: re.Match[str]) -> str:
        found, value = _lookup(inputs, match.group(2))
        if not found:
            if missing is not None:
                missing.add(match.group(2))
            return ""
        return "" if value is None else str(value)

    return _TEMPLATE.sub(render, text)
