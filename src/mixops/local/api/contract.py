"""Request bodies held to the official SDK's request models, at every depth.

The API refuses undeclared keys with 422 ``extra_forbidden`` since 2026-11-02 (before
that it ignored them and named them in ``warnings``), and it refuses a body missing a
required key. The local backend does the same from ``request_keys.json``: per route,
the SDK's request model; per model, its declared keys, its required keys, the models
nested under each key, and whether it is open (takes any key, like a filter's
shorthand ``{"field.path": value}``). The table is derived from the SDK by
``tests/sdk/contract_table.py`` and a test keeps it fresh; the backend never imports
the SDK.

Only keys are checked here. Value types, ranges and the rules between fields stay with
the route models (``schemas.py``) and handlers.

Hazard: a union (``oneOf``/``anyOf`` in the SDK) matches when ANY member matches; when
none does, the member with the fewest problems is reported, after members whose enum
fields (``taxonomy_type: flat``) disagree with the body were set aside.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

TABLE_FILE = Path(__file__).with_name("request_keys.json")


@dataclass(frozen=True)
class KeyProblem:
    """One key of a body the SDK's model refuses: undeclared (``extra``) or ``missing``."""

    loc: tuple[str | int, ...]  # where the object holding the key sits, from the body's root
    key: str
    kind: str  # "extra" | "missing"
    accepted: tuple[str, ...]  # the keys the model at ``loc`` declares

    @property
    def path(self) -> str:
        return dotted((*self.loc, self.key))

    def error(self) -> dict[str, Any]:
        """A ``details.validation_errors`` entry, in the shape FastAPI gives its own."""
        if self.kind == "extra":
            msg = "Extra inputs are not permitted; accepted here: " + ", ".join(self.accepted)
            return {"loc": ["body", *self.loc, self.key], "msg": msg, "type": "extra_forbidden"}
        return {"loc": ["body", *self.loc, self.key], "msg": "Field required", "type": "missing"}


def dotted(loc: tuple[str | int, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


@cache
def table() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(TABLE_FILE.read_text(encoding="utf-8"))
    return data


def route_model(method: str, path_template: str) -> str | None:
    """The SDK request model of ``METHOD /v1/...`` (the route's path template), if any."""
    model: str | None = table()["routes"].get(f"{method.upper()} {path_template}")
    return model


def check_body(model: str, body: Any) -> list[KeyProblem]:
    """Every undeclared or missing key of ``body`` against the SDK model ``model``, and every
    undeclared key of a stage's ``parameters`` where the SDK types that stage's parameters."""
    return _check({"model": model}, body, ()) + stage_parameter_problems(body)


def stage_parameter_problems(value: Any, loc: tuple[str | int, ...] = (), in_stages: bool = False) -> list[KeyProblem]:
    """Undeclared keys in the ``parameters`` of each stage under a ``stages`` list.

    The request models leave a stage's config and parameters free-form, but the SDK types
    the parameters of each stage (StageParams<StageId>); a stage is found by its
    ``stage_id`` next to ``parameters``, in both shapes (``config: {stage_id, parameters}``
    and the flat ``{stage_name, stage_id, parameters}``). Stage ids the SDK has no model
    for (the seeds' ``hybrid_search``) are not checked. Only undeclared keys: whether a
    parameter is required depends on templates and defaults the engine resolves.
    """
    problems: list[KeyProblem] = []
    if isinstance(value, dict):
        stage_id, parameters = value.get("stage_id"), value.get("parameters")
        model = table().get("stage_parameters", {}).get(stage_id) if in_stages and isinstance(stage_id, str) else None
        if model is not None and isinstance(parameters, dict):
            found = _check_model(model, parameters, (*loc, "parameters"))
            problems += [p for p in found if p.kind == "extra"]
        for key, item in value.items():
            if key != "parameters" or model is None:
                problems += stage_parameter_problems(item, (*loc, key), in_stages or key == "stages")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            problems += stage_parameter_problems(item, (*loc, i), in_stages)
    return problems


def _check(kind: Any, value: Any, loc: tuple[str | int, ...]) -> list[KeyProblem]:
    if kind is None or value is None:
        return []
    if "model" in kind:
        return _check_model(kind["model"], value, loc) if isinstance(value, dict) else []
    if "list" in kind:
        if not isinstance(value, list):
            return []
        return [p for i, item in enumerate(value) for p in _check(kind["list"], item, (*loc, i))]
    if "map" in kind:
        if not isinstance(value, dict):
            return []
        return [p for key, item in value.items() for p in _check(kind["map"], item, (*loc, key))]
    return _check_union(kind["any"], value, loc)


def _check_model(name: str, value: dict[str, Any], loc: tuple[str | int, ...]) -> list[KeyProblem]:
    model = table()["models"][name]
    fields: dict[str, Any] = model["fields"]
    accepted = tuple(fields)
    problems = [KeyProblem(loc, key, "missing", accepted) for key in model["required"] if key not in value]
    for key, item in value.items():
        if key in fields:
            problems += _check(fields[key], item, (*loc, key))
        elif not model["open"]:
            problems.append(KeyProblem(loc, key, "extra", accepted))
    return problems


def _check_union(members: list[Any], value: Any, loc: tuple[str | int, ...]) -> list[KeyProblem]:
    fitting = [m for m in members if _shape_fits(m, value)]
    if not fitting:
        return []  # a type error, for the route model to report
    agreeing = [m for m in fitting if _enums_agree(m, value)] or fitting
    best: list[KeyProblem] | None = None
    for member in agreeing:
        problems = _check(member, value, loc)
        if not problems:
            return []
        if best is None or len(problems) < len(best):
            best = problems
    return best or []


def _shape_fits(kind: Any, value: Any) -> bool:
    if kind is None:
        return True
    if "model" in kind or "map" in kind:
        return isinstance(value, dict)
    if "list" in kind:
        return isinstance(value, list)
    return any(_shape_fits(m, value) for m in kind["any"])


def _enums_agree(kind: Any, value: Any) -> bool:
    if kind is None or "model" not in kind or not isinstance(value, dict):
        return True
    enums: dict[str, list[str]] = table()["models"][kind["model"]]["enums"]
    return all(value[key] in allowed for key, allowed in enums.items() if isinstance(value.get(key), str))


def check_field(model: str, key: str, value: Any) -> list[KeyProblem]:
    """Every undeclared or missing key of ``value``, held to the type of ``model``'s field ``key``.

    For bodies the SDK leaves untyped whose keys mirror another model's fields (the
    collection PATCH sends fields of CreateCollectionRequest).
    """
    kind = table()["models"][model]["fields"].get(key)
    return _check(kind, value, (key,))
