"""Shared helpers of the reconciler suite: a copy of the catalog example, plan/apply
through the library, direct API access to the same namespace, and manifest edits.

The default target is the embedded local backend (in-process, on a SQLite file in
the copy); `loopback_project` points a copy at a `mixops serve`-equivalent uvicorn
server instead.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.support.example import apply_collections_only as apply_collections_only
from tests.support.fixtures import search_stage

from mixops.core.live import TEMP_SUFFIX, LiveState
from mixops.core.plan import Plan, PlanOptions
from mixops.local.inprocess import local_transport
from mixops.ports.apply import ApplyReport
from mixops.ports.client import MixpeekClient
from mixops.ports.live_reader import read_live
from mixops.ports.project import load_project
from mixops.ports.reconcile import plan_and_apply
from mixops.ports.target import connect, describe

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "catalog"
STACK = "catalog"


def copy_example(dest: Path) -> Path:
    shutil.copytree(EXAMPLE, dest, ignore=shutil.ignore_patterns(".mixops", "__pycache__"))
    return dest


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    """A fresh copy of the catalog example; its local namespace starts empty."""
    return copy_example(tmp_path / "catalog")


def options(**kw: Any) -> PlanOptions:
    return PlanOptions(**kw)


async def plan(root: Path, env: str | None = None, **kw: Any) -> Plan:
    project = load_project(root, local_backend=local_transport)
    planned, _ = await plan_and_apply(project, project.env_name(env), options(**kw))
    return planned.plan


async def apply(
    root: Path, env: str | None = None, *, parallelism: int = 8, **kw: Any
) -> tuple[Plan, ApplyReport | None]:
    project = load_project(root, local_backend=local_transport)
    planned, report = await plan_and_apply(
        project, project.env_name(env), options(**kw), apply=True, parallelism=parallelism
    )
    return planned.plan, report


@asynccontextmanager
async def api(root: Path, env: str | None = None) -> AsyncIterator[MixpeekClient]:
    """A client on the project's namespace, for changes made "by hand" through the API."""
    project = load_project(root, local_backend=local_transport)
    async with connect(project, project.env_name(env)) as client:
        yield client


async def live(root: Path, env: str | None = None) -> LiveState:
    project = load_project(root, local_backend=local_transport)
    name = project.env_name(env)
    async with connect(project, name) as client:
        return await read_live(client, describe(project, name).namespace)


async def live_rows(root: Path) -> tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]]]:
    """The namespace's rows per kind, and its collections, exactly as the API lists them."""
    async with api(root) as client:
        rows = {
            "retriever": await client.list_retrievers(),
            "taxonomy": await client.list_taxonomies(),
            "cluster": await client.list_clusters(),
        }
        return rows, await client.list_collections()


def edit(root: Path, file: str, change: Callable[[dict[str, Any]], None]) -> None:
    """Load manifests/<file>, let `change` mutate it, write it back."""
    path = root / "manifests" / file
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def resource(data: dict[str, Any], kind_list: str, name: str) -> dict[str, Any]:
    for item in data[kind_list]:
        if item["name"] == name:
            return item  # type: ignore[no-any-return]
    raise KeyError(name)


def actions(p: Plan) -> dict[tuple[str, str], str]:
    """(kind, name) -> action, changes only."""
    return {s.key: s.action for s in p.changes}


async def assert_converged(root: Path, env: str | None = None, stack: str = STACK) -> LiveState:
    """The namespace equals the manifests: no changes, no temporaries, nothing owned and undeclared.

    Names are the keys of the live state, so a duplicate name would also show
    as a count mismatch between the raw listing and the keyed state.
    """
    p = await plan(root, env, prune=True)
    assert not p.has_changes, [(s.kind, s.name, s.action, s.changes) for s in p.changes]
    state = await live(root, env)
    project = load_project(root, local_backend=local_transport)
    async with api(root, env) as client:
        raw = {
            "retriever": await client.list_retrievers(),
            "taxonomy": await client.list_taxonomies(),
            "cluster": await client.list_clusters(),
            "collection": await client.list_collections(),
        }
    from mixops.ports.project import load_stack

    desired = load_stack(project, project.env_name(env))
    for kind, rows in raw.items():
        name_key = f"{kind}_name"
        names = [r[name_key] for r in rows]
        assert len(names) == len(set(names)), f"duplicate {kind} names: {sorted(names)}"
        assert not [n for n in names if n.endswith(TEMP_SUFFIX)], f"temporaries left: {names}"
        owned = {r[name_key] for r in rows if (r.get("metadata") or {}).get("mixops_stack") == stack}
        assert owned == set(desired.resources(kind)), (kind, owned)  # type: ignore[arg-type]
    return state


def retriever_body(name: str, collection: str = "products", **extra: Any) -> dict[str, Any]:
    """A create body as a user would send it by hand (no mixops ownership unless given)."""
    return {
        "retriever_name": name,
        "collection_identifiers": [collection],
        "input_schema": {"query": {"type": "text", "required": True}},
        "stages": [search_stage(10, 5)],
        **extra,
    }
