"""Promotion: apply to environment B exactly what was applied AND tested in environment A.

The gate reads only A's namespace (the records of `stamps`): every resource
the manifests declare must exist there, be owned by the stack, carry
`mixops_applied == Stack.digest()` of the manifests as loaded for A, and a
passing `mixops_tests` record for that same digest (a run of the whole test
set: `mixops test`, or an apply that ran every test). Anything else refuses,
saying which resource is behind and the command that fixes it.

Then B is planned and applied with B's parameters (the same plan/apply path
as `mixops apply`, under B's lease), its tests run and recorded. Manifests
hold names only; each namespace resolves them to its own ids, so nothing
environment-specific travels from A to B.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from mixops.core.outcomes import TestOutcome, green
from mixops.core.plan import Plan, PlanOptions
from mixops.core.stack import Stack
from mixops.core.wording import listing, printable
from mixops.errors import PromotionRefused
from mixops.ports.apply import ApplyReport
from mixops.ports.client import MixpeekClient
from mixops.ports.live_reader import read_env
from mixops.ports.project import Project, load_stack
from mixops.ports.reconcile import Planned, TestSelect, plan_and_apply
from mixops.ports.stamps import Records, read_records, record_run
from mixops.ports.target import connect, describe
from mixops.ports.testrunner import live_tests
from mixops.ports.userpaths import shell_word

# Runs the stack's tests against the namespace's live resources (by id there).
TestRun = Callable[[MixpeekClient, Stack, str], Awaitable[Sequence[TestOutcome]]]


@dataclass(frozen=True)
class PromoteResult:
    source: Records
    planned: Planned
    report: ApplyReport | None
    tests: tuple[TestOutcome, ...] | None  # None: not run (plan only, cancelled, or no tests declared)

    @property
    def plan(self) -> Plan:
        return self.planned.plan

    @property
    def tests_passed(self) -> bool | None:
        """None when no tests ran; else whether none failed or errored (skipped ones do not count)."""
        return None if self.tests is None else green(self.tests)


def refusal(records: Records, env: str, mixops: str = "mixops") -> str | None:
    """Why promotion from `env` is refused (pure), or None when it may go ahead.

    Each reason ends with the command that fixes it; `mixops` is how the user calls
    mixops (`mixops -C DIR` when they named the project directory).
    """
    if records.declared == 0 and not stack_entries(records):
        return "the manifests declare no resources: there is nothing to promote"
    reasons: list[str] = []
    there = shell_word(env)
    if records.missing:
        reasons.append(f"not applied in {env!r}: " + ", ".join(records.missing))
    if records.other_digest:
        # Digests and times are read from the namespace's metadata: shown escaped, as names are.
        runs = ", ".join(f"{r} runs {printable(d) if d else 'an unrecorded digest'}" for r, d in records.other_digest)
        reasons.append(f"{env!r} runs another version of the manifests (current digest {records.digest}): {runs}")
    if reasons:
        reasons[-1] += f" (apply the manifests there first: {mixops} apply --env {there} --tests all)"
    if records.foreign:
        # An apply there would refuse them too ("owned by stack ..."): applying again is no fix.
        owned = listing([_owned_by(label, stack) for label, stack in records.foreign])
        them = "it" if len(records.foreign) == 1 else "them"
        reasons.append(
            f"in {env!r}, {owned}"
            f" (take {them} over there: {mixops} apply --env {there} --adopt --tests all;"
            f" or rename {them} in the manifests)"
        )
    if reasons:
        return "; ".join(reasons)
    if records.failed:
        when = ", ".join(f"{r} at {printable(at)}" for r, at in records.failed)
        return (
            f"the last test run in {env!r} for digest {records.digest} failed ({when}); "
            f"fix it, then re-run the tests there: {mixops} test --env {there}"
        )
    if records.untested:
        where = "" if len(records.untested) == records.declared else " on " + listing(list(records.untested))
        return (
            f"no run of the whole test set in {env!r} for digest {records.digest} is recorded{where} "
            "(an apply records its run only when it runs every test, as with --tests all); "
            f"run them there: {mixops} test --env {there}"
        )
    return None


def _owned_by(label: str, stack: str | None) -> str:
    """`application 'c/taxonomy/t' is attached but owned by stack 'b'`: what is there, and whose it is."""
    whose = f"owned by stack {stack!r}" if stack else "not managed by mixops"
    return f"{label} is attached but {whose}" if label.startswith("application ") else f"{label} exists but is {whose}"


def stack_entries(records: Records) -> tuple[str, ...]:
    """The application entries the manifests declare, attached in the namespace or not."""
    labels = records.missing + tuple(label for label, _ in records.foreign)
    return records.entries + tuple(m for m in labels if m.startswith("application "))


async def source_records(project: Project, env: str, *, parallelism: int = 8) -> Records:
    stack = load_stack(project, env)
    return read_records(stack, await read_env(project, env, stack.secrets, parallelism=parallelism))


async def run_and_record(
    project: Project, env: str, test_run: TestRun = live_tests, *, parallelism: int = 8
) -> tuple[TestOutcome, ...] | None:
    """Run the stack's tests in `env` and record the outcome on its resources (None: no tests)."""
    stack = load_stack(project, env)
    if not stack.tests:
        return None
    info = describe(project, env)
    async with connect(project, env, parallelism=parallelism, secrets=stack.secrets) as client:
        outcomes = tuple(await test_run(client, stack, info.namespace))
        await record_run(client, stack, info.namespace, outcomes)
    return outcomes


async def promote(
    project: Project,
    source: str,
    target: str,
    options: PlanOptions,
    *,
    plan_only: bool = False,
    plan_tests: TestSelect = "changed",
    parallelism: int = 8,
    lock_timeout: float = 0.0,
    test_run: TestRun = live_tests,
    confirm: Callable[[Plan], bool] = lambda _p: True,
    emit: Callable[[str], None] = lambda _line: None,
    gate_open: Callable[[Records], None] = lambda _r: None,
    mixops: str = "mixops",
) -> PromoteResult:
    """Check the gate in `source`, then plan (and unless `plan_only`, apply and test) `target`.

    `gate_open` is called once the gate has passed, before `target` is read or
    changed, so that a caller can say so before the plan. `plan_tests`: which tests
    a `plan_only` plan runs against the desired and live configs, as `mixops plan`.
    """
    if source == target:
        raise PromotionRefused(f"--from and --to are both {source!r}; promotion goes between two environments")
    records = await source_records(project, source, parallelism=parallelism)
    why = refusal(records, source, mixops)
    if why is not None:
        raise PromotionRefused(f"promotion from {source!r} to {target!r} refused: {why}")
    gate_open(records)
    planned, report = await plan_and_apply(
        project,
        target,
        options,
        parallelism=parallelism,
        apply=not plan_only,
        confirm=confirm,
        emit=emit,
        lock_timeout=lock_timeout,
        tests=plan_tests if plan_only else "none",
    )
    if plan_only or (planned.plan.has_changes and report is None):
        return PromoteResult(records, planned, report, None)
    outcomes = await run_and_record(project, target, test_run, parallelism=parallelism)
    return PromoteResult(records, planned, report, outcomes)
