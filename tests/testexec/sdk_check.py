"""Hold a request body to the official SDK's request model, undeclared keys refused at any depth.

The SDK (a test-only dependency) ignores unknown keys; the API refuses them since
2026-11-02. `off_contract(model, body)` validates the body with the SDK (`from_dict`:
types and required fields) and walks it alongside the model's fields, oneOf
wrappers included, listing every key the model does not declare.
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel


def _classes(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic model classes an annotation may hold (through Optional, List, Dict values)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _classes(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType, list, tuple):
        return [c for arg in typing.get_args(annotation) for c in _classes(arg)]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return []


def _extra(model: type[BaseModel], body: Any, where: str) -> list[str]:
    if isinstance(body, list):
        return [p for i, item in enumerate(body) for p in _extra(model, item, f"{where}[{i}]")]
    if not isinstance(body, dict):
        return []
    fields = model.model_fields
    if "actual_instance" in fields:  # an SDK oneOf wrapper: some alternative must hold the body
        tried = [_extra(c, body, where) for c in _classes(fields["actual_instance"].annotation)]
        return min(tried, key=len) if tried else []
    names = {f.alias or name: f for name, f in fields.items()}
    out = []
    for key, value in body.items():
        field = names.get(key)
        if field is None or key == "additional_properties":
            out.append(f"{where}.{key}" if where else key)
            continue
        candidates = _classes(field.annotation)
        if candidates:
            tried = [_extra(c, value, f"{where}.{key}" if where else key) for c in candidates]
            out += min(tried, key=len)
    return out


def off_contract(model: type[BaseModel], body: dict[str, Any]) -> list[str]:
    """Problems of `body` under the SDK model: a validation error, or the undeclared keys."""
    try:
        model.from_dict(body)  # type: ignore[attr-defined]  # every SDK model has it
    except Exception as err:  # the SDK raises ValidationError or ValueError (oneOf)
        return [f"invalid: {err}"]
    return [f"undeclared key {key}" for key in _extra(model, body, "")]
