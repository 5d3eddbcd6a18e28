"""What every route needs: the app's state, the request's namespace, extra-key policy."""

from __future__ import annotations

import functools
import inspect
import random
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Annotated, Any, ParamSpec, TypeVar, get_type_hints

from fastapi import Depends, Header, Request, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from mixops.local.api.contract import KeyProblem, check_body, dotted, route_model
from mixops.local.db import ON_LOOP, ROOT, Database, LoopAttempt, Row, WouldWait
from mixops.local.engine.embedder import Embedder
from mixops.local.problems import ApiProblem, bad_request
from mixops.local.sqlite_store import ReadCache, SqliteStore


@dataclass
class Settings:
    api_keys: frozenset[str] | None = None  # None: any non-empty bearer key is accepted
    fault_rate: float = 0.0
    fault_seed: int | None = None
    # True: undeclared body keys at any depth are refused (the API since 2026-11-02);
    # False (`mixops serve --lenient`): they are ignored and named in `warnings`.
    strict_extra_keys: bool = True
    max_body_bytes: int = 10 * 1024 * 1024
    # False: answer /v1/taxonomies/{id}/versions (GET and POST) 404 as an unknown route, as an
    # API without taxonomy versions would (the SDK says versioning is "not implemented").
    # `mixops serve --without-taxonomy-versions`, or MIXOPS_LOCAL_TAXONOMY_VERSIONS=off.
    taxonomy_versions: bool = True


@dataclass
class LocalState:
    db: Database
    embedder: Embedder
    settings: Settings
    cache: ReadCache = field(default_factory=ReadCache)
    rng: random.Random = field(default_factory=random.Random)
    threads: list[threading.Thread] = field(default_factory=list)
    # (namespace id, collection name) -> the seed's documents for it (local/seed.py): loaded
    # when a collection of that name is created or renamed to it (`mixops apply`).
    seed_documents: dict[tuple[str, str], Any] = field(default_factory=dict)

    def store(self, namespace_id: str) -> SqliteStore:
        return SqliteStore(self.db, namespace_id, self.embedder, self.cache)

    def close(self) -> None:
        """Wait for background jobs, then close the database's connections."""
        for thread in list(self.threads):
            thread.join(timeout=30)
        self.db.close()


P = ParamSpec("P")
T = TypeVar("T")


def loop_first(handler: Callable[P, T]) -> Callable[P, Awaitable[T]]:
    """Run a single-resource route on the event loop, or in the thread pool if it would wait.

    FastAPI runs a plain `def` route in its thread pool; for a route whose work is one
    or two indexed SQLite statements, the hop there and back costs more than the work
    (measured: 1,000 retriever creates at 16 in flight, 3.4 s -> 2.8 s on the loop).
    But the loop must never wait for another writer's lock (a bulk document load in the
    pool, another process on the same file, and with the in-process transport the CLI's
    own loop): the first write then raises `WouldWait` before writing anything, and the
    route starts over in the pool, where waiting is fine. Routes whose work grows with
    the data (lists, executions, clustering, documents) stay plain `def` routes.
    """
    hints = get_type_hints(handler, include_extras=True)
    signature = inspect.signature(handler)
    # Annotations resolved here, in the handler's module: FastAPI need not evaluate them.
    signature = signature.replace(
        parameters=[p.replace(annotation=hints.get(p.name, p.annotation)) for p in signature.parameters.values()],
        return_annotation=hints.get("return", signature.return_annotation),
    )

    @functools.wraps(handler)
    async def route(*args: P.args, **kwargs: P.kwargs) -> T:
        token = ON_LOOP.set(LoopAttempt())
        try:
            return handler(*args, **kwargs)
        except WouldWait:
            pass
        finally:
            ON_LOOP.reset(token)
        return await run_in_threadpool(handler, *args, **kwargs)

    route.__signature__ = signature  # type: ignore[attr-defined]
    return route


async def get_state(request: Request) -> LocalState:
    # async: pure, so FastAPI need not hop to its thread pool for it (it would for a plain def)
    state: LocalState = request.app.state.local
    return state


State = Annotated[LocalState, Depends(get_state)]


def resolve_namespace(db: Database, identifier: str) -> Row | None:
    return db.get(ROOT, "namespace", identifier)


# The namespace a list is read from when X-Namespace does not resolve: no namespace can have
# this id (ids are `ns_...`; a NUL is refused in every name), so the listing is empty.
UNRESOLVED = "\x00unresolved"
UNRESOLVED_HEADER = "X-Namespace-Unresolved"


def is_list_route(request: Request) -> bool:
    """POST /v1/{kinds}/list and its GET /v1/{kinds} alias (and the nested lists)."""
    route = request.scope.get("route")
    return getattr(route, "path", "").endswith("/list") or getattr(route, "name", "") == "list_get"


async def namespace_id(
    request: Request,
    response: Response,
    state: State,
    x_namespace: Annotated[
        str | None,
        Header(alias="X-Namespace", description="Namespace id (ns_...) or name", max_length=200),
    ] = None,
) -> str:
    """The id of the namespace X-Namespace names.

    One that does not resolve is answered as the API answers it (mixpeek-api.md 1.1): a list
    is 200 and empty, with the `X-Namespace-Unresolved` header and, where the list documents
    `warnings`, an entry `{resource: namespace, reason: unresolved}` (see `unresolved_warning`);
    the empty list does not mean the namespace is empty. Any other route has nothing to act
    on: 404 with the same header (the API documents no body for that case; this one names it).
    """
    if not x_namespace:
        raise bad_request("X-Namespace header is required (a namespace id or name)", code="namespace_required")
    # On the event loop, not FastAPI's thread pool: one indexed read (WAL readers never wait
    # for writers) costs less than the hop to a worker thread and back, on every request.
    row = resolve_namespace(state.db, x_namespace)
    if row is not None:
        return row.id
    if is_list_route(request):
        response.headers[UNRESOLVED_HEADER] = x_namespace
        request.state.unresolved_namespace = x_namespace
        return UNRESOLVED
    raise ApiProblem(
        404,
        f"Namespace '{x_namespace}' did not resolve for this API key; create it with POST /v1/namespaces",
        "not_found",
        "namespace_unresolved",
        {"namespace": x_namespace},
        headers={UNRESOLVED_HEADER: x_namespace},
    )


def unresolved_warning(request: Request) -> list[dict[str, Any]]:
    """The DegradedEntry a list's `warnings` carries when X-Namespace did not resolve."""
    identifier = getattr(request.state, "unresolved_namespace", None)
    if identifier is None:
        return []
    return [
        {
            "resource": "namespace",
            "id": identifier,
            "reason": "unresolved",
            "next_step": "check X-Namespace (a namespace id or name this API key can see), or create the namespace",
        }
    ]


Namespace = Annotated[str, Depends(namespace_id)]


# The undeclared keys of this request's body, at any depth, when the route's body is
# held to an SDK model (None otherwise). Set by `enforce_contract` for every request,
# before the handler runs, so a value never outlives its request.
_UNDECLARED: ContextVar[list[KeyProblem] | None] = ContextVar("mixops_undeclared_keys", default=None)


async def enforce_contract(request: Request, state: State) -> None:
    """Hold the body to the SDK's request model of the route (``contract.py``).

    A missing required key is a 422 in every mode; an undeclared key is a 422
    ``extra_forbidden`` in strict mode, else a warning (see ``check_extra``).
    """
    _UNDECLARED.set(None)
    if await request.body():
        try:
            parsed = await request.json()
        except ValueError:
            parsed = None  # FastAPI answers invalid JSON itself
        where = _lone_surrogate(parsed, ())
        if where is not None:
            raise bad_request(
                f"{dotted(where) or 'the body'}: a string holds a lone UTF-16 surrogate (not a Unicode "
                "character); send text as valid UTF-8",
                code="invalid_unicode",
                loc=["body", *where],
            )
    route = request.scope.get("route")
    template = getattr(route, "path", "")
    # Routers are included under /v1; some FastAPI versions keep the route's own path.
    template = template if template.startswith("/v1/") else "/v1" + template
    model = route_model(request.method, template)
    if model is None or not await request.body():
        return
    try:
        body = await request.json()
    except ValueError:
        return  # FastAPI answers invalid JSON itself
    problems = check_body(model, body)
    extra = [p for p in problems if p.kind == "extra"]
    missing = [p for p in problems if p.kind == "missing"]
    if missing or (extra and state.settings.strict_extra_keys):
        raise key_problems(missing + extra if state.settings.strict_extra_keys else missing)
    _UNDECLARED.set(extra)


def _lone_surrogate(value: Any, loc: tuple[str | int, ...]) -> tuple[str | int, ...] | None:
    """Where a string (key or value) holds a lone surrogate: JSON's \\udfff escapes decode to
    one, and nothing can store or send it as UTF-8."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return loc
        return None
    if isinstance(value, list):
        for i, item in enumerate(value):
            found = _lone_surrogate(item, (*loc, i))
            if found is not None:
                return found
    elif isinstance(value, dict):
        for key, item in value.items():
            found = _lone_surrogate(key, (*loc, "<key>")) or _lone_surrogate(item, (*loc, key))
            if found is not None:
                return found
    return None


def key_problems(problems: list[KeyProblem]) -> ApiProblem:
    """422 naming each undeclared (``extra_forbidden``) or missing key and what is accepted there."""
    extra = [p for p in problems if p.kind == "extra"]
    missing = [p for p in problems if p.kind == "missing"]
    parts = []
    if extra:
        parts.append("Unknown field(s): " + ", ".join(p.path for p in extra))
        for loc in dict.fromkeys(p.loc for p in extra):
            accepted = next(p.accepted for p in extra if p.loc == loc)
            parts.append(f"Accepted fields{' in ' + dotted(loc) if loc else ''}: {', '.join(accepted)}")
    if missing:
        parts.append("Missing required field(s): " + ", ".join(p.path for p in missing))
    kind = "extra_forbidden" if extra else "validation_error"
    first = (extra or missing)[0]
    return ApiProblem(
        422,
        ". ".join(parts),
        kind,
        "extra_forbidden" if extra else "missing_field",
        {
            "validation_errors": [p.error() for p in problems],
            "accepted_fields": list(first.accepted),
            "accepted_fields_by_location": {dotted(p.loc) or "body": list(p.accepted) for p in problems},
        },
    )


def check_extra(
    state: LocalState, model: BaseModel, allowed_note: str = "", *, strict: bool | None = None
) -> list[str]:
    """Warnings naming undeclared body keys, or a 422 ``extra_forbidden`` in strict mode.

    For a route held to an SDK model the keys were already checked at every depth
    (``enforce_contract``); otherwise only ``model``'s top level is checked.
    """
    undeclared = _UNDECLARED.get()
    if undeclared is None:
        undeclared = list(_model_extras(model, ()))
    if undeclared and (state.settings.strict_extra_keys if strict is None else strict):
        raise key_problems(undeclared)
    return [f"Unknown field '{p.path}' was ignored{allowed_note}" for p in undeclared]


def _model_extras(value: Any, loc: tuple[str | int, ...]) -> Iterator[KeyProblem]:
    """Undeclared keys of a parsed route model and of every model nested in it."""
    if isinstance(value, BaseModel):
        accepted = tuple(type(value).model_fields)
        for key in value.model_extra or {}:
            yield KeyProblem(loc, key, "extra", accepted)
        for name in type(value).model_fields:
            yield from _model_extras(getattr(value, name), (*loc, name))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _model_extras(item, (*loc, i))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _model_extras(item, (*loc, key))


def declared(body: BaseModel) -> dict[str, Any]:
    """The declared fields a body set (not None): undeclared keys are only named in warnings."""
    return body.model_dump(exclude_none=True, exclude=set(body.model_extra or {}))


def read_body(state: LocalState, body: BaseModel | None) -> tuple[dict[str, Any], list[str]]:
    """A body's declared fields (``{}`` when an optional body was not sent) and the warnings naming its undeclared keys."""
    if body is None:
        return {}, []
    return declared(body), check_extra(state, body)


def sent_keys(body: BaseModel, empty_hint: str) -> set[str]:
    """Every key a PATCH body sent, declared or not; a 400 ``empty_update`` when it sent none."""
    sent = set(body.model_fields_set) | set(body.model_extra or {})
    if not sent:
        raise bad_request(f"Empty update: {empty_hint}", code="empty_update")
    return sent


def with_warnings(payload: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    if warnings:
        payload = {**payload, "warnings": [*payload.get("warnings", []), *warnings]}
    return payload
