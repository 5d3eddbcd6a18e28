"""Run the stack's tests through the API (I/O port).

Public interface::

    runner = TestRunner(client, stack, budget=env.test_budget)
    entries = await runner.plan_tests(plan, live, select="changed", pattern=None)   # Plan.tests
    entries = await runner.applied_tests(ids, collections, pattern=None)           # after apply
    passed = await run_live_tests(client, stack, namespace)                        # promote's gate

At plan time nothing is written: each test runs against the DESIRED config
(ad-hoc retriever execute, on-demand taxonomy execute with the inline config,
ad-hoc clustering with `store_results: false`) and, where the target exists
live, against the LIVE config (execute by id / the live spec); the two give
the behavioural diff. After apply, tests run against the applied resources by
id (cluster runs polled as tasks; retriever executions read back by id).

Tests run concurrently, at most the client's parallelism at once (the client's
own semaphore bounds the requests). A `test_budget` stops the run before it is
exceeded: a test starts only when the credits used and reserved, plus what it
may use (its target's `budget_limits.max_credits`, else the most any test used
so far), stay within `max_credits`, and when the time used plus the longest
test so far stays within `max_time_ms`. Tests that do not start are reported
as skipped, with the reason.

Every test gives a `TestOutcome` (core/outcomes.py): its status, the
execution against the desired config and, at plan time, the one against the
live config, and the behavioural diff between them. After apply the result is
under `desired` (the applied config is the desired one) and `phase` is "applied".
"""

from __future__ import annotations

import asyncio
import fnmatch
import functools
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from mixops.core import behaviour
from mixops.core.bodies import spec_of
from mixops.core.expectations import (
    depth,
    error_outcome,
    evaluate_cluster,
    evaluate_retriever,
    evaluate_taxonomy,
    observe_cluster,
    observe_retriever,
    observe_taxonomy,
    response_credits,
)
from mixops.core.live import LiveState
from mixops.core.models.project import TestBudget
from mixops.core.models.tests import ClusterTest, RetrieverTest, TaxonomyTest, TestCase
from mixops.core.outcomes import Execution, Phase, SkippedCheck, TestOutcome
from mixops.core.placeholders import mask_tree
from mixops.core.plan import Plan
from mixops.core.refpaths import iter_refs
from mixops.core.stack import Stack
from mixops.core.testbodies import (
    NotRunnable,
    adhoc_cluster_body,
    adhoc_retriever_body,
    by_id_retriever_body,
    references,
    retriever_override,
    sample_ids,
    taxonomy_body,
)
from mixops.core.wording import listing, verb
from mixops.errors import ApiError, MixopsError
from mixops.ports.client import MixpeekClient
from mixops.ports.userpaths import shell_word

# TaskStatusEnum (mixpeek-api.md 1.7); any status but COMPLETED ends a cluster test as an error.
KNOWN_TASK_STATUSES = frozenset(
    {"PENDING", "QUEUED", "IN_PROGRESS", "PROCESSING", "COMPLETED", "COMPLETED_WITH_ERRORS", "FAILED", "CANCELED",
     "INTERRUPTED", "UNKNOWN", "SKIPPED", "DRAFT", "ACTIVE", "ARCHIVED", "SUSPENDED", "DEACTIVATED"}
)  # fmt: skip
Select = Literal["changed", "all"]
Key = tuple[str, str]
Kind = Literal["retriever", "taxonomy", "cluster"]


def target_of(test: TestCase) -> tuple[Kind, str]:
    if isinstance(test, RetrieverTest):
        return ("retriever", test.retriever)
    if isinstance(test, TaxonomyTest):
        return ("taxonomy", test.taxonomy)
    return ("cluster", test.cluster)


def matches_pattern(name: str, pattern: str | None) -> bool:
    """`-k`: a case-insensitive substring, or a glob when it holds * ? or [."""
    if not pattern:
        return True
    if any(c in pattern for c in "*?["):
        return fnmatch.fnmatchcase(name.lower(), pattern.lower())
    return pattern.lower() in name.lower()


def affected(stack: Stack, changed: set[Key]) -> set[Key]:
    """Resources that change, plus every resource that (transitively) references one."""
    deps: dict[Key, set[Key]] = {}
    for kind in ("retriever", "taxonomy", "cluster"):
        for name, res in stack.resources(kind).items():
            spec = spec_of(res)
            deps[(kind, name)] = {(k, str(v)) for _, k, v in iter_refs(kind, spec) if k != "collection"}
    out = set(changed)
    grew = True
    while grew:
        grew = False
        for key, refs in deps.items():
            if key not in out and refs & out:
                out.add(key)
                grew = True
    return out


def select_tests(stack: Stack, select: Select, changed: set[Key] | None, pattern: str | None) -> list[TestCase]:
    hit = affected(stack, changed) if select == "changed" and changed is not None else None
    return [t for t in stack.tests if matches_pattern(t.name, pattern) and (hit is None or target_of(t) in hit)]


@dataclass
class RunBudget:
    """The `test_budget` of one run; shared by concurrent tests (single event loop)."""

    limits: TestBudget | None
    clock: Callable[[], float] = time.monotonic
    credits: float = 0.0
    reserved: float = 0.0
    biggest: float = 0.0
    longest_ms: float = 0.0
    started: float = field(default=-1.0)
    stopped: str | None = None

    def __post_init__(self) -> None:
        if self.started < 0:
            self.started = self.clock()

    def admit(self, estimate: float) -> tuple[str | None, float]:
        """(None, reserved credits) when the test may start; (reason, 0) when the run stops."""
        if self.limits is None:
            return None, 0.0
        if self.stopped:
            return self.stopped, 0.0
        est = max(estimate, self.biggest)
        cap = self.limits.max_credits
        if cap is not None and self.credits + self.reserved + est > cap:
            self.stopped = (
                f"test budget: {self.credits + self.reserved:g} of {cap:g} credits used or reserved, and the next "
                f"test may use {est:g}; the run stopped before exceeding max_credits"
            )
            return self.stopped, 0.0
        limit_ms = self.limits.max_time_ms
        elapsed = (self.clock() - self.started) * 1000
        if limit_ms is not None and elapsed + self.longest_ms > limit_ms:
            self.stopped = (
                f"test budget: {elapsed:.0f} ms of {limit_ms} ms used, and the longest test so far took "
                f"{self.longest_ms:.0f} ms; the run stopped before exceeding max_time_ms"
            )
            return self.stopped, 0.0
        self.reserved += est
        return None, est

    def settle(self, reserved: float, credits: float, ms: float) -> None:
        self.reserved -= reserved
        self.credits += credits
        self.biggest = max(self.biggest, credits)
        self.longest_ms = max(self.longest_ms, ms)


@dataclass
class _Run:
    """One execution's outcome, with the credits it used (None: the response documents no cost)."""

    outcome: Execution
    credits: float | None = 0.0
    skipped: str | None = None  # the route is missing: the test is skipped, saying why


def _total(credits: Iterable[float | None]) -> float | None:
    """The credits of several runs; None when one of them has no documented cost."""
    values = list(credits)
    return None if any(c is None for c in values) else sum(c for c in values if c is not None)


# Executes whose responses document no cost field: the taxonomy execute (JoinResponse: stats,
# results, matches) and clustering (a task; the execution result and seed 003 carry no credits).
UNCOSTED = {
    "taxonomy": "the taxonomy execute response (JoinResponse) documents no cost field",
    "cluster": "clustering responses (the task, the execution result, seed 003) document no cost field",
}


# An optional route answering these is a capability the API lacks (mixops-api rule): the test is
# skipped with the reason, never failed. Ad-hoc clustering is documented only by a seed page;
# the on-demand taxonomy execute is for validation only.
MISSING_CAPABILITY = frozenset({404, 405, 422})


def _missing(what: str, err: ApiError) -> _Run:
    return _Run(Execution.error(str(err)), skipped=f"the API does not offer {what} here ({err}); skipped")


def _skipped(test: TestCase, reason: str, phase: Phase, live: Execution | None = None) -> TestOutcome:
    kind, name = target_of(test)
    return TestOutcome.skipped(test.name, kind, name, phase, reason, live=live)


def _ran(
    test: TestCase, phase: Phase, desired: Execution, live: Execution | None = None, diff: dict[str, Any] | None = None
) -> TestOutcome:
    kind, name = target_of(test)
    return TestOutcome.ran(test.name, kind, name, phase, desired, live=live, diff=diff)


class TestRunner:
    """Runs tests for one stack through one client."""

    __test__ = False  # not a pytest class

    def __init__(
        self,
        client: MixpeekClient,
        stack: Stack,
        *,
        budget: TestBudget | None = None,
        concurrency: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        mixops: str = "mixops",
    ) -> None:
        """`mixops` starts the commands an outcome says to run (`Project.invocation`)."""
        self.mixops = mixops
        self.client = client
        self.stack = stack
        self.budget = RunBudget(budget, clock)
        self.clock = clock
        self._slots = asyncio.Semaphore(concurrency or client.parallelism)

    # --- plan time -----------------------------------------------------------------------

    async def plan_tests(
        self, plan: Plan, live: LiveState, *, select: Select = "changed", pattern: str | None = None
    ) -> tuple[TestOutcome, ...]:
        changed = {s.key for s in plan.changes if s.action != "delete"}
        tests = select_tests(self.stack, select, changed, pattern)
        hit = affected(self.stack, changed)
        ctx = _PlanContext(self.stack, live, changed)
        jobs = [self._guarded(t, "plan", functools.partial(self._plan_one, t, ctx, hit)) for t in tests]
        return tuple(await asyncio.gather(*jobs))

    async def _plan_one(self, test: TestCase, ctx: _PlanContext, hit: set[Key]) -> tuple[TestOutcome, float | None]:
        key = target_of(test)
        live_res = ctx.live.resources.get(key)
        not_runnable = ""
        try:
            desired_call = self._desired_call(test, ctx)
        except NotRunnable as why:
            desired_call = None
            not_runnable = f"cannot run against the desired config: {why}"
        live_call = self._live_call(test, ctx) if live_res is not None and key in hit else None
        calls = [c for c in (desired_call, live_call) if c is not None]
        runs = await asyncio.gather(*(c() for c in calls))
        desired = runs[0] if desired_call is not None else None
        live_run = runs[-1] if live_call is not None else None
        if desired is not None and desired.skipped:
            not_runnable, desired = desired.skipped, None
        if live_run is not None and live_run.skipped:
            live_run = None
        if desired is not None and live_res is not None and key not in hit:
            live_run = desired  # the live config IS the desired one: one execution serves both
        live_outcome = live_run.outcome if live_run else None
        credits = _total(r.credits for r in runs)
        if desired is None:
            return _skipped(test, not_runnable, "plan", live_outcome), credits
        diff = _diff(test, live_run.outcome, desired.outcome) if live_run is not None else None
        return _ran(test, "plan", desired.outcome, live_outcome, diff), credits

    def _desired_call(self, test: TestCase, ctx: _PlanContext) -> Callable[[], Awaitable[_Run]]:
        kind, name = target_of(test)
        spec = spec_of(self.stack.resources(kind)[name])
        # A collection the manifests declare and this plan creates does not exist yet either.
        for ref_kind in ("collection", "retriever", "taxonomy", "cluster"):
            for ref in references(kind, spec, ref_kind):
                if ref_kind == "collection" and ref not in self.stack.collections:
                    continue  # not a collection mixops manages: plan checks it exists
                if (ref_kind, ref) not in ctx.live.resources and not (kind == "taxonomy" and ref_kind == "retriever"):
                    raise NotRunnable(f"it references {ref_kind} {ref!r}, which does not exist yet (apply first)")
        if isinstance(test, RetrieverTest):
            body = adhoc_retriever_body(spec, ctx.to_id, test.inputs, test.filters)
            return lambda: self._retriever(test, self.client.execute_adhoc_retriever(body))
        if isinstance(test, TaxonomyTest):
            live_res = ctx.live.resources.get(("taxonomy", name))
            if live_res is None:
                # The on-demand execute runs a taxonomy the path names: executing by the name of
                # one that does not exist is undocumented (most likely a 404).
                raise NotRunnable(
                    f"taxonomy {name!r} does not exist yet and the on-demand execute needs an existing "
                    "taxonomy's id; the test runs after apply"
                )
            override = self._override(name, spec, ctx)
            identifier = live_res.id

            async def taxonomy() -> _Run:
                docs = await self._samples(test, ctx.to_id)
                body = taxonomy_body(name, identifier, spec, docs, ctx.to_id, override)
                return await self._taxonomy(test, docs, self.client.execute_taxonomy(identifier, body))

            return taxonomy
        assert isinstance(test, ClusterTest)
        cluster_body = adhoc_cluster_body(spec, ctx.to_id)
        return lambda: self._cluster_adhoc(test, cluster_body)

    def _override(self, name: str, spec: dict[str, Any], ctx: _PlanContext) -> dict[str, Any] | None:
        """The desired retriever, inline, when the taxonomy's retriever is new or changes."""
        used = references("taxonomy", spec, "retriever")
        stale = [r for r in used if ("retriever", r) not in ctx.live.resources or ("retriever", r) in ctx.changed]
        if not stale:
            return None
        if len(used) > 1:
            raise NotRunnable(
                f"it uses retrievers {listing(used)}; {listing(stale)} {verb(len(stale), 'is', 'are')} new or "
                "changed, and a taxonomy execute takes one retriever override, which cannot stand in for several"
            )
        return retriever_override(used[0], spec_of(self.stack.retrievers[used[0]]), ctx.to_id)

    def _live_call(self, test: TestCase, ctx: _PlanContext) -> Callable[[], Awaitable[_Run]]:
        kind, name = target_of(test)
        res = ctx.live.resources[(kind, name)]
        if isinstance(test, RetrieverTest):
            body = by_id_retriever_body(test.inputs, test.filters)
            return lambda: self._retriever(test, self.client.execute_retriever(res.id, body))
        if isinstance(test, TaxonomyTest):

            async def taxonomy() -> _Run:
                docs = await self._samples(test, ctx.to_id)
                body = taxonomy_body(name, res.id, res.spec, docs, ctx.to_id)
                return await self._taxonomy(test, docs, self.client.execute_taxonomy(res.id, body))

            return taxonomy
        assert isinstance(test, ClusterTest)
        try:
            cluster_body = adhoc_cluster_body(res.spec, ctx.to_id)
        except NotRunnable as why:
            message = f"cannot run against the live config: {why}"
            failure = _Run(Execution.error(message))

            async def refused() -> _Run:
                return failure

            return refused
        return lambda: self._cluster_adhoc(test, cluster_body)

    # --- after apply ---------------------------------------------------------------------

    async def applied_tests(
        self,
        ids: Mapping[Key, str],
        collections: Mapping[str, str],
        *,
        pattern: str | None = None,
        select: Select = "all",
        changed: set[Key] | None = None,
    ) -> tuple[TestOutcome, ...]:
        tests = select_tests(self.stack, select, changed, pattern)

        def to_id(kind: str, name: str) -> str:
            return collections.get(name, name) if kind == "collection" else ids.get((kind, name), name)

        jobs = [self._guarded(t, "applied", functools.partial(self._applied_one, t, ids, to_id)) for t in tests]
        return tuple(await asyncio.gather(*jobs))

    async def _applied_one(
        self, test: TestCase, ids: Mapping[Key, str], to_id: Callable[[str, str], str]
    ) -> tuple[TestOutcome, float | None]:
        kind, name = target_of(test)
        target_id = ids.get((kind, name))
        if target_id is None:
            again = f"{self.mixops} apply --env {shell_word(self.stack.environment)}"
            run = _Run(error_outcome(f"{kind} {name!r} does not exist in the namespace (run {again})"))
        elif isinstance(test, RetrieverTest):
            run = await self._retriever_by_id(test, target_id)
        elif isinstance(test, TaxonomyTest):
            docs = await self._samples(test, to_id)
            body = taxonomy_body(name, target_id, spec_of(self.stack.taxonomies[name]), docs, to_id)
            run = await self._taxonomy(test, docs, self.client.execute_taxonomy(target_id, body))
        else:
            assert isinstance(test, ClusterTest)
            run = await self._cluster_by_id(test, target_id, to_id)
        assert isinstance(run, _Run)
        if run.skipped:
            return _skipped(test, run.skipped, "applied"), run.credits
        return _ran(test, "applied", run.outcome), run.credits

    async def _retriever_by_id(self, test: RetrieverTest, retriever_id: str) -> _Run:
        started = self.clock()
        try:
            response = await self.client.execute_retriever(
                retriever_id, by_id_retriever_body(test.inputs, test.filters)
            )
            wall = (self.clock() - started) * 1000
            execution_id = response.get("execution_id")
            if execution_id:
                # Seed 004: the stored execution is the record of this test run. Without the
                # route (or the record), the execute's own response is the record.
                try:
                    detail = await self.client.get_retriever_execution(retriever_id, str(execution_id))
                except ApiError as err:
                    if err.status not in MISSING_CAPABILITY:
                        raise
                    detail = {}
                if detail.get("documents") or not response.get("documents"):
                    response = {**response, **detail}
        except (ApiError, MixopsError) as err:
            return _Run(error_outcome(str(err)))
        observed = observe_retriever(test.expect, response, wall)
        return _Run(evaluate_retriever(test.expect, observed, execution_id), response_credits(response))

    async def _cluster_by_id(self, test: ClusterTest, cluster_id: str, to_id: Callable[[str, str], str]) -> _Run:
        try:
            task = await self.client.execute_cluster(cluster_id)
            done = await self.client.wait_task(str(task["task_id"]))
            status = str(done.get("status")).upper()
            if status != "COMPLETED":
                known = "" if status in KNOWN_TASK_STATUSES else " (a status mixops does not know)"
                return _Run(
                    error_outcome(
                        f"cluster task {task['task_id']} ended {done.get('status')}{known} instead of COMPLETED: "
                        f"{done.get('error') or 'no error message'}"
                    )
                )
            # The run this task made: the cluster's latest execution (GET /v1/clusters/{id}/executions,
            # "the most recent execution results"). The task documents no link to its run
            # (`additional_data` is free-form and names no run id).
            result = await self.client.get_cluster_execution(cluster_id)
            if result is None:
                return _Run(error_outcome(f"cluster {cluster_id} has no execution after task {task['task_id']}"))
            observed = observe_cluster(result)
        except (ApiError, MixopsError) as err:
            return _Run(error_outcome(str(err)))
        return _Run(evaluate_cluster(test.expect, observed), credits=None)

    # --- executions shared by both phases ------------------------------------------------

    async def _retriever(self, test: RetrieverTest, call: Awaitable[dict[str, Any]]) -> _Run:
        started = self.clock()
        try:
            response = await call
        except ApiError as err:
            return _Run(error_outcome(str(err)))
        observed = observe_retriever(test.expect, response, (self.clock() - started) * 1000)
        execution_id = response.get("execution_id")
        return _Run(evaluate_retriever(test.expect, observed, execution_id), response_credits(response))

    async def _taxonomy(self, test: TaxonomyTest, docs: list[dict[str, Any]], call: Awaitable[dict[str, Any]]) -> _Run:
        try:
            response = await call
        except ApiError as err:
            if err.status in MISSING_CAPABILITY:
                return _missing("the on-demand taxonomy execute", err)
            return _Run(error_outcome(str(err)))
        observed = observe_taxonomy(test.expect, response, sample_ids(docs))
        return _Run(evaluate_taxonomy(test.expect, observed), credits=None)

    async def _cluster_adhoc(self, test: ClusterTest, body: dict[str, Any]) -> _Run:
        try:
            response = await self.client.execute_adhoc_clustering(body)
        except ApiError as err:
            if err.status in MISSING_CAPABILITY:
                return _missing("ad-hoc clustering (POST /v1/clusters/execute, documented only by seed 003)", err)
            return _Run(error_outcome(str(err)))
        return _Run(evaluate_cluster(test.expect, observe_cluster(response, stored=False)), credits=None)

    async def _samples(self, test: TaxonomyTest, to_id: Callable[[str, str], str]) -> list[dict[str, Any]]:
        if test.documents is not None:
            return [dict(d) for d in test.documents]
        assert test.documents_from is not None
        collection = to_id("collection", test.documents_from.collection)

        async def fetch(doc_id: str) -> dict[str, Any]:
            doc = await self.client.request("GET", f"/v1/collections/{collection}/documents/{doc_id}")
            return {k: v for k, v in (doc or {}).items() if not k.startswith("_")}

        return list(await asyncio.gather(*(fetch(d) for d in test.documents_from.ids)))

    async def _guarded(
        self, test: TestCase, phase: Phase, run: Callable[[], Awaitable[tuple[TestOutcome, float | None]]]
    ) -> TestOutcome:
        """One test under the concurrency limit and the run's budget, its outcome masked.

        Every outcome leaves the runner through here, masked: inputs and
        expectations may come from `${{ env.X }}`, and failures, observed values
        and execution errors quote them (text, JSON, Markdown and JUnit all read them).
        """
        outcome = await self._guarded_run(test, phase, run)
        if not self.stack.secrets:
            return outcome
        return TestOutcome.model_validate(mask_tree(outcome.to_json(), self.stack.secrets))

    async def _guarded_run(
        self, test: TestCase, phase: Phase, run: Callable[[], Awaitable[tuple[TestOutcome, float | None]]]
    ) -> TestOutcome:
        async with self._slots:
            reason, reserved = self.budget.admit(self._estimate(test, phase))
            if reason is not None:
                return _skipped(test, reason, phase)
            started = self.clock()
            credits: float | None = 0.0
            try:
                try:
                    outcome, credits = await run()
                except ApiError as err:  # e.g. a sample document that does not exist
                    outcome = _ran(test, phase, error_outcome(str(err)))
                outcome = self._uncounted(outcome, credits)
                return outcome.model_copy(update={"seconds": round(self.clock() - started, 3)})
            finally:
                self.budget.settle(reserved, credits or 0.0, (self.clock() - started) * 1000)

    def _uncounted(self, outcome: TestOutcome, credits: float | None) -> TestOutcome:
        """A test whose cost no documented field gives cannot count against test_budget.max_credits:
        that check is skipped for it, with the reason (a warning in every renderer)."""
        limits = self.budget.limits
        if credits is not None or limits is None or limits.max_credits is None or outcome.desired is None:
            return outcome
        why = UNCOSTED.get(outcome.kind, "the response documents no cost field")
        check = SkippedCheck(check="test_budget.max_credits", reason=f"{why}: this test's credits are not counted")
        desired = outcome.desired.model_copy(update={"skipped_checks": (*outcome.desired.skipped_checks, check)})
        return outcome.model_copy(update={"desired": desired})

    def _estimate(self, test: TestCase, phase: Phase) -> float:
        """The most credits this test may use: its target's budget cap, once per side it runs."""
        if not isinstance(test, RetrieverTest):
            return 0.0
        res = self.stack.retrievers.get(test.retriever)
        cap = res.budget_limits.max_credits if res is not None and res.budget_limits is not None else None
        sides = 2 if phase == "plan" else 1
        return float(cap or 0.0) * sides


@dataclass
class _PlanContext:
    stack: Stack
    live: LiveState
    changed: set[Key]

    def to_id(self, kind: str, name: str) -> str:
        if kind == "collection":
            col = self.live.collections.get(name)
            return col.id if col is not None else name
        res = self.live.resources.get((kind, name))
        return res.id if res is not None else name


def _diff(test: TestCase, live: Execution, desired: Execution) -> dict[str, Any] | None:
    if "error" in live.observed or "error" in desired.observed:
        return None
    if isinstance(test, RetrieverTest):
        return behaviour.retriever_diff(live.observed, desired.observed, depth(test.expect))
    if isinstance(test, TaxonomyTest):
        return behaviour.taxonomy_diff(live.observed, desired.observed)
    return behaviour.cluster_diff(live.observed, desired.observed)


async def live_tests(
    client: MixpeekClient, stack: Stack, namespace: str, *, pattern: str | None = None, mixops: str = "mixops"
) -> tuple[TestOutcome, ...]:
    """The stack's tests (matching `pattern`) against the namespace's live resources, by id;
    `mixops` starts the commands an outcome says to run (`Project.invocation`)."""
    from mixops.ports.live_reader import read_live

    live = await read_live(client, namespace)
    env = stack.project.environments[stack.environment]
    runner = TestRunner(client, stack, budget=env.test_budget, mixops=mixops)
    ids = {k: r.id for k, r in live.resources.items()}
    return await runner.applied_tests(ids, {n: c.id for n, c in live.collections.items()}, pattern=pattern)


async def run_live_tests(client: MixpeekClient, stack: Stack, namespace: str) -> bool:
    """Every test against the namespace's live resources; True when all ran and passed."""
    entries = await live_tests(client, stack, namespace)
    return all(e.passed for e in entries)


__all__ = [
    "RunBudget",
    "Select",
    "TestRunner",
    "affected",
    "live_tests",
    "matches_pattern",
    "run_live_tests",
    "select_tests",
    "target_of",
]
