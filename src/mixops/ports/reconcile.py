"""Plan and apply share this one code path: load, connect, read live, plan, (apply)."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import functools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from mixops.core.collection_checks import needs_extractor_catalog
from mixops.core.live import LiveState
from mixops.core.outcomes import TestOutcome
from mixops.core.placeholders import mask, mask_tree
from mixops.core.plan import (
    ASKED_BACKFILL,
    DesiredSide,
    Plan,
    PlanOptions,
    Step,
    build_plan,
    needs_taxonomy_versions,
    prepare_desired,
    step_json,
)
from mixops.core.stack import Stack
from mixops.core.wording import printable
from mixops.errors import ApiError, MixopsError, PlanError, StalePlanError
from mixops.ports.apply import Applier, ApplyReport, Prover
from mixops.ports.capabilities import probe_taxonomy_versions, read_extractor_catalog
from mixops.ports.client import MixpeekClient
from mixops.ports.gcpause import gc_paused
from mixops.ports.lease import DEFAULT_TTL, Lease, NoLock, stack_lock
from mixops.ports.live_reader import read_live
from mixops.ports.project import Project, load_stack
from mixops.ports.stamps import record_run, stamp_applied
from mixops.ports.target import connect, describe
from mixops.ports.userpaths import shell_word

if TYPE_CHECKING:
    from mixops.ports.testrunner import TestRunner


@dataclass(repr=False)
class Planned:
    stack: Stack
    live: LiveState
    plan: Plan
    applied_tests: tuple[TestOutcome, ...] = ()  # test outcomes against the applied resources

    # Short on purpose: see the hazard noted at Plan.__repr__ (core/plan.py).
    def __repr__(self) -> str:
        return f"Planned({self.plan!r})"


# Which tests plan and apply run: none, those whose target (or a dependency of it) changes, or all.
TestSelect = Literal["none", "changed", "all"]


async def make_plan(client: MixpeekClient, stack: Stack, namespace: str, options: PlanOptions) -> Planned:
    live = await read_live(client, namespace)
    return Planned(stack, live, await counted_plan(client, stack, live, options))


async def counted_plan(
    client: MixpeekClient, stack: Stack, live: LiveState, options: PlanOptions, desired: DesiredSide | None = None
) -> Plan:
    """The plan, with an exact document count on every collection it deletes, replaces or backfills.

    The listing's `document_count` is documented as approximate (cached, it can lag recent
    writes), so before a collection is destroyed its documents are counted exactly
    (documents/list with include_total), and a backfill shows how many documents it runs
    over. Only plans with such steps pay for a second pass.

    The first pass only finds those collections: it refuses nothing that the second pass
    refuses (data loss, a protected environment), so one refusal names every flag needed.
    """
    first_options = dataclasses.replace(options, allow_data_loss=True, allow_delete=True)
    first = await build_for(client, stack, live, first_options, desired)
    counted = {s.name: s.live_id for s in first.steps if s.kind == "collection" and s.action in ("delete", "replace")}
    for s in first.steps:
        if s.action == "backfill" and s.live_id is not None and s.desired is not None:
            counted[str(s.desired["collection"])] = s.live_id
    if not counted:
        if not any(s.action in ("delete", "replace") for s in first.steps):
            return first  # the options differ only in what no step of this plan needs
        return await build_for(client, stack, live, options, desired)
    for name, live_id in counted.items():
        if name in live.document_counts or live_id is None:
            continue
        try:
            count = await client.count_documents(live_id)
        except ApiError as err:
            if err.status not in (404, 405, 422):
                raise
            count = None  # no exact count: the listing's approximate one is used
        if count is not None:
            live.document_counts[name] = count
    return await build_for(client, stack, live, options, desired)


async def build_for(
    client: MixpeekClient, stack: Stack, live: LiveState, options: PlanOptions, desired: DesiredSide | None = None
) -> Plan:
    """The plan for this API: built once, and again with the answer when a taxonomy's config
    changes, whose path (new version or replacement) depends on the API (ports/capabilities.py).

    A plan that builds a collection some feature URI is used on first reads the extractor
    catalog: the outputs that collection will have."""
    if live.extractor_catalog is None and needs_extractor_catalog(stack, live):
        live.extractor_catalog = await read_extractor_catalog(client)
    with gc_paused():
        plan = build_plan(stack, live, options, desired, now=dt.datetime.now(dt.UTC))
    if options.taxonomy_versions is not None or not needs_taxonomy_versions(plan):
        return plan
    probe = await probe_taxonomy_versions(client, live)
    if probe is None:
        return plan
    with gc_paused():
        options = dataclasses.replace(options, taxonomy_versions=probe.capability())
        return build_plan(stack, live, options, desired, now=dt.datetime.now(dt.UTC))


def _load_desired(project: Project, env_name: str) -> tuple[Stack, DesiredSide]:
    stack = load_stack(project, env_name)
    with gc_paused():
        return stack, prepare_desired(stack)


async def _read_while_loading(
    client: MixpeekClient, namespace: str, loading: asyncio.Future[tuple[Stack, DesiredSide]]
) -> tuple[Stack, DesiredSide, LiveState]:
    """The live read, while `loading` (the manifests, in a worker thread) runs.

    Errors keep the order of a sequential run: bad manifests are reported as soon as
    they are found (the read is cancelled), whatever the read ran into. A read error
    is reported once the manifests loaded, with their secrets masked: it was raised
    before the client knew them.
    """
    reading = asyncio.ensure_future(read_live(client, namespace))
    try:
        both: list[asyncio.Future[Any]] = [loading, reading]
        await asyncio.wait(both, return_when=asyncio.FIRST_EXCEPTION)
    finally:
        if not reading.done():  # cancelled, or the manifests failed first
            reading.cancel()
            await asyncio.gather(reading, return_exceptions=True)
    bad_manifests = loading.exception() if loading.done() else None
    if bad_manifests is not None:
        raise bad_manifests from None
    stack, desired = await loading
    client.redact_also(stack.secrets)
    failure = reading.exception()
    if failure is not None:
        raise _masked(failure, stack.secrets) from None
    return stack, desired, reading.result()


def _masked(err: BaseException, secrets: frozenset[str]) -> BaseException:
    """`err` with `secrets` masked from everything the CLI shows of it."""
    if secrets:
        err.args = tuple(mask(a, secrets) if isinstance(a, str) else a for a in err.args)
        if isinstance(err, ApiError):
            err.url = mask(err.url, secrets)
            err.info = dataclasses.replace(
                err.info, message=mask(err.info.message, secrets), details=mask_tree(err.info.details, secrets)
            )
    return err


async def _plan_only(
    project: Project,
    env_name: str,
    options: PlanOptions,
    *,
    parallelism: int,
    saved: Plan | None,
    saved_from: Path | None,
    tests: TestSelect,
    test_pattern: str | None,
) -> Planned:
    """A plan writes nothing, so against an API it loads the manifests while the live read
    waits on the network (a worker thread; the read is mostly waiting). The embedded backend
    runs in this process, so there is nothing to overlap: it loads first, as apply does, and
    bad manifests never create its database."""
    info = describe(project, env_name)
    budget = project.config.environments[env_name].test_budget
    loading: asyncio.Future[tuple[Stack, DesiredSide]] | None = None
    secrets: frozenset[str] = frozenset()
    if project.config.environments[env_name].kind == "local":
        stack, desired = _load_desired(project, env_name)
        secrets = stack.secrets
    else:
        loading = asyncio.ensure_future(asyncio.to_thread(_load_desired, project, env_name))
    try:
        async with connect(project, env_name, parallelism=parallelism, secrets=secrets) as client:
            if loading is not None:
                stack, desired, live = await _read_while_loading(client, info.namespace, loading)
            else:
                live = await read_live(client, info.namespace)
            planned = Planned(stack, live, await counted_plan(client, stack, live, options, desired))
            if saved is not None:
                check_saved_plan(saved, planned, mixops=project.invocation, planfile=saved_from)
                planned = Planned(stack, live, planned.plan.model_copy(update={"tests": saved.tests}))
            if tests != "none" and saved is None and stack.tests:
                from mixops.ports.testrunner import TestRunner

                outcomes = await TestRunner(client, stack, budget=budget).plan_tests(
                    planned.plan, planned.live, select=tests, pattern=test_pattern
                )
                planned.plan = planned.plan.model_copy(update={"tests": outcomes})
            return planned
    except Exception:
        # Connecting failed (no API key, say) while the manifests were loading: if they
        # are bad too, that comes first, as it would have in a sequential run.
        if loading is not None:
            await asyncio.wait([loading])
            bad_manifests = loading.exception()
            if bad_manifests is not None:
                raise bad_manifests from None
        raise


# A saved plan holds one step per resource (about 1.5 KB each): 64 MiB is some 40,000
# resources. Reading stops there, so a device or endless file is refused in bounded memory.
PLAN_FILE_MAX_BYTES = 64 * 1024 * 1024


def load_saved_plan(path: Path) -> Plan:
    where = f"cannot read plan file {path.as_posix()}"
    try:
        with path.open("rb") as handle:
            raw = handle.read(PLAN_FILE_MAX_BYTES + 1)
    except OSError as err:
        raise MixopsError(f"{where}: {err.strerror or err}") from None
    if len(raw) > PLAN_FILE_MAX_BYTES:
        raise MixopsError(
            f"{where}: it is larger than {PLAN_FILE_MAX_BYTES // (1024 * 1024)} MiB, too large for a plan"
        )
    try:
        data = json.loads(raw.decode("utf-8"))
    except RecursionError:
        raise MixopsError(f"{where}: it is nested too deeply to be a plan") from None
    except ValueError as err:
        raise MixopsError(f"{where}: {err}") from None
    try:
        return Plan.from_json(data)
    except PlanError as err:
        raise PlanError(f"cannot use plan file {path.as_posix()}: {err}") from None


def check_saved_plan(saved: Plan, fresh: Planned, *, mixops: str = "mixops", planfile: Path | None = None) -> None:
    """Refuse a saved plan whose manifests or live objects changed since it was made, or
    whose steps differ from the plan computed now.

    `mixops` and `planfile` (the file as the user named it) make the commands the refusal
    says to run (`Project.invocation`)."""
    env = shell_word(fresh.stack.environment)
    again = f"run `{mixops} plan --env {env}` again"
    reasons = []
    if saved.environment != fresh.stack.environment or saved.namespace != fresh.live.namespace:
        reasons.append(f"it was made for environment {saved.environment!r} / namespace {saved.namespace!r}")
    if saved.manifest_digest != fresh.plan.manifest_digest:
        then = printable(saved.manifest_digest)  # read from the file, as the keys below are
        reasons.append(f"the manifests changed (digest {then} when planned, {fresh.plan.manifest_digest} now)")
    now = fresh.plan.fingerprints
    for raw in sorted(set(saved.fingerprints) | set(now)):
        before, after = saved.fingerprints.get(raw), now.get(raw)
        if before == after:
            continue
        key = printable(raw)
        if before is None:
            reasons.append(f"{key} appeared in the namespace")
        elif after is None:
            reasons.append(f"{key} disappeared from the namespace")
        else:
            reasons.append(f"{key} changed in the namespace")
    if saved.target != fresh.plan.target:
        reasons.append(f"it was made for target {saved.target!r}, this environment is {fresh.plan.target!r}")
    if reasons:
        raise StalePlanError("the saved plan is stale and was not applied:\n  " + "\n  ".join(reasons) + "\n" + again)
    differences, flags = _step_differences(saved, fresh.plan)
    if flags and not differences:
        raise StalePlanError(_backfill_flags_refusal(saved, fresh.plan, flags, mixops, planfile, env))
    differences += flags
    if differences:
        missing = _missing_flags(saved, fresh.plan)
        where = shell_word(planfile.as_posix()) if planfile is not None else "PLAN_FILE"
        why = (
            f"it has steps only {' and '.join(missing)} make; give {'them' if len(missing) > 1 else 'it'} again "
            f"when applying it: {mixops} apply {where} --env {env} {' '.join(missing)}"
            if missing
            else "was the file edited?"
        )
        raise StalePlanError(
            f"the saved plan differs from the plan computed now and was not applied ({why}):\n  "
            + "\n  ".join(differences)
            + "\n"
            + again
        )


def _missing_flags(saved: Plan, fresh: Plan) -> list[str]:
    """The plan flags a saved plan's steps show it was made with and the plan now was not:
    deletes of owned resources come from --prune, takeovers from --adopt."""
    missing = []
    if any(s.action == "delete" for s in saved.steps) and not any(s.action == "delete" for s in fresh.steps):
        missing.append("--prune")
    if any(s.adopt for s in saved.steps) and not any(s.adopt for s in fresh.steps):
        missing.append("--adopt")
    return missing


def _backfill_flags_refusal(
    saved: Plan, fresh: Plan, flags: list[str], mixops: str, planfile: Path | None, env: str
) -> str:
    """The refusal of a saved plan that differs from the plan now only in backfills `--backfill`
    asked for on one side: no edit of the file, so no accusation; the commands that go ahead."""

    def asked(plan: Plan) -> str:
        return "".join(
            f" --backfill {shell_word(_backfill_flag(s.name))}"
            for s in plan.steps
            if s.action == "backfill" and ASKED_BACKFILL in s.backfill_due
        )

    where = shell_word(planfile.as_posix()) if planfile is not None else "PLAN_FILE"
    again = asked(fresh)
    replan = (
        f"; or, to apply with the flags given now, plan again with them: {mixops} plan --env {env}{again} --out {where}"
    )
    return (
        "the saved plan was not applied: it was planned with other --backfill flags than this apply was "
        "given, and apply runs exactly the file's steps (it adds or drops no backfill):\n  "
        + "\n  ".join(flags)
        + "\ngive the --backfill flags it was planned with (and only those) when applying it: "
        + f"{mixops} apply {where} --env {env}{asked(saved)}"
        + (replan if again else "")
    )


def _backfill_flag(name: str) -> str:
    """`--backfill`'s value for a backfill step's name (`products/taxonomy/tags` -> `products/tags`)."""
    parts = name.split("/")
    return f"{parts[0]}/{parts[2]}" if len(parts) == 3 else name


def _step_differences(saved: Plan, fresh: Plan) -> tuple[list[str], list[str]]:
    """Every step on which the two plans disagree: action, changed fields, ids, anything apply reads.

    Second, apart: backfill steps that one side has only because `--backfill` asked for them
    there (given when planning and not when applying, or the other way round)."""

    def comparable(step: Step) -> str:
        data = step_json(step)
        data.pop("desired", None)  # display only, and equal whenever the manifest digest is
        if step.action == "backfill":
            # How many documents the task will enrich grows with the collection's traffic;
            # the step does the same either way. (A delete's or replace's count is compared:
            # documents that appeared since the plan would be lost unannounced.) Nor does
            # it matter whether --backfill asked too for a backfill that is due anyway.
            data.pop("documents", None)
            data["backfill_due"] = [d for d in step.backfill_due if d != ASKED_BACKFILL]
        return json.dumps(data, sort_keys=True, default=str)

    def only_asked(step: Step) -> bool:
        return step.action == "backfill" and step.backfill_due == (ASKED_BACKFILL,)

    mine = {s.key: s for s in saved.steps}
    now = {s.key: s for s in fresh.steps}
    out: list[str] = []
    flags: list[str] = []
    for key in sorted(set(mine) | set(now)):
        kind, name = key
        a, b = mine.get(key), now.get(key)
        if b is not None and a is None and only_asked(b):
            flags.append(
                f"backfill {name!r}: this apply asks for it (--backfill {shell_word(_backfill_flag(name))}), "
                "the file has no such step (it was planned without)"
            )
        elif a is not None and b is None and only_asked(a):
            flags.append(
                f"backfill {name!r}: the file has this step (--backfill {shell_word(_backfill_flag(name))} "
                "when planning), this apply does not ask for it"
            )
        elif b is not None and a is None:
            out.append(f"{kind} {name!r}: the plan now says {b.action}, the file has no such step")
        elif a is not None and b is None:
            out.append(f"{kind} {name!r}: the file says {a.action}, the plan now has no such step")
        elif a is None or b is None:
            continue
        elif a.action != b.action:
            out.append(f"{kind} {name!r}: the file says {a.action}, the plan now says {b.action}")
        elif comparable(a) != comparable(b):
            out.append(f"{kind} {name!r}: the file's {a.action} step differs (changed fields or ids)")
    ordered = [[s.key for s in p.steps if not only_asked(s)] for p in (saved, fresh)]
    if not out and ordered[0] != ordered[1]:
        out.append("the file's steps are duplicated or in another order")
    return out, flags


async def plan_and_apply(
    project: Project,
    env_name: str,
    options: PlanOptions,
    *,
    parallelism: int = 8,
    apply: bool = False,
    saved: Plan | None = None,
    saved_from: Path | None = None,
    confirm: Callable[[Plan], bool] = lambda _p: True,
    emit: Callable[[str], None] = lambda _line: None,
    lock_timeout: float = 0.0,
    lease_ttl: float = DEFAULT_TTL,
    tests: TestSelect = "none",
    test_pattern: str | None = None,
) -> tuple[Planned, ApplyReport | None]:
    """Plan, and with `apply` converge: under the stack's lease, stamping the applied digest.

    The lease is taken BEFORE live state is read, so a second apply plans on
    what the first one left (never on a stale read that would duplicate work).

    `tests` (not "none"): a plan runs the selected tests against the desired and
    live configs into `plan.tests`; an apply runs them against the applied
    resources into `Planned.applied_tests`. `saved`: a saved plan, applied only if the plan now
    is the same (`check_saved_plan`); `saved_from`: its file, as the user named it.
    """
    if not apply:
        planned = await _plan_only(
            project,
            env_name,
            options,
            parallelism=parallelism,
            saved=saved,
            saved_from=saved_from,
            tests=tests,
            test_pattern=test_pattern,
        )
        return planned, None
    info = describe(project, env_name)
    budget = project.config.environments[env_name].test_budget
    stack = load_stack(project, env_name)  # validated before the lease is taken: bad input changes nothing
    async with (
        connect(project, env_name, parallelism=parallelism, secrets=stack.secrets) as client,
        _lock(client, project, env_name, lease_ttl).hold(lock_timeout, emit) as lease,
    ):
        check = functools.partial(check_saved_plan, mixops=project.invocation, planfile=saved_from)
        planned = await _planned(client, stack, info.namespace, options, saved, check)
        report = None
        runner: TestRunner | None = None
        if tests != "none" and stack.tests:
            from mixops.ports.testrunner import TestRunner

            runner = TestRunner(client, stack, budget=budget, mixops=project.invocation)
        prove = _prover(runner, planned.live, test_pattern) if runner is not None else None
        applier = Applier(client, stack, planned.live, emit, prove=prove, guard=lease.check, mixops=project.invocation)
        if planned.plan.has_changes:
            # In a thread: a prompt must not stall the loop that renews the lease.
            if not await asyncio.to_thread(confirm, planned.plan):
                return planned, None
            lease.check()
            report = await applier.run(planned.plan)
        lease.check()
        await stamp_applied(client, stack, info.namespace, None if report else planned.live)
        if runner is not None:
            lease.check()
            changed = {s.key for s in planned.plan.changes if s.action != "delete"}
            planned.applied_tests = await runner.applied_tests(
                applier.ids,
                applier.collections,
                pattern=test_pattern,
                select="all" if tests == "all" else "changed",
                changed=changed,
            )
            if test_pattern is None and len(planned.applied_tests) == len(stack.tests):
                # The whole test set ran against what was just applied: record it for promotion,
                # exactly as `mixops test` would (same digest, same tests).
                await record_run(client, stack, info.namespace, planned.applied_tests)
        lease.check()
        return planned, report


def _lock(client: MixpeekClient, project: Project, env_name: str, ttl: float) -> Lease | NoLock:
    """The lock an apply takes in the environment (its `lock` setting)."""
    again = f"{project.invocation} plan --env {shell_word(env_name)}"  # what a lost lease says to run
    return stack_lock(
        client, project.config.stack, project.config.environments[env_name].lock, ttl=ttl, check_with=again
    )


def _prover(runner: TestRunner, live: LiveState, pattern: str | None) -> Prover:
    """A replacement's own tests against its temporary id, under the run's test budget."""
    from mixops.ports.testrunner import TestRunner, target_of

    collections = {name: c.id for name, c in live.collections.items()}

    async def prove(key: tuple[str, str], ids: Mapping[tuple[str, str], str]) -> tuple[TestOutcome, ...]:
        own = [t for t in runner.stack.tests if target_of(t) == key]
        if not own:
            return ()
        view = TestRunner(runner.client, dataclasses.replace(runner.stack, tests=own), mixops=runner.mixops)
        view.budget = runner.budget  # one budget for everything this apply runs
        return await view.applied_tests(ids, collections, pattern=pattern, select="all")

    return prove


async def _planned(
    client: MixpeekClient,
    stack: Stack,
    namespace: str,
    options: PlanOptions,
    saved: Plan | None,
    check: Callable[[Plan, Planned], None],
) -> Planned:
    planned = await make_plan(client, stack, namespace, options)
    if saved is not None:
        # What runs is the plan computed now, which the check found equal to the file:
        # a saved plan can only be refused, never widen what apply does.
        check(saved, planned)
    return planned
