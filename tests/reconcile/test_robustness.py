"""Apply under odd failures: bugs in a step, writes that fail, leases that go away.

Each test drives the library (or the CLI) against the embedded backend and
checks what a user would see: the report of what was and was not done, a clean
error message, and a namespace left in a state the next apply converges from.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from tests.reconcile.conftest import api, apply, assert_converged, edit, live, live_rows, resource

from mixops.core.outcomes import Status
from mixops.errors import ApiError, ApiErrorInfo, ApplyError, MixopsError
from mixops.ports.client import MixpeekClient


def _describe(*names: str) -> Any:
    def change(data: dict[str, Any]) -> None:
        for name in names:
            resource(data, "retrievers", name)["description"] = f"{name} edited"

    return change


async def test_an_unexpected_error_in_a_step_ends_as_a_failed_step_with_the_report(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await apply(project_dir)
    edit(project_dir, "retrievers.yaml", _describe("product_search", "hybrid_product_search", "tag_matcher"))
    edit(
        project_dir,
        "taxonomies.yaml",
        lambda d: resource(d, "taxonomies", "product_tags").update(description="tags, edited"),
    )
    ids = {k: r.id for k, r in (await live(project_dir)).resources.items()}
    original = MixpeekClient.patch_retriever

    async def patch_retriever(self: MixpeekClient, retriever_id: str, body: dict[str, Any]) -> dict[str, Any]:
        if retriever_id == ids[("retriever", "product_search")]:
            await asyncio.sleep(0.05)  # the siblings are in flight by now
            raise KeyError("retriever_id")  # an odd response shape, as a bug would meet it
        return await original(self, retriever_id, body)

    monkeypatch.setattr(MixpeekClient, "patch_retriever", patch_retriever)
    with pytest.raises(ApplyError) as caught:
        await apply(project_dir, parallelism=4)
    report = caught.value.report
    status = {r.step.name: r.status for r in report.results}
    detail = {r.step.name: r.detail for r in report.results}
    assert status["product_search"] == "failed"
    assert "internal error: KeyError" in detail["product_search"]
    # The siblings of the same wave finished; the next wave never started.
    assert status["hybrid_product_search"] == "done" and status["tag_matcher"] == "done"
    assert status["product_tags"] == "not_started"
    assert "product_search" in str(caught.value) and "not started" in str(caught.value)
    monkeypatch.undo()
    _, again = await apply(project_dir)
    assert again is not None and not again.failed


async def test_a_failing_stamp_lets_the_others_finish_and_names_the_failure(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mixops.local.inprocess import local_transport
    from mixops.ports.project import load_project, load_stack
    from mixops.ports.stamps import APPLIED_KEY, stamp_applied

    await apply(project_dir)
    state = await live(project_dir)
    # A new digest: every declared resource needs a new stamp.
    edit(project_dir, "retrievers.yaml", _describe("product_search"))
    project = load_project(project_dir, local_backend=local_transport)
    stack = load_stack(project, "local")
    broken = state.resources[("retriever", "tag_matcher")].id
    original = MixpeekClient.patch_retriever

    async def patch_retriever(self: MixpeekClient, retriever_id: str, body: dict[str, Any]) -> dict[str, Any]:
        if retriever_id == broken:
            raise KeyError("metadata")
        await asyncio.sleep(0.01)  # the others are still in flight when the broken one fails
        return await original(self, retriever_id, body)

    monkeypatch.setattr(MixpeekClient, "patch_retriever", patch_retriever)
    async with api(project_dir) as client:
        with pytest.raises(MixopsError, match=r"failed on 1 of \d+ resources .*tag_matcher.*KeyError"):
            await stamp_applied(client, stack, state.namespace, state)
    after = await live(project_dir)
    stamped = {k[1] for k, r in after.resources.items() if r.metadata.get(APPLIED_KEY) == stack.digest()}
    assert "tag_matcher" not in stamped
    assert {"product_search", "hybrid_product_search", "product_tags", "product_groups"} <= stamped


# --- files the user names: clean errors, never "internal error" ------------------------------


def _cli(project: Path, *args: str) -> Any:
    from click.testing import CliRunner

    from mixops.cli.main import cli

    return CliRunner().invoke(cli, ["-C", str(project), *args])


@pytest.mark.parametrize("option", ["--out", "--out-markdown"])
def test_plan_output_that_cannot_be_written_is_a_clean_error(project_dir: Path, option: str) -> None:
    blocker = project_dir / "not-a-dir"
    blocker.write_text("a file where a directory should be", encoding="utf-8")
    result = _cli(project_dir, "plan", "--no-tests", option, str(blocker / "plan.out"))
    assert result.exit_code == 1, result.output
    assert "internal error" not in result.output
    assert "error: cannot write" in result.output and "not-a-dir/plan.out" in result.output


def test_plan_output_into_a_new_directory_is_written(project_dir: Path) -> None:
    result = _cli(project_dir, "plan", "--no-tests", "--out", str(project_dir / "plans" / "new" / "plan.json"))
    assert result.exit_code == 0, result.output
    assert (project_dir / "plans" / "new" / "plan.json").is_file()


def test_export_into_an_unwritable_place_is_a_clean_error(project_dir: Path) -> None:
    assert _cli(project_dir, "apply", "--auto-approve", "--no-tests").exit_code == 0
    blocker = project_dir / "not-a-dir"
    blocker.write_text("x", encoding="utf-8")
    result = _cli(project_dir, "export", "-o", str(blocker / "manifests"))
    assert result.exit_code == 1, result.output
    assert "internal error" not in result.output
    assert "error: cannot write the manifests to" in result.output and "not-a-dir" in result.output


GOOD_STEP = {"kind": "retriever", "name": "r", "action": "create", "marker": "+"}
GOOD_PLAN = {
    "format": 1, "stack": "catalog", "environment": "local", "namespace": "ns", "target": "local",
    "manifest_digest": "d", "steps": [GOOD_STEP], "fingerprints": {}, "counts": {"create": 1},
}  # fmt: skip


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        ([1, 2], "expected a JSON object"),
        ({"format": 1}, "'stack' is missing"),
        ({**GOOD_PLAN, "format": 2}, "unsupported plan format 2; this mixops writes 1"),
        ({**GOOD_PLAN, "steps": {"a": 1}}, "steps: Input should be a valid array"),
        ({**GOOD_PLAN, "steps": ["x"]}, r"steps\[0\]: Input should be an object"),
        ({**GOOD_PLAN, "steps": [{**GOOD_STEP, "action": "explode"}]}, r"steps\[0\].action: Input should be 'create'"),
        ({**GOOD_PLAN, "steps": [{**GOOD_STEP, "colour": "red"}]}, r"steps\[0\].colour: unknown key"),
        ({**GOOD_PLAN, "steps": [{**GOOD_STEP, "changes": [{"path": "a"}]}]}, r"'steps\[0\].changes\[0\].old' is missing"),
        ({**GOOD_PLAN, "steps": [{**GOOD_STEP, "depends_on": [["retriever"]]}]}, r"depends_on\[0\]\[1\]' is missing"),
        ({**GOOD_PLAN, "fingerprints": {"a": 1}}, "fingerprints.a: Input should be a valid string"),
        ({**GOOD_PLAN, "extra": 1}, "extra: unknown key"),
        # Strict: nothing is coerced (the hand-written reader took these), every field is typed.
        ({**GOOD_PLAN, "steps": [{**GOOD_STEP, "wave": "1"}]}, r"steps\[0\].wave: Input should be a valid integer"),
        ({**GOOD_PLAN, "steps": [{**GOOD_STEP, "depends_on": [["bucket", 1]]}]}, r"depends_on\[0\]\[0\]: Input should be 'collection'"),
        ({**GOOD_PLAN, "steps": [{**GOOD_STEP, "adopt": "yes"}]}, r"steps\[0\].adopt: Input should be a valid boolean"),
        ({**GOOD_PLAN, "steps": [{**GOOD_STEP, "changes": [{"path": "a", "old": 1, "new": 2, "surface": "x"}]}]},
         r"changes\[0\].surface: Input should be 'in_place'"),
        ({**GOOD_PLAN, "warnings": "one"}, "warnings: Input should be a valid array"),
        ({**GOOD_PLAN, "tests": [{"name": 1}]}, r"tests\[0\].name: Input should be a valid string"),
    ],
)  # fmt: skip
def test_a_malformed_plan_is_a_plan_error(plan: Any, message: str) -> None:
    from mixops.core.plan import Plan
    from mixops.errors import PlanError

    with pytest.raises(PlanError, match=message):
        Plan.from_json(plan)


def test_a_well_formed_plan_round_trips() -> None:
    from mixops.core.plan import Plan

    plan = Plan.from_json(GOOD_PLAN)
    assert Plan.from_json(plan.to_json()) == plan


@pytest.mark.parametrize(
    ("content", "message"),
    [("{not json", "cannot read plan file"), ('{"format": 1, "steps": []}', "cannot use plan file .*'stack'")],
)
def test_apply_of_a_malformed_plan_file_names_the_file(project_dir: Path, content: str, message: str) -> None:
    import re

    path = project_dir / "plan.json"
    path.write_text(content, encoding="utf-8")
    result = _cli(project_dir, "apply", str(path), "--auto-approve")
    assert result.exit_code == 1, result.output
    assert "internal error" not in result.output
    assert re.search(message, result.output) and "plan.json" in result.output


# --- replacements are proven before the swap ----------------------------------------------


def _log_requests(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, Any]]:
    seen: list[tuple[str, str, Any]] = []
    original = MixpeekClient.request

    async def request(self: MixpeekClient, method: str, path: str, **kw: Any) -> Any:
        seen.append((method, path, kw.get("params")))
        return await original(self, method, path, **kw)

    monkeypatch.setattr(MixpeekClient, "request", request)
    return seen


async def _apply_with_tests(root: Path) -> tuple[Any, Any]:
    from mixops.core.plan import PlanOptions
    from mixops.local.inprocess import local_transport
    from mixops.ports.project import load_project
    from mixops.ports.reconcile import plan_and_apply

    project = load_project(root, local_backend=local_transport)
    return await plan_and_apply(project, "local", PlanOptions(), apply=True, tests="changed")


async def test_a_replacement_failing_its_tests_is_not_swapped_in(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mixops.ports.apply import ReplacementTestsFailed

    await apply(project_dir)
    before = await live(project_dir)
    old = before.resources[("retriever", "product_search")].id
    tests_yaml = (project_dir / "manifests" / "tests.yaml").read_text(encoding="utf-8")
    edit(
        project_dir,
        "retrievers.yaml",
        lambda d: resource(d, "retrievers", "product_search").update(budget_limits={"max_credits": 50}),
    )
    edit(project_dir, "tests.yaml", lambda d: d["tests"][0]["expect"].update(min_results=500))

    with pytest.raises(ReplacementTestsFailed) as caught:
        await _apply_with_tests(project_dir)
    assert caught.value.exit_code == 3
    message = str(caught.value)
    assert "running shoes come first" in message and f"old retriever ({old}) still serves" in message
    failed = caught.value.report.failed
    assert [r.step.name for r in failed] == ["product_search"] and failed[0].tests
    after = await live(project_dir)
    assert after.resources[("retriever", "product_search")].id == old  # the old one was neither deleted nor renamed
    temp = after.resources[("retriever", "product_search--mixops-new")].id
    async with api(project_dir) as client:
        out = await client.execute_retriever(old, {"inputs": {"query": "running shoes"}})
    assert out["documents"]

    # Fixed manifests: the next apply reuses the tested temporary instead of deleting it.
    (project_dir / "manifests" / "tests.yaml").write_text(tests_yaml, encoding="utf-8")
    seen = _log_requests(monkeypatch)
    planned, report = await _apply_with_tests(project_dir)
    assert report is not None and not report.failed
    assert all(e.status in (Status.PASSED, Status.SKIPPED) for e in planned.applied_tests)
    assert ("DELETE", f"/v1/retrievers/{temp}", None) not in seen
    monkeypatch.undo()
    state = await assert_converged(project_dir)
    assert state.resources[("retriever", "product_search")].id == temp


async def test_a_stale_temporary_a_dependent_points_at_is_patched_not_deleted(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await apply(project_dir)
    edit(
        project_dir,
        "retrievers.yaml",
        lambda d: resource(d, "retrievers", "tag_matcher").update(budget_limits={"max_credits": 5}),
    )
    # Interrupted right after the taxonomy was re-pointed to the temporary.
    original = MixpeekClient.request
    state = {"fired": False}

    async def request(self: MixpeekClient, method: str, path: str, **kw: Any) -> Any:
        out = await original(self, method, path, **kw)
        if not state["fired"] and method == "POST" and path.endswith("/versions"):
            state["fired"] = True
            raise ApiError(method, path, ApiErrorInfo(400, "injected", message="injected failure"))
        return out

    monkeypatch.setattr(MixpeekClient, "request", request)
    with pytest.raises(ApplyError, match="injected failure"):
        await apply(project_dir, parallelism=1)
    monkeypatch.undo()
    temp = (await live(project_dir)).resources[("retriever", "tag_matcher--mixops-new")].id
    async with api(project_dir) as client:
        rows = {r["taxonomy_name"]: r for r in await client.list_taxonomies()}
    assert rows["product_tags"]["config"]["retriever_id"] == temp  # the dependent relies on it now

    # The desired spec moved on meanwhile: the temporary is patched to it, never deleted.
    edit(
        project_dir,
        "retrievers.yaml",
        lambda d: resource(d, "retrievers", "tag_matcher").update(description="matches tags, v2"),
    )
    seen = _log_requests(monkeypatch)
    await apply(project_dir)
    assert not [s for s in seen if s[0] == "DELETE" and temp in s[1]]
    monkeypatch.undo()
    state_after = await assert_converged(project_dir)
    assert state_after.resources[("retriever", "tag_matcher")].id == temp
    assert state_after.resources[("retriever", "tag_matcher")].spec.get("description") == "matches tags, v2"


async def test_a_cluster_replacement_runs_before_the_old_one_goes_and_keeps_its_outputs(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await apply(project_dir)
    old = (await live(project_dir)).resources[("cluster", "brand_groups")].id
    edit(
        project_dir,
        "clusters.yaml",
        lambda d: resource(d, "clusters", "brand_groups")["attribute_config"].update(attributes=["brand"]),
    )
    seen = _log_requests(monkeypatch)
    _, report = await apply(project_dir)
    monkeypatch.undo()
    assert report is not None and not report.failed
    new = (await live(project_dir)).resources[("cluster", "brand_groups")].id
    assert new != old
    calls = [(m, p) for m, p, _ in seen]
    executed = calls.index(("POST", f"/v1/clusters/{new}/execute"))
    deleted = calls.index(("DELETE", f"/v1/clusters/{old}"))
    assert executed < deleted
    assert seen[deleted][2] == {"cascade_output_collections": "false"}
    async with api(project_dir) as client:
        assert await client.get_cluster_execution(new) is not None  # the replacement has run


# --- the lease ---------------------------------------------------------------------------


class _Clock:
    def __init__(self) -> None:
        import datetime as dt

        self.now = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)

    def __call__(self) -> Any:
        return self.now

    def advance(self, seconds: float) -> None:
        import datetime as dt

        self.now += dt.timedelta(seconds=seconds)


async def test_a_lease_whose_renewals_keep_failing_is_lost_once_its_expiry_passes(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mixops.ports.lease import Lease, LeaseLostError

    clock = _Clock()
    async with api(project_dir) as client:
        lease = Lease(client, "catalog", ttl=60, clock=clock)
        await lease.acquire()
        lease.check()  # fresh: ours

        async def unavailable(self: Lease) -> None:
            raise ApiError("PATCH", "/v1/collections/x", ApiErrorInfo(503, "unavailable", message="try later"))

        monkeypatch.setattr(Lease, "renew", unavailable)
        clock.advance(30)
        lease.check()  # renewals failing, but the expiry we wrote has not passed
        clock.advance(31)
        with pytest.raises(LeaseLostError, match="not renewed before it expired"):
            lease.check()
        assert lease.lost
        monkeypatch.undo()
        await lease.release()


async def test_apply_starts_no_phase_once_the_lease_is_lost(project_dir: Path) -> None:
    from mixops.core.plan import build_plan
    from mixops.ports.apply import Applier
    from mixops.ports.lease import LeaseLostError
    from mixops.ports.project import load_project, load_stack

    stack = load_stack(load_project(project_dir), "local")
    state = await live(project_dir)
    plan = build_plan(stack, state, now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    checks = []

    def guard() -> None:
        checks.append(1)
        if len(checks) > 1:  # lost while the first wave ran
            raise LeaseLostError("the lease was taken over")

    async with api(project_dir) as client:
        applier = Applier(client, stack, state, guard=guard)
        with pytest.raises(ApplyError, match="stopped before its next phase: the lease was taken over") as caught:
            await applier.run(plan)
    status = {r.step.key: r.status for r in caught.value.report.results}
    assert status[("collection", "tag_catalog")] == "done"  # the first wave
    assert status[("retriever", "tag_matcher")] == "not_started"  # the wave after it never began
    assert status[("taxonomy", "product_tags")] == "not_started"
    assert len(checks) == 2


async def test_a_failed_release_never_hides_the_error_that_ended_the_apply(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mixops.ports.lease import Lease

    async def release(self: Lease) -> None:
        raise ApiError("DELETE", "/v1/collections/x", ApiErrorInfo(503, "unavailable", message="release failed"))

    warnings: list[str] = []
    async with api(project_dir) as client:
        monkeypatch.setattr(Lease, "release", release)
        with pytest.raises(ApplyError, match="the real failure") as caught:
            async with Lease(client, "catalog").hold(0, warnings.append):
                raise ApplyError("the real failure", report="the report")
        assert caught.value.report == "the report"
        assert any("could not be released" in n and "release failed" in n for n in caught.value.__notes__)
        # After success, a failed release is a warning: the work is done and the lease expires by itself.
        async with Lease(client, "catalog2").hold(0, warnings.append):
            pass
    assert len(warnings) == 1 and "expires by itself" in warnings[0]


async def test_apply_records_the_test_outcome_when_it_ran_every_test(project_dir: Path) -> None:
    from mixops.ports.project import load_project, load_stack
    from mixops.ports.stamps import read_records

    planned, _ = await _apply_with_tests(project_dir)
    assert len(planned.applied_tests) == len(planned.stack.tests)
    records = read_records(load_stack(load_project(project_dir), "local"), await live(project_dir))
    assert records.applied and not records.untested
    assert records.tests_passed == all(e.passed for e in planned.applied_tests)


# --- what the live reader sees -------------------------------------------------------------


async def test_duplicate_live_names_are_a_plan_error_naming_the_ids(project_dir: Path) -> None:
    from mixops.errors import PlanError
    from mixops.ports.live_reader import build_live_state

    await apply(project_dir)
    rows, collections = await live_rows(project_dir)
    first = next(r for r in rows["retriever"] if r["retriever_name"] == "tag_matcher")
    rows["retriever"].append({**first, "retriever_id": "ret_copy_2"})
    with pytest.raises(PlanError, match=rf"retriever 'tag_matcher': {first['retriever_id']}, ret_copy_2"):
        build_live_state("ns", rows, collections)


async def test_fingerprints_ignore_mixops_records_and_see_publishing(project_dir: Path) -> None:
    from mixops.ports.live_reader import build_live_state

    await apply(project_dir)
    rows, collections = await live_rows(project_dir)
    key = ("retriever", "product_search")

    def fingerprint(change: Any) -> str:
        copy = {k: [dict(r) for r in v] for k, v in rows.items()}
        row = next(r for r in copy["retriever"] if r["retriever_name"] == "product_search")
        change(row)
        return build_live_state("ns", copy, collections).resources[key].fingerprint

    base = fingerprint(lambda r: None)
    stamped = {"mixops_tests": {"digest": "d", "passed": True, "at": "2030-01-01T00:00:00+00:00"},
               "mixops_applied": "another"}  # fmt: skip
    assert fingerprint(lambda r: r.update(metadata={**(r.get("metadata") or {}), **stamped})) == base
    assert fingerprint(lambda r: r.update(is_published=True)) != base
    assert fingerprint(lambda r: r.update(metadata={**(r.get("metadata") or {}), "team": "x"})) != base
