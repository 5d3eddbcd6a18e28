"""The opt-in lease (`lock: lease`): two applies against one namespace run one after the other.

The first tests run against `mixops serve`; the last ones answer the lease's
requests with a scripted transport, to show which error a user sees when the API
refuses or fails the lease.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.envs.conftest import Server, make_project

from mixops.core.plan import PlanOptions
from mixops.ports.client import MixpeekClient
from mixops.ports.lease import Lease, LeaseError, LeaseTimeoutError, lock_name, probe_lease
from mixops.ports.live_reader import read_live
from mixops.ports.project import load_project
from mixops.ports.reconcile import plan_and_apply
from mixops.ports.target import connect

NS = "cat-lock"
LEASED = {"live": {"namespace": NS, "lock": "lease"}}


async def test_concurrent_applies_are_serialised(tmp_path: Path, server: Server) -> None:
    project = load_project(make_project(tmp_path, server, LEASED))
    results = await asyncio.gather(
        plan_and_apply(project, "live", PlanOptions(), apply=True, lock_timeout=60),
        plan_and_apply(project, "live", PlanOptions(), apply=True, lock_timeout=60),
    )
    reports = [report for _, report in results]
    # One apply created everything; the other waited, then planned on its result: no changes.
    assert sorted(r is None for r in reports) == [False, True]
    first = next(r for r in reports if r is not None)
    # The example's 4 collections, 1 application, 5 retrievers, 2 taxonomies and 2 clusters.
    assert len(first.results) == 14 and not first.failed
    async with connect(project, "live") as client:
        live = await read_live(client, NS)
        retrievers = [r["retriever_name"] for r in await client.list_retrievers()]
    owned = Counter(r.kind for r in live.resources.values() if r.owner_stack)
    # no duplicates, no temporaries left behind
    assert owned == {"collection": 4, "application": 1, "retriever": 5, "taxonomy": 2, "cluster": 2}
    assert lock_name("catalog") not in retrievers  # released
    again, _ = await plan_and_apply(project, "live", PlanOptions())
    assert not again.plan.has_changes


async def test_held_lease_fails_clearly_naming_the_holder(tmp_path: Path, server: Server) -> None:
    project = load_project(make_project(tmp_path, server, LEASED))
    async with connect(project, "live") as client:
        held = Lease(client, "catalog", holder="ci-run-41 on runner-7")
        async with held.hold():
            # While held, the lease is never shown as a retriever of the user's.
            assert ("retriever", lock_name("catalog")) not in (await read_live(client, NS)).resources
            probe = await probe_lease(client, "catalog")
            assert probe.usable and probe.holder == "ci-run-41 on runner-7"
            with pytest.raises(LeaseTimeoutError, match="ci-run-41 on runner-7") as err:
                await plan_and_apply(project, "live", PlanOptions(), apply=True, lock_timeout=0.3)
            assert "expiring" in str(err.value) and "--lock-timeout" in str(err.value)
        # Released: the next apply goes through at once.
        await plan_and_apply(project, "live", PlanOptions(), apply=True, lock_timeout=0)


async def test_without_the_opt_in_an_apply_takes_no_lease(tmp_path: Path, server: Server) -> None:
    project = load_project(make_project(tmp_path, server, {"live": {"namespace": NS}}))
    async with connect(project, "live") as client:
        held = Lease(client, "catalog", holder="someone else")
        async with held.hold():
            # `lock: none` (the default) neither waits for nor touches a lease.
            await plan_and_apply(project, "live", PlanOptions(), apply=True, lock_timeout=0)
            assert (await probe_lease(client, "catalog")).holder == "someone else"


async def test_expired_lease_of_a_crashed_apply_is_taken_over(tmp_path: Path, server: Server) -> None:
    project = load_project(make_project(tmp_path, server, LEASED))
    async with connect(project, "live") as client:
        crashed = Lease(client, "catalog", holder="crashed", ttl=60)
        await crashed.acquire()  # never released, never renewed

        later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
        successor = Lease(client, "catalog", holder="successor", clock=lambda: later)
        await successor.acquire(timeout=0)
        assert successor.lease_id != crashed.lease_id
        current = await client.request("GET", f"/v1/retrievers/{lock_name('catalog')}")
        assert current["metadata"]["mixops_lease"]["holder"] == "successor"

        # The crashed holder, coming back, finds its lease gone and must not delete the new one.
        await crashed.release()
        still = await client.request("GET", f"/v1/retrievers/{lock_name('catalog')}")
        assert still["retriever_id"] == successor.lease_id
        await successor.release()


# ---- what the user sees when the API refuses or fails the lease ---------------------------


def _envelope(status: int, type_: str, code: str | None, message: str) -> httpx.Response:
    error: dict[str, Any] = {"type": type_, "message": message, **({"code": code} if code else {})}
    return httpx.Response(status, json={"success": False, "status": status, "error": error})


def _client(create: httpx.Response, current: dict[str, Any] | None) -> MixpeekClient:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return create
        if request.method == "GET" and current is not None:
            return httpx.Response(200, json=current)
        return _envelope(404, "not_found", "retriever_not_found", "no such retriever")

    async def no_sleep(_seconds: float) -> None:
        return None

    return MixpeekClient(
        "http://api.test", api_key="sk_x", namespace="ns", transport=httpx.MockTransport(handler), sleep=no_sleep
    )


async def test_a_503_on_create_is_reported_as_a_503() -> None:
    async with _client(_envelope(503, "service_unavailable", None, "overloaded"), None) as client:
        with pytest.raises(LeaseError) as err:
            await Lease(client, "catalog", poll=0.001).acquire(timeout=0)
    assert "HTTP 503" in str(err.value) and "overloaded" in str(err.value)
    assert "refused as existing" not in str(err.value)


async def test_a_refusal_that_is_no_conflict_names_the_api_s_answer() -> None:
    refused = _envelope(422, "validation_error", "extra_forbidden", "stages: not accepted here")
    async with _client(refused, None) as client:
        with pytest.raises(LeaseError, match="HTTP 422 validation_error/extra_forbidden") as err:
            await Lease(client, "catalog").acquire(timeout=0)
    assert "lock: none" in str(err.value)  # and how to do without the lease


async def test_a_conflict_is_told_by_its_code_not_its_message() -> None:
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=2)).isoformat()
    holder = {"retriever_id": "ret_1", "metadata": {"mixops_lease": {"holder": "run 7", "expires_at": later}}}
    taken = _envelope(400, "bad_request", "retriever_name_taken", "nope")  # no "exist" in the text
    async with _client(taken, holder) as client:
        with pytest.raises(LeaseTimeoutError, match="run 7"):
            await Lease(client, "catalog").acquire(timeout=0)
