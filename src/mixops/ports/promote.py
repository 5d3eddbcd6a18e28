"""Promotion: apply to environment B exactly what was applied AND tested in environment A.

The gate reads only A's namespace (the records of `stamps`): every resource
the manifests declare must exist there, be owned by the stack, carry
`mixops_applied == Stack.digest()` of the manifests as loaded for A, and a
passing `mixops_tests` record for that same digest. Anything else refuses,
saying which resource is behind and how to fix it.

Then B is planned and applied with B's parameters (the same plan/apply path
as `mixops apply`, under B's lease), its tests run and recorded. Manifests
hold names only; each namespace resolves them to its own ids, so nothing
environment-specific travels from A to B.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from mixops.core.plan import Plan, PlanOptions
from mixops.core.stack import Stack
from mixops.errors import PromotionRefused
from mixops.ports.apply import ApplyReport
from mixops.ports.client import MixpeekClient
from mixops.ports.live_reader import read_live
from mixops.ports.project import Project, load_stack
from mixops.ports.reconcile import Planned, plan_and_apply
from mixops.ports.stamps import Records, read_records, stamp_tests
from mixops.ports.target import connect, describe
from mixops.ports.testrunner import run_live_tests

# Runs the stack's tests against the namespace's live resources; True when all passed.
TestRun = Callable[[MixpeekClient, Stack, str], Awaitable[bool]]


@dataclass(frozen=True)
class PromoteResult:
    source: Records
    planned: Planned
    report: ApplyReport | None
    tests_passed: bool | None  # None: not run (plan only, or no tests declared)

    @property
    def plan(self) -> Plan:
        return self.planned.plan


def refusal(records: Records, env: str) -> str | None:
    """Why promotion from `env` is refused (pure), or None when it may go ahead."""
    if records.declared == 0:
        return "the manifests declare no resources: there is nothing to promote"
    reasons: list[str] = []
    if records.missing:
        reasons.append(f"not applied in {env!r}: " + ", ".join(records.missing))
    if records.other_digest:
        runs = ", ".join(f"{r} runs {d or 'an unrecorded digest'}" for r, d in records.other_digest)
        reasons.append(f"{env!r} runs another version of the manifests (current digest {records.digest}): {runs}")
    if reasons:
        return "; ".join(reasons) + f" (apply to {env!r} first: mixops apply --env {env})"
    if records.failed:
        when = ", ".join(f"{r} at {at}" for r, at in records.failed)
        return f"the last test run in {env!r} for digest {records.digest} failed ({when}); fix and re-test there"
    if records.untested:
        return (
            f"no test run in {env!r} for digest {records.digest} is recorded on "
            + ", ".join(records.untested)
            + f" (run: mixops test --env {env})"
        )
    return None


async def source_records(project: Project, env: str, *, parallelism: int = 8) -> Records:
    stack = load_stack(project, env)
    info = describe(project, env)
    async with connect(project, env, parallelism=parallelism, secrets=stack.secrets) as client:
        live = await read_live(client, info.namespace)
    return read_records(stack, live)


async def run_and_record(project: Project, env: str, test_run: TestRun, *, parallelism: int = 8) -> bool | None:
    """Run the stack's tests in `env` and record the outcome on its resources (None: no tests)."""
    stack = load_stack(project, env)
    if not stack.tests:
        return None
    info = describe(project, env)
    async with connect(project, env, parallelism=parallelism, secrets=stack.secrets) as client:
        passed = await test_run(client, stack, info.namespace)
        await stamp_tests(client, stack, info.namespace, passed)
    return passed


async def promote(
    project: Project,
    source: str,
    target: str,
    options: PlanOptions,
    *,
    plan_only: bool = False,
    parallelism: int = 8,
    lock_timeout: float = 0.0,
    test_run: TestRun = run_live_tests,
    confirm: Callable[[Plan], bool] = lambda _p: True,
    emit: Callable[[str], None] = lambda _line: None,
) -> PromoteResult:
    if source == target:
        raise PromotionRefused(f"--from and --to are both {source!r}; promotion goes between two environments")
    records = await source_records(project, source, parallelism=parallelism)
    why = refusal(records, source)
    if why is not None:
        raise PromotionRefused(f"promotion from {source!r} to {target!r} refused: {why}")
    planned, report = await plan_and_apply(
        project,
        target,
        options,
        parallelism=parallelism,
        apply=not plan_only,
        confirm=confirm,
        emit=emit,
        lock_timeout=lock_timeout,
    )
    if plan_only or (planned.plan.has_changes and report is None):
        return PromoteResult(records, planned, report, None)
    passed = await run_and_record(project, target, test_run, parallelism=parallelism)
    return PromoteResult(records, planned, report, passed)
