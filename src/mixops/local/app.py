"""The local Mixpeek backend: a FastAPI app on one SQLite file.

``create_app(db_path)`` builds it. Every ``/v1`` request needs ``Authorization: Bearer
<key>``; with ``api_keys=None`` ANY non-empty key is accepted (a local tool, not a
security boundary), otherwise only the listed keys. Every error, including request
validation, unknown routes, bad JSON and oversized bodies, is answered in Mixpeek's
error envelope (``problems.py``); a 500 envelope means a bug in the backend.

``fault_rate`` makes that share of ``/v1`` requests fail or slow down on purpose
(429 with ``Retry-After``, 503, or a 200-500 ms delay), decided before any work is
done, so a client that retries is always safe. ``fault_seed`` makes it repeatable.

Close the database with ``app.state.local.close()`` (the lifespan does it when the app
runs under a server; in-process users call it themselves).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mixops.errors import STATUS_TYPES
from mixops.local.api import (
    apply_taxonomy,
    clusters,
    collections,
    extractors,
    namespaces,
    retrievers,
    tasks,
    taxonomies,
)
from mixops.local.api.deps import LocalState, Settings, enforce_contract
from mixops.local.db import Database
from mixops.local.engine.embedder import Embedder, HashingEmbedder
from mixops.local.engine.errors import EngineError
from mixops.local.problems import ApiProblem, envelope

log = logging.getLogger("mixops.local")


VERSIONS_ENV = "MIXOPS_LOCAL_TAXONOMY_VERSIONS"

# Headers that must come once: with two, which one counts would be a guess.
SINGLE_HEADERS = frozenset({"authorization", "x-namespace"})

# Routes the API serves without a key (the SDK sends none to them).
PUBLIC_PATHS = frozenset({"/v1/collections/features", "/v1/collections/features/extractors", "/v1/retrievers/stages"})


class BodyTooLarge(StarletteHTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"Request body exceeds {limit} bytes")


def _json_response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers)


async def _send_json(send: Send, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
    raw = json.dumps(body).encode()
    hdrs = [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())]
    hdrs += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": hdrs})
    await send({"type": "http.response.body", "body": raw})


class GuardMiddleware:
    """Fault injection, bearer auth and the body-size limit, before any route runs;
    plus the last-resort 500 envelope for exceptions nothing else handled."""

    def __init__(self, app: ASGIApp, state: LocalState) -> None:
        self.app = app
        self.state = state

    # Over 80 lines on purpose: one ASGI pass whose checks must run in this order before any route
    # (repeated headers, injected faults, auth, then the body-size limit while the body streams in);
    # each check ends the request itself, so split-out parts would each need scope, receive and send.
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        settings = self.state.settings
        path: str = scope.get("path", "")
        raw_names = [k.decode("latin-1").lower() for k, _ in scope.get("headers", [])]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        if path.startswith("/v1"):
            repeated = sorted({n for n in raw_names if n in SINGLE_HEADERS and raw_names.count(n) > 1})
            if repeated:
                # A dict keeps the last copy: the key or namespace a proxy appended would win.
                await _send_json(
                    send,
                    400,
                    envelope(
                        400,
                        f"Header(s) sent more than once: {', '.join(repeated)}; send each once",
                        "bad_request",
                        "duplicate_header",
                        {"headers": repeated},
                    ),
                )
                return
            if settings.fault_rate > 0 and self.state.rng.random() < settings.fault_rate:
                kind = self.state.rng.choice(("429", "503", "slow"))
                if kind == "429":
                    await _send_json(
                        send,
                        429,
                        envelope(
                            429,
                            "Rate limit exceeded (injected fault); retry after 1 second",
                            "rate_limited",
                            "fault_injected",
                        ),
                        {"Retry-After": "1"},
                    )
                    return
                if kind == "503":
                    await _send_json(
                        send,
                        503,
                        envelope(
                            503, "Service unavailable (injected fault); retry", "service_unavailable", "fault_injected"
                        ),
                    )
                    return
                await asyncio.sleep(self.state.rng.uniform(0.2, 0.5))
            problem = None if path in PUBLIC_PATHS else self._auth_problem(headers.get("authorization", ""))
            if problem is not None:
                await _send_json(send, 401, problem.envelope(), {"WWW-Authenticate": "Bearer"})
                return
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > settings.max_body_bytes:
            await _send_json(
                send,
                413,
                envelope(
                    413, f"Request body exceeds {settings.max_body_bytes} bytes", "payload_too_large", "body_too_large"
                ),
            )
            return

        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > settings.max_body_bytes:
                    raise BodyTooLarge(settings.max_body_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except Exception:
            log.exception("unhandled error in %s %s", scope.get("method"), path)
            if started:
                raise
            await _send_json(
                send,
                500,
                envelope(
                    500,
                    "Internal error in the local backend (a bug; please report it with the request)",
                    "internal_error",
                ),
            )

    def _auth_problem(self, header: str) -> ApiProblem | None:
        scheme, _, key = header.partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key:
            return ApiProblem(
                401, "Missing API key: send 'Authorization: Bearer <api_key>'", "unauthorized", "missing_api_key"
            )
        keys = self.state.settings.api_keys
        if keys is not None and key not in keys:
            return ApiProblem(401, "Invalid API key", "unauthorized", "invalid_api_key")
        return None


def _install_error_handlers(app: FastAPI) -> None:
    async def on_problem(_req: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiProblem)
        return _json_response(exc.status, exc.envelope(), exc.headers or None)

    async def on_validation(_req: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
            for e in exc.errors()
        ]
        if any(e["type"] == "json_invalid" for e in errors):
            return _json_response(
                400,
                envelope(
                    400, "Request body is not valid JSON", "bad_request", "invalid_json", {"validation_errors": errors}
                ),
            )
        fields = ", ".join(".".join(e["loc"][1:] or e["loc"]) + f": {e['msg']}" for e in errors[:5])
        return _json_response(
            422,
            envelope(
                422, f"Invalid request: {fields}", "validation_error", "validation_error", {"validation_errors": errors}
            ),
        )

    async def on_http(_req: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        status = exc.status_code
        message = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail)
        return _json_response(
            status, envelope(status, message, STATUS_TYPES.get(status, "error")), dict(exc.headers or {}) or None
        )

    async def on_engine(_req: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, EngineError)
        return _json_response(exc.status, envelope(exc.status, exc.message, exc.error_type, None, exc.details))

    app.add_exception_handler(ApiProblem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(EngineError, on_engine)


def create_app(
    db_path: str | Path,
    api_keys: Iterable[str] | None = None,
    seed_files: Sequence[str | Path] = (),
    fault_rate: float = 0.0,
    strict_extra_keys: bool = True,
    *,
    seed_namespace: str = "default",
    fault_seed: int | None = None,
    embedder: Embedder | None = None,
    max_body_bytes: int = 10 * 1024 * 1024,
    taxonomy_versions: bool | None = None,
) -> FastAPI:
    """Build the app on the SQLite file ``db_path`` (created if missing).

    ``seed_files`` are loaded (idempotently) into ``seed_namespace`` unless a seed file
    names its own namespace. ``taxonomy_versions=False`` serves no taxonomy versions
    routes; None reads ``MIXOPS_LOCAL_TAXONOMY_VERSIONS`` (``off``/``0``/``false``: none),
    so the embedded backend of a command can lack them too.
    """
    if taxonomy_versions is None:
        taxonomy_versions = os.environ.get(VERSIONS_ENV, "on").strip().lower() not in ("off", "0", "false", "no")
    if not 0.0 <= fault_rate <= 1.0:
        raise ValueError("fault_rate must be between 0 and 1")
    settings = Settings(
        api_keys=frozenset(api_keys) if api_keys is not None else None,
        fault_rate=fault_rate,
        fault_seed=fault_seed,
        strict_extra_keys=strict_extra_keys,
        max_body_bytes=max_body_bytes,
        taxonomy_versions=taxonomy_versions,
    )
    state = LocalState(
        db=Database(db_path),
        embedder=embedder or HashingEmbedder(),
        settings=settings,
        rng=random.Random(fault_seed),
    )
    if seed_files:
        from mixops.local.seed import load_seed

        for path in seed_files:
            load_seed(state, path, seed_namespace)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        state.close()

    app = FastAPI(
        title="mixops local Mixpeek backend",
        version="0.1.0",
        description="A Mixpeek-compatible API on SQLite, for offline work and tests.",
        lifespan=lifespan,
        dependencies=[Depends(enforce_contract)],
    )
    app.state.local = state
    _install_error_handlers(app)
    for module in (namespaces, extractors, collections, apply_taxonomy, retrievers, taxonomies, clusters, tasks):
        app.include_router(module.router, prefix="/v1")
    app.add_middleware(GuardMiddleware, state=state)
    return app
