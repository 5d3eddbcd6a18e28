"""Connect to an environment's target: a Mixpeek API, or the embedded local backend.

The same `MixpeekClient` serves both; for `target: local` the local backend's
ASGI app is mounted in-process through an httpx transport (no server). The ports
never import the local backend (an import-linter contract): the shell passes a
`LocalBackend` to `load_project`, and `connect` calls it.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from mixops.core.models.project import Environment
from mixops.errors import ProjectError, SeedError
from mixops.ports.client import DEFAULT_DEADLINE, MixpeekClient
from mixops.ports.project import LocalBackend, Project
from mixops.ports.userpaths import shell_word

LOCAL_URL = "http://mixops.local"
LOCAL_KEY = "sk_mixops_local"
DEFAULT_LOCAL_DB = ".mixops/local.db"


@dataclass(frozen=True)
class TargetInfo:
    environment: str
    kind: str  # local | api
    namespace: str
    url: str

    @property
    def label(self) -> str:
        return "embedded local backend" if self.kind == "local" else self.url


def describe(project: Project, env_name: str) -> TargetInfo:
    env = project.config.environments[env_name]
    namespace = env.namespace or f"{project.config.stack}-{env_name}"
    url = LOCAL_URL if env.kind == "local" else str(env.api_url)
    return TargetInfo(env_name, env.kind, namespace, url)


@dataclass(frozen=True)
class LocalPaths:
    """Where a `target: local` environment lives: its database file, namespace and seed files."""

    db: Path
    namespace: str
    seeds: list[Path]


def local_paths(project: Project, env_name: str) -> LocalPaths | None:
    """The local backend's paths of the environment; None when it is not `target: local`."""
    env = project.config.environments[env_name]
    if env.kind != "local":
        return None
    return LocalPaths(
        project.root / (env.db or DEFAULT_LOCAL_DB),
        describe(project, env_name).namespace,
        [project.root / s for s in env.seed],
    )


DEADLINE_VAR = "MIXOPS_REQUEST_DEADLINE"


def request_deadline(env: Environment, env_vars: Mapping[str, str]) -> float:
    """Seconds one API call may take, retries included: $MIXOPS_REQUEST_DEADLINE, else the
    environment's `request_deadline`, else the client's default."""
    raw = env_vars.get(DEADLINE_VAR, "").strip()
    if raw:
        try:
            value = float(raw)
        except ValueError:
            value = 0.0
        if not 0 < value < float("inf"):
            raise ProjectError(f"{DEADLINE_VAR}={raw!r} is not a number of seconds above 0 (e.g. 90)")
        return value
    return env.request_deadline or DEFAULT_DEADLINE


def _api_key(project: Project, env_name: str, env_vars: Mapping[str, str]) -> str:
    env = project.config.environments[env_name]
    assert env.api_key_env is not None
    key = env_vars.get(env.api_key_env)
    if not key:
        # Suggest only an environment this project has (`--env NAME`), never a made-up one.
        local = [name for name, e in project.config.environments.items() if e.kind == "local"]
        alternative = f", or try it locally first with --env {local[0]}" if local else ""
        raise ProjectError(
            f"environment {env_name!r} reads its API key from ${env.api_key_env}, which is not set "
            f"(export {env.api_key_env}=sk_...{alternative})"
        )
    return key


@asynccontextmanager
async def connect(
    project: Project,
    env_name: str,
    *,
    parallelism: int = 8,
    env_vars: Mapping[str, str] | None = None,
    secrets: Iterable[str] = (),
    create_namespace: bool = True,
) -> AsyncIterator[MixpeekClient]:
    """A client for the environment; `secrets` (a stack's `${{ env.X }}` values) are redacted from its errors.

    With `create_namespace: true` on an API environment the namespace is created if it does
    not exist (pass `create_namespace=False` for read-only work such as doctor). Otherwise a
    missing namespace surfaces at the first listing as a `namespace_unresolved` error.
    """
    env = project.config.environments[env_name]
    info = describe(project, env_name)
    variables = os.environ if env_vars is None else env_vars
    deadline = request_deadline(env, variables)
    if env.kind == "local":
        backend: LocalBackend | None = project.local_backend
        if backend is None:
            raise ProjectError(
                f"environment {env_name!r} uses the embedded local backend, and none was given "
                "(pass local_backend= to load_project)"
            )
        paths = local_paths(project, env_name)
        assert paths is not None
        paths.db.parent.mkdir(parents=True, exist_ok=True)
        for seed in paths.seeds:
            if not seed.is_file():
                raise ProjectError(f"seed file {Path(seed).as_posix()} of environment {env_name!r} does not exist")
        try:
            transport = backend(paths.db, info.namespace, seed_files=paths.seeds, api_key=LOCAL_KEY)
        except SeedError as err:
            # The backend cannot know how the user called mixops nor the environment's name;
            # the commands it names need both.
            message = str(err).replace("`mixops local reset`", f"`mixops local reset --env {shell_word(env_name)}`")
            message = message.replace("`mixops ", f"`{project.invocation} ")
            raise SeedError(message, needs_reset=err.needs_reset) from None
        client = MixpeekClient(
            LOCAL_URL,
            api_key=LOCAL_KEY,
            namespace=info.namespace,
            transport=transport,
            parallelism=parallelism,
            secrets=secrets,
            deadline=deadline,
        )
    else:
        client = MixpeekClient(
            info.url,
            api_key=_api_key(project, env_name, variables),
            namespace=info.namespace,
            parallelism=parallelism,
            secrets=secrets,
            deadline=deadline,
        )
    async with client:
        if env.kind == "api" and env.create_namespace and create_namespace:
            await client.ensure_namespace(info.namespace)
        yield client
