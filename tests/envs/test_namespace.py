"""A namespace that does not exist: a clear error before anything else, or created on request."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.envs.conftest import Server, make_project

from mixops.core.plan import PlanOptions
from mixops.errors import ApiError
from mixops.ports.project import load_project
from mixops.ports.reconcile import plan_and_apply
from mixops.ports.target import connect


async def test_a_missing_namespace_fails_the_plan_saying_how_to_fix_it(tmp_path: Path, server: Server) -> None:
    project = load_project(make_project(tmp_path, server, {"live": {"namespace": "cat-nowhere"}}))
    with pytest.raises(ApiError) as err:
        await plan_and_apply(project, "live", PlanOptions())
    assert err.value.info.type == "namespace_unresolved"
    assert "'cat-nowhere' does not exist" in str(err.value) and "create_namespace: true" in str(err.value)


async def test_create_namespace_creates_it_once(tmp_path: Path, server: Server) -> None:
    project = load_project(
        make_project(tmp_path, server, {"live": {"namespace": "cat-created", "create_namespace": True}})
    )
    for _ in range(2):  # the second connection finds it
        async with connect(project, "live") as client:
            found = await client.get_namespace("cat-created")
            assert found["namespace_name"] == "cat-created"
            await client.check_namespace()


async def test_read_only_work_never_creates_it(tmp_path: Path, server: Server) -> None:
    project = load_project(
        make_project(tmp_path, server, {"live": {"namespace": "cat-untouched", "create_namespace": True}})
    )
    async with connect(project, "live", create_namespace=False) as client:
        with pytest.raises(ApiError, match="namespace_unresolved"):
            await client.check_namespace()
