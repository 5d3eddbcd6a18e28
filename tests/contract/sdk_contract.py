"""The official SDK (mixpeek 1.3.783, a test-only dependency) read as a contract.

Two things are derived from the SDK's generated code, never copied by hand:

* the route table: every ``mixpeek/api/*.py`` operation's HTTP method, path template,
  request-body model and 200 response model, read from the source with ``ast``
  (``param_serialize(method=..., resource_path=...)``, the ``_body_params = <arg>``
  assignment, the argument's annotation, ``_response_types_map['200']``);
* a strict body check: the SDK's pydantic models ignore undeclared keys (the API refuses
  them since 2026-11-02), so :func:`body_errors` walks a model's fields itself and refuses
  an undeclared key at every depth, then lets pydantic check the declared ones (types,
  required fields, enum validators). oneOf / anyOf wrappers accept a value when one of
  their alternatives accepts it under the same strict rules.

A model with ``additional_properties`` (OpenAPI ``additionalProperties: true``) is held
strict too: the API's notice about undeclared keys names no exception, and mixops has
no reason to send keys a model does not name. ``Dict[str, Any]`` fields stay free-form.
"""

from __future__ import annotations

import ast
import functools
import importlib
import re
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mixpeek
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

API_DIR = Path(mixpeek.__file__).parent / "api"
_WRAPPER_PREFIXES = ("oneof_schema_", "anyof_schema_")
_NOT_FIELDS = frozenset({"additional_properties"})


@dataclass(frozen=True)
class Route:
    method: str
    template: str  # /v1/retrievers/{retriever_id}
    body: str | None  # model name, "Dict[str, Any]" for a free-form object, None for no body
    response: str | None  # 200 model name ("object" when the SDK does not type it)
    operation: str  # the SDK function, for messages

    @functools.cached_property
    def pattern(self) -> re.Pattern[str]:
        parts = re.split(r"(\{[^}]+\})", self.template)
        regex = "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
        return re.compile(f"^{regex}/?$")

    @property
    def key(self) -> str:
        return f"{self.method} {self.template}"


def _body_annotation(text: str) -> str:
    """`Annotated[Optional[CreateX], Field(...)]` -> `CreateX`."""
    node = ast.parse(text, mode="eval").body
    while isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
        if node.value.id == "Annotated":
            node = node.slice.elts[0] if isinstance(node.slice, ast.Tuple) else node.slice
        elif node.value.id == "Optional":
            node = node.slice
        else:
            break
    return ast.unparse(node)


@functools.cache
def sdk_routes() -> tuple[Route, ...]:
    routes: list[Route] = []
    for file in sorted(API_DIR.glob("*_api.py")):
        tree = ast.parse(file.read_text(encoding="utf-8"))
        for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
            funcs = {f.name: f for f in cls.body if isinstance(f, ast.FunctionDef)}
            for name, fn in funcs.items():
                if not (name.startswith("_") and name.endswith("_serialize")):
                    continue
                public = funcs[name[1 : -len("_serialize")]]
                method = path = body_arg = None
                for node in ast.walk(fn):
                    if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "param_serialize":
                        kw = {k.arg: k.value for k in node.keywords}
                        method = ast.literal_eval(kw["method"])
                        path = ast.literal_eval(kw["resource_path"])
                    if (
                        isinstance(node, ast.Assign)
                        and any(getattr(t, "id", "") == "_body_params" for t in node.targets)
                        and isinstance(node.value, ast.Name)
                    ):
                        body_arg = node.value.id
                body = None
                for arg in public.args.args:
                    if arg.arg == body_arg and arg.annotation is not None:
                        body = _body_annotation(ast.unparse(arg.annotation))
                response = None
                for node in ast.walk(public):
                    if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "_response_types_map":
                        assert isinstance(node.value, ast.Dict)
                        for k, v in zip(node.value.keys, node.value.values, strict=True):
                            if isinstance(k, ast.Constant) and k.value in ("200", "201") and response is None:
                                response = ast.literal_eval(v)
                assert method and path, f"{file.name}: {name} has no method/path"
                routes.append(Route(method, path, body, response, f"{file.stem}.{public.name}"))
    return tuple(routes)


def find_route(method: str, path: str, routes: typing.Iterable[Route] | None = None) -> Route | None:
    """The SDK route for a concrete request; a literal segment beats a `{param}` (`/retrievers/execute`)."""
    matches = [r for r in (routes or sdk_routes()) if r.method == method and r.pattern.match(path)]
    if not matches:
        return None
    return max(matches, key=lambda r: (len(re.sub(r"\{[^}]+\}", "", r.template)), -r.template.count("{")))


@functools.cache
def model(name: str) -> type[BaseModel]:
    cls = getattr(mixpeek.models, name, None)
    if cls is None:
        module = importlib.import_module(f"mixpeek.models.{_snake(name)}")
        cls = getattr(module, name)
    assert isinstance(cls, type) and issubclass(cls, BaseModel), name
    return cls


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


# ---- the strict walk ------------------------------------------------------------------


def is_wrapper(cls: type[BaseModel]) -> bool:
    return "actual_instance" in cls.model_fields


def alternatives(cls: type[BaseModel]) -> list[Any]:
    return [f.annotation for n, f in cls.model_fields.items() if n.startswith(_WRAPPER_PREFIXES)]


def declared(cls: type[BaseModel]) -> dict[str, FieldInfo]:
    """Wire name -> field, for a plain (non-wrapper) SDK model."""
    return {(f.alias or n): f for n, f in cls.model_fields.items() if n not in _NOT_FIELDS}


def _strip(annotation: Any) -> Any:
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _is_union(origin: Any) -> bool:
    return origin is typing.Union or origin is types.UnionType


@functools.cache
def _adapter(annotation: Any) -> TypeAdapter[Any]:
    return TypeAdapter(annotation)


def _where(path: str) -> str:
    return path or "<body>"


def body_errors(value: Any, annotation: Any, path: str = "") -> list[str]:
    """Every way `value` (decoded JSON) fails `annotation` under the strict rules; [] when it fits."""
    annotation = _strip(annotation)
    if annotation is Any or annotation is object:
        return []
    origin = typing.get_origin(annotation)
    if _is_union(origin):
        options = typing.get_args(annotation)
        if value is None and type(None) in options:
            return []
        return _best([body_errors(value, o, path) for o in options if o is not type(None)])
    if origin in (list, typing.List):  # noqa: UP006 - the SDK spells it typing.List
        if not isinstance(value, list):
            return [f"{_where(path)}: expected a list, got {type(value).__name__}"]
        (item,) = typing.get_args(annotation) or (Any,)
        return [e for i, v in enumerate(value) for e in body_errors(v, item, f"{path}[{i}]")]
    if origin in (dict, typing.Dict):  # noqa: UP006
        if not isinstance(value, dict):
            return [f"{_where(path)}: expected an object, got {type(value).__name__}"]
        args = typing.get_args(annotation)
        item = args[1] if len(args) == 2 else Any
        return [e for k, v in value.items() for e in body_errors(v, item, f"{path}.{k}" if path else str(k))]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _model_errors(value, annotation, path)
    try:
        _adapter(annotation).validate_python(value)
    except ValidationError as err:
        return [f"{_where(path)}: {e['msg']}" for e in err.errors()]
    return []


def _best(candidates: list[list[str]]) -> list[str]:
    if any(not c for c in candidates):
        return []
    return min(candidates, key=len) if candidates else []


def _model_errors(value: Any, cls: type[BaseModel], path: str) -> list[str]:
    if is_wrapper(cls):
        found = [body_errors(value, alt, path) for alt in alternatives(cls)]
        best = _best(found)
        return [f"{e} (no alternative of {cls.__name__} fits)" for e in best] if best else []
    if not isinstance(value, dict):
        return [f"{_where(path)}: expected a {cls.__name__} object, got {type(value).__name__}"]
    fields = declared(cls)
    errors = [
        f"{path + '.' if path else ''}{key}: undeclared key (not in {cls.__name__})"
        for key in value
        if key not in fields
    ]
    for key, field in fields.items():
        if key in value:
            errors += body_errors(value[key], field.annotation, f"{path}.{key}" if path else key)
    if errors:
        return errors
    try:
        # Types, required fields and the SDK's own enum validators. Wrapper-typed fields
        # validate loosely here (all their slots are optional): the walk above held them.
        cls.model_validate({k: v for k, v in value.items() if k in fields})
    except ValidationError as err:
        for e in err.errors():
            where = ".".join(str(p) for p in e["loc"])
            errors.append(f"{path + '.' if path else ''}{where}: {e['msg']} ({cls.__name__})")
    return errors


# ---- response reads -------------------------------------------------------------------

# Free-form objects whose keys belong to the user: a document's own fields (the
# documents a retriever returns, the enriched documents of a taxonomy execute) and
# `metadata` (mixops' own markers live there). Reading any key below them is reading
# the user's data, not the API's contract.
USER_DATA = frozenset(
    {
        "ExecuteRetrieverResponse.documents",
        "ExecutionDetail.documents",
        "AdhocExecuteResponse002.documents",
        "JoinResponse.results",
    }
)


def read_verdict(annotation: Any, dotted: str) -> str | None:
    """How a read path below `annotation` is documented: "model", "prose" (a free-form
    object whose description names the key), "user data", or None (undocumented)."""
    return _verdict(annotation, [p for p in dotted.split(".") if p], None)


def _free_form(annotation: Any) -> bool:
    annotation = _strip(annotation)
    if annotation is Any or annotation is object:
        return True
    origin = typing.get_origin(annotation)
    if _is_union(origin):
        return any(_free_form(o) for o in typing.get_args(annotation) if o is not type(None))
    if origin in (dict, typing.Dict):  # noqa: UP006
        args = typing.get_args(annotation)
        return len(args) < 2 or _strip(args[1]) in (Any, object)
    return False


def _verdict(annotation: Any, parts: list[str], owner: tuple[str, FieldInfo] | None) -> str | None:
    annotation = _strip(annotation)
    if not parts:
        return "model"
    origin = typing.get_origin(annotation)
    if _is_union(origin):
        found = [_verdict(o, parts, owner) for o in typing.get_args(annotation) if o is not type(None)]
        return next((v for v in ("model", "prose", "user data") if v in found), None)
    head, rest = parts[0], parts[1:]
    if origin in (list, typing.List):  # noqa: UP006
        (item,) = typing.get_args(annotation) or (Any,)
        return _verdict(item, rest, owner) if head == "[]" else None
    if _free_form(annotation):
        if owner is None:
            return None
        where, field = owner
        if where in USER_DATA or where.endswith(".metadata"):
            return "user data"
        described = re.search(rf"\b{re.escape(head)}\b", field.description or "")
        return "prose" if described else None
    if origin in (dict, typing.Dict):  # noqa: UP006
        args = typing.get_args(annotation)
        return _verdict(args[1], rest, owner) if head == "*" else None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if is_wrapper(annotation):
            found = [_verdict(alt, parts, owner) for alt in alternatives(annotation)]
            return next((v for v in ("model", "prose", "user data") if v in found), None)
        field = declared(annotation).get(head)
        if field is None:
            return None
        return _verdict(field.annotation, rest, (f"{annotation.__name__}.{head}", field))
    return None  # a scalar: nothing below it is documented
