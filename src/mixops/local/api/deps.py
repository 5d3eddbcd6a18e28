"""What every route needs: the app's state, the request's namespace, extra-key policy."""

from __future__ import annotations

import functools
import inspect
import random
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, ParamSpec, TypeVar, get_type_hints

from fastapi import Depends, Header, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from mixops.local.db import ON_LOOP, ROOT, Database, LoopAttempt, Row, WouldWait
from mixops.local.engine.embedder import Embedder
from mixops.local.problems import ApiProblem, bad_request
from mixops.local.sqlite_store import ReadCache, SqliteStore


@dataclass
class Settings:
    api_keys: frozenset[str] | None = None  # None: any non-empty bearer key is accepted
    fault_rate: float = 0.0
    fault_seed: int | None = None
    strict_extra_keys: bool = False
    max_body_bytes: int = 10 * 1024 * 1024


@dataclass
class LocalState:
    db: Database
    embedder: Embedder
    settings: Settings
    cache: ReadCache = field(default_factory=ReadCache)
    rng: random.Random = field(default_factory=random.Random)
    threads: list[threading.Thread] = field(default_factory=list)

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


async def namespace_id(
    state: State,
    x_namespace: Annotated[
        str | None,
        Header(alias="X-Namespace", description="Namespace id (ns_...) or name", max_length=200),
    ] = None,
) -> str:
    if not x_namespace:
        raise bad_request("X-Namespace header is required (a namespace id or name)", code="namespace_required")
    # On the event loop, not FastAPI's thread pool: one indexed read (WAL readers never wait
    # for writers) costs less than the hop to a worker thread and back, on every request.
    row = resolve_namespace(state.db, x_namespace)
    if row is None:
        raise ApiProblem(
            404,
            f"Namespace '{x_namespace}' not found; create it with POST /v1/namespaces",
            "not_found",
            "namespace_not_found",
            {"namespace": x_namespace},
        )
    return row.id


Namespace = Annotated[str, Depends(namespace_id)]


def check_extra(
    state: LocalState, model: BaseModel, allowed_note: str = "", *, strict: bool | None = None
) -> list[str]:
    """Warnings naming undeclared body keys, or a 422 ``extra_forbidden`` in strict mode."""
    extra = sorted((model.model_extra or {}).keys())
    if not extra:
        return []
    if state.settings.strict_extra_keys if strict is None else strict:
        accepted = sorted(type(model).model_fields)
        raise ApiProblem(
            422,
            f"Unknown field(s): {', '.join(extra)}. Accepted fields: {', '.join(accepted)}",
            "extra_forbidden",
            "extra_forbidden",
            {
                "validation_errors": [
                    {"loc": ["body", key], "msg": "Extra inputs are not permitted", "type": "extra_forbidden"}
                    for key in extra
                ],
                "accepted_fields": accepted,
            },
        )
    return [f"Unknown field '{key}' was ignored{allowed_note}" for key in extra]


def declared(body: BaseModel) -> dict[str, Any]:
    """The declared fields a body set (not None): undeclared keys are only named in warnings."""
    return body.model_dump(exclude_none=True, exclude=set(body.model_extra or {}))


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
