"""The local backend in-process: an httpx transport mounting the app, no server.

    transport = local_transport(".mixops/local.db", "catalog-dev")
    async with httpx.AsyncClient(transport=transport, base_url="http://mixpeek.local") as client:
        ...
    # closing the client closes the transport, which closes the database

The namespace is created if missing (on the real API it must exist; for ``target:
local`` that would only be ceremony).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import httpx

from mixops.local.api.deps import LocalState
from mixops.local.api.namespaces import ensure_namespace
from mixops.local.app import create_app

DEFAULT_API_KEY = "sk_local"


class LocalTransport(httpx.ASGITransport):
    """``httpx.ASGITransport`` over the local app; ``aclose`` also closes the database."""

    def __init__(self, state: LocalState, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.state = state

    async def aclose(self) -> None:
        await super().aclose()
        self.state.close()


def local_transport(
    db_path: str | Path,
    namespace: str,
    seed_files: Sequence[str | Path] = (),
    api_key: str = DEFAULT_API_KEY,
    *,
    strict_extra_keys: bool = True,
) -> LocalTransport:
    """A transport to the local backend on ``db_path`` with ``namespace`` ensured.

    Requests still need ``Authorization: Bearer <api_key>`` and ``X-Namespace``; only
    ``api_key`` is accepted.
    """
    app = create_app(
        db_path,
        api_keys=[api_key],
        seed_files=seed_files,
        seed_namespace=namespace,
        strict_extra_keys=strict_extra_keys,
    )
    state: LocalState = app.state.local
    ensure_namespace(state.db, namespace)
    # raise_app_exceptions=False: a backend bug reaches the client as a 500 envelope.
    return LocalTransport(state, app=app, raise_app_exceptions=False)
