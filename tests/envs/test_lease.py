"""Two applies against one namespace: serialised by the stack's lease, nothing duplicated."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from tests.envs.conftest import Server, make_project

from mixops.core.plan import PlanOptions
from mixops.local.inprocess import local_transport
from mixops.ports.lease import Lease, LeaseTimeoutError, lock_name
from mixops.ports.live_reader import read_live
from mixops.ports.project import load_project
from mixops.ports.reconcile import plan_and_apply
from mixops.ports.target import connect

NS = "cat-lock"


async def test_concurrent_applies_are_serialised(tmp_path: Path, server: Server) -> None:
    project = load_project(make_project(tmp_path, server, {"live": {"namespace": NS}}), local_backend=local_transport)
    results = await asyncio.gather(
        plan_and_apply(project, "live", PlanOptions(), apply=True, lock_timeout=60),
        plan_and_apply(project, "live", PlanOptions(), apply=True, lock_timeout=60),
    )
    reports = [report for _, report in results]
    # One apply created everything; the other waited, then planned on its result: no changes.
    assert sorted(r is None for r in reports) == [False, True]
    first = next(r for r in reports if r is not None)
    assert len(first.results) == 9 and not first.failed
    async with connect(project, "live") as client:
        live = await read_live(client, NS)
        collections = [c["collection_name"] for c in await client.list_collections()]
    assert len(live.resources) == 9  # no duplicates, no temporaries left behind
    assert lock_name("catalog") not in collections  # released
    assert lock_name("catalog") not in live.collections  # and never shown as a user collection
    again, _ = await plan_and_apply(project, "live", PlanOptions())
    assert not again.plan.has_changes


async def test_held_lease_fails_clearly_naming_the_holder(tmp_path: Path, server: Server) -> None:
    project = load_project(make_project(tmp_path, server, {"live": {"namespace": NS}}), local_backend=local_transport)
    async with connect(project, "live") as client:
        held = Lease(client, "catalog", holder="ci-run-41 on runner-7")
        async with held.hold():
            with pytest.raises(LeaseTimeoutError, match="ci-run-41 on runner-7") as err:
                await plan_and_apply(project, "live", PlanOptions(), apply=True, lock_timeout=0.3)
            assert "expiring" in str(err.value) and "--lock-timeout" in str(err.value)
        # Released: the next apply goes through at once.
        await plan_and_apply(project, "live", PlanOptions(), apply=True, lock_timeout=0)


async def test_expired_lease_of_a_crashed_apply_is_taken_over(tmp_path: Path, server: Server) -> None:
    project = load_project(make_project(tmp_path, server, {"live": {"namespace": NS}}), local_backend=local_transport)
    async with connect(project, "live") as client:
        crashed = Lease(client, "catalog", holder="crashed", ttl=60)
        await crashed.acquire()  # never released, never renewed

        later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
        successor = Lease(client, "catalog", holder="successor", clock=lambda: later)
        await successor.acquire(timeout=0)
        assert successor.lease_id != crashed.lease_id
        current = await client.request("GET", f"/v1/collections/{lock_name('catalog')}")
        assert current["metadata"]["mixops_lease"]["holder"] == "successor"

        # The crashed holder, coming back, finds its lease gone and must not delete the new one.
        await crashed.release()
        still = await client.request("GET", f"/v1/collections/{lock_name('catalog')}")
        assert still["collection_id"] == successor.lease_id
        await successor.release()
