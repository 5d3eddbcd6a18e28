"""Apply a plan: walk its steps against the API (I/O port).

Creates, updates and new versions run top-down in dependency waves, the
steps of one wave concurrently (bounded by the client's parallelism).
Replacements never delete first: the replacement is created under a
temporary name and proven (its own tests run against the temporary id; a
cluster replacement is executed and waited for, so its outputs exist), then
dependents are re-pointed to it in later waves, and only then is the old
resource deleted and the new one renamed. When the replacement fails its
tests, nothing is re-pointed or deleted: the old resource keeps serving and
apply exits 3 (`ReplacementTestsFailed`).

The old copies of replaced resources and the plan's deletes go bottom-up in
one ordering: an old object is deleted after every old object (going away)
that references it. The old copy of a replaced cluster is deleted with
`cascade_output_collections=false`: its output collections may hold documents
someone enriched or points at, and mixops manages only the collections the
manifests declare, so it never destroys them as a side effect of a swap (remove them by hand once the
replacement's outputs serve). A cluster deleted on purpose (--prune) keeps the
API's default and takes its outputs with it.

After a failure no new step starts; the report says exactly what was done
and what was not. An unexpected error in one step (a bug) is recorded the
same way. A `guard` (the lease) is checked before every phase.

Re-running converges after any interruption: a replacement left under its
temporary name is recovered (renamed), reused (patched to the desired spec
rather than deleted, since a dependent may already point at it), or cleaned
up by the next plan.

The applier decides nothing: every action, every field it sends and what happens
to a leftover temporary come from the plan's steps, which the rule book
(core/surfaces.py) labelled. What the plan says is what apply does.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mixops.core.bodies import (
    application_entry,
    changed_keys,
    create_body,
    patch_body,
    rename_body,
    spec_of,
    version_body,
    with_entry,
    without_entry,
)
from mixops.core.live import TEMP_SUFFIX, LiveState
from mixops.core.models.collection import APPLICATION_LIST, APPLICATION_TARGET
from mixops.core.normalise import APPLICATIONS_KEY
from mixops.core.outcomes import Status, TestOutcome
from mixops.core.plan import FieldChange, Plan, Step
from mixops.core.refpaths import iter_refs
from mixops.core.stack import Stack
from mixops.errors import ApiError, ApplyError, MixopsError, ReplacementTestsFailed
from mixops.ports.client import MixpeekClient
from mixops.ports.userpaths import shell_word

Key = tuple[str, str]
# Runs the tests of one resource against the given ids (the replacement's temporary id among them).
Prover = Callable[[Key, Mapping[Key, str]], Awaitable[tuple[TestOutcome, ...]]]

ID_FIELD = {
    "retriever": "retriever_id",
    "taxonomy": "taxonomy_id",
    "cluster": "cluster_id",
    "collection": "collection_id",
}
PATH = {"retriever": "retrievers", "taxonomy": "taxonomies", "cluster": "clusters", "collection": "collections"}
CREATE_ATTEMPTS = 5
# A backfill is a task over every document of a collection (the API quotes 1,000 to 5,000 a
# second): waited for longer than the other tasks apply starts.
BACKFILL_TIMEOUT = 1800.0
# Answers to POST .../apply-taxonomy that mean the API does not offer the route (never a
# refusal of this request: the collection and the entry were just read or written).
NO_ROUTE = (404, 405, 501)
# An entry write that another writer keeps overwriting is tried this many times, then fails.
ENTRY_WRITES = 3
VERB = {"create": "created", "update": "updated", "version": "new version", "replace": "replaced", "delete": "deleted"}


@dataclass
class StepResult:
    step: Step
    # done | failed | skipped | not_started | unfinished (a replacement created, not swapped in)
    status: str
    detail: str = ""
    seconds: float = 0.0
    new_id: str | None = None
    tests: tuple[TestOutcome, ...] = ()  # the replacement's tests before the swap
    tests_failed: bool = False


def _records(collection: Mapping[str, Any]) -> dict[str, Any]:
    """The per-entry ownership records in a collection's metadata (core/normalise.APPLICATIONS_KEY)."""
    records = (collection.get("metadata") or {}).get(APPLICATIONS_KEY)
    return dict(records) if isinstance(records, dict) else {}


def _replaced_target(live_id: str | None, collection_id: str, target: str) -> str | None:
    """The applied id an entry named `live_id` (`<collection id>/<type>/<applied id>`) had before
    this apply re-pointed it to `target`, when it sits on the same collection; else None."""
    if not live_id or live_id.count("/") < 2:
        return None
    on, _, before = live_id.split("/", 2)
    return before if on == collection_id and before != target else None


def _with_record(collection: Mapping[str, Any], record: str, owner: str | None) -> dict[str, Any]:
    """The collection's metadata with `record` set to `owner` (removed when None), all else kept."""
    records = {k: v for k, v in _records(collection).items() if k != record}
    if owner is not None:
        records[record] = owner
    return {**dict(collection.get("metadata") or {}), APPLICATIONS_KEY: records}


def _task_figures(task: Mapping[str, Any]) -> str:
    """What a finished task says of itself, as TaskResponse documents it: its `error`, and its
    `outputs` (result metrics, free-form per task type) shown as they are."""
    parts = []
    error = task.get("error")
    if error:
        parts.append(f"error: {error}")
    outputs = task.get("outputs")
    if outputs:
        parts.append("outputs: " + json.dumps(outputs, sort_keys=True, default=str))
    return "".join(f"; {p}" for p in parts)


def _first_reason(outcome: TestOutcome) -> str:
    failures = outcome.desired.failures if outcome.desired is not None else ()
    return failures[0] if failures else outcome.reason or str(outcome.status)


@dataclass(repr=False)
class ApplyReport:
    results: list[StepResult] = field(default_factory=list)

    # Short on purpose: see the hazard noted at Plan.__repr__ (core/plan.py).
    def __repr__(self) -> str:
        return f"ApplyReport({self.summary()})"

    @property
    def failed(self) -> list[StepResult]:
        return [r for r in self.results if r.status == "failed"]

    @property
    def skipped(self) -> list[StepResult]:
        return [r for r in self.results if r.status == "skipped"]

    def summary(self) -> str:
        done = sum(1 for r in self.results if r.status == "done")
        failed = len(self.failed)
        pending = sum(1 for r in self.results if r.status == "not_started")
        skipped = f", {len(self.skipped)} skipped" if self.skipped else ""
        unfinished = sum(1 for r in self.results if r.status == "unfinished")
        started = f", {unfinished} unfinished" if unfinished else ""
        return f"{done} done, {failed} failed{skipped}{started}, {pending} not started"

    def lines(self) -> list[str]:
        out = []
        for r in self.results:
            label = f"{r.step.marker} {r.step.kind} {r.step.name}"
            if r.status == "done":
                out.append(f"  done         {label}: {r.detail}")
            elif r.status == "failed":
                out.append(f"  FAILED       {label}: {r.detail}")
            elif r.status == "skipped":
                out.append(f"  SKIPPED      {label}: {r.detail}")
            elif r.status == "unfinished":
                out.append(
                    f"  unfinished   {label}: replacement created ({r.detail}), not swapped in: the old one is still "
                    "there and the replacement keeps its temporary name (the next apply finishes it)"
                )
            else:
                out.append(f"  not started  {label}")
        return out


class StepSkipped(Exception):
    """A step the API cannot take (an optional route it does not offer): skipped, with why."""


class Applier:
    """Executes one plan. `emit` receives one progress line per finished step."""

    def __init__(
        self,
        client: MixpeekClient,
        stack: Stack,
        live: LiveState,
        emit: Callable[[str], None] = lambda _line: None,
        *,
        prove: Prover | None = None,
        guard: Callable[[], None] = lambda: None,
        mixops: str = "mixops",
    ) -> None:
        """`prove` runs a replacement's tests before the swap (None: no tests); `guard` raises
        (a MixopsError) when apply must not start another phase, e.g. the lease is gone;
        `mixops` starts the commands a failure says to run (`Project.invocation`)."""
        self.mixops = mixops
        self.client = client
        self.prove = prove
        self.guard = guard
        self.stack = stack
        self.emit = emit
        self.owner = stack.project.stack
        # What apply writes already carries the applied digest, so stamping skips it afterwards.
        self.stamp = {"mixops_applied": stack.digest()}
        self.ids: dict[tuple[str, str], str] = {k: r.id for k, r in live.resources.items()}
        self.collections = {name: c.id for name, c in live.collections.items()}
        self.live = live
        self.failed = False
        # Application entries are read-modify-writes of their collection's lists: one at a time
        # per collection, or two entries attached in one wave would overwrite each other.
        # Another apply (another stack) is not held by these: see `_write_entry`.
        self._entry_locks: dict[str, asyncio.Lock] = {}
        # Collections replaced in this apply: their replacement starts empty (the API copies no
        # documents), so nothing reading it can be proven against it before the swap.
        self._empty_replacements: set[str] = set()

    # --- id resolution --------------------------------------------------------------

    def to_id(self, kind: str, name: str) -> str:
        if kind == "collection":
            # A collection of the manifests (created in this apply, or its replacement) first.
            return self.ids.get((kind, name)) or self.collections.get(name, name)
        return self.ids.get((kind, name), name)

    # --- the walk ---------------------------------------------------------------------

    async def run(self, plan: Plan) -> ApplyReport:
        report = ApplyReport()
        results: dict[tuple[str, str], StepResult] = {}
        active = [s for s in plan.steps if s.action != "noop"]
        for s in active:
            results[s.key] = StepResult(s, "not_started")
            if s.recover_from and s.live_id:
                # The live state knows this resource only under its temporary name; dependents
                # resolve the real name, which it takes in this very apply.
                self.ids[s.key] = s.live_id
        forward = [s for s in active if s.action not in ("delete", "backfill")]
        waves = sorted({s.wave for s in forward})
        phases: list[list[tuple[Step, str]]] = [[(s, "forward") for s in forward if s.wave == w] for w in waves]
        going = [(s, "finalise") for s in forward if s.action == "replace"]
        going += [(s, "delete") for s in active if s.action == "delete"]
        phases += self._bottom_up(going)
        # Last: every entry is attached and every collection has its final name and id.
        backfills = [(s, "backfill") for s in active if s.action == "backfill"]
        if backfills:
            phases.append(backfills)
        stopped: MixopsError | None = None
        for phase in phases:
            if self.failed:
                break
            try:
                self.guard()
            except MixopsError as err:
                stopped = err
                break
            await asyncio.gather(*(self._run_step(step, part, results) for step, part in phase))
        report.results = [results[s.key] for s in active]
        if stopped is not None:
            raise ApplyError(
                f"apply stopped before its next phase: {stopped}\n{report.summary()}\n" + "\n".join(report.lines()),
                report,
            )
        if report.failed:
            error = ReplacementTestsFailed if all(r.tests_failed for r in report.failed) else ApplyError
            raise error("apply stopped after a failure: " + report.summary() + "\n" + "\n".join(report.lines()), report)
        return report

    def _bottom_up(self, going: list[tuple[Step, str]]) -> list[list[tuple[Step, str]]]:
        """Old objects leave bottom-up: each after every object (also leaving) that references it.

        Both the old copies of replaced resources (finalise) and the plan's deletes
        are here, in one order: a pruned taxonomy that used a replaced retriever
        goes before that retriever's old copy.
        """
        keys = {s.key for s, _ in going}
        referenced_by: dict[Key, set[Key]] = {k: set() for k in keys}
        for s, _ in going:
            live = self.live.resources.get(s.key)
            if live is None:
                continue
            for _, ref_kind, ref_name in iter_refs(s.kind, live.spec):
                if (ref_kind, ref_name) in keys and (ref_kind, ref_name) != s.key:
                    referenced_by[(ref_kind, ref_name)].add(s.key)
        phases: list[list[tuple[Step, str]]] = []
        remaining = {s.key: (s, part) for s, part in going}
        while remaining:
            ready = [sp for k, sp in remaining.items() if not (referenced_by[k] & remaining.keys())]
            if not ready:  # a cycle among them: break it deterministically
                ready = [remaining[min(remaining)]]
            phases.append(ready)
            for s, _ in ready:
                remaining.pop(s.key)
        return phases

    async def _run_step(self, step: Step, part: str, results: dict[tuple[str, str], StepResult]) -> None:
        if self.failed:
            return
        result = results[step.key]
        started = time.perf_counter()
        try:
            detail = await self._execute(step, part, result)
        except StepSkipped as err:
            self._stopped(step, result, started, "skipped", str(err))
            return
        except ReplacementTestsFailed as err:
            result.tests_failed = True
            self._stopped(step, result, started, "failed", str(err))
            return
        except Exception as err:
            # An unexpected error (a KeyError on an odd response shape) must not escape the wave:
            # the siblings still finish, the report survives, and no new step starts.
            detail = str(err) if isinstance(err, MixopsError) else f"internal error: {type(err).__name__}: {err}"
            self._stopped(step, result, started, "failed", detail)
            return
        result.seconds += time.perf_counter() - started
        if part == "forward" and step.action == "replace":
            # Half of the step: the swap (finalise) comes after the dependents are re-pointed.
            result.status = "unfinished"
            result.detail = detail
            self.emit(f"{step.marker} {step.kind} {step.name}: replacement created ({detail})")
            return
        result.status = "done"
        result.detail = detail
        self.emit(f"{step.marker} {step.kind} {step.name}: {detail} [{result.seconds:.2f}s]")

    def _stopped(self, step: Step, result: StepResult, started: float, status: str, detail: str) -> None:
        """A step that ended without completing (`skipped` or `failed`): its result and its line.

        A failure starts no further step.
        """
        if status == "failed":
            self.failed = True
        result.status = status
        result.detail = detail
        result.seconds = time.perf_counter() - started
        self.emit(f"{step.marker} {step.kind} {step.name}: {status.upper()}: {detail}")

    async def _execute(self, step: Step, part: str, result: StepResult) -> str:
        kind, name = step.kind, step.name
        if part == "delete":
            owned = self.live.resources.get(step.key)
            if owned is None or owned.id != step.live_id or owned.owner_stack != self.owner:
                # Plans only delete what this stack owns; this holds whatever a plan file says.
                raise ApplyError(
                    f"refusing to delete {kind} {name!r} ({step.live_id}): not owned by stack {self.owner!r}"
                )
            return await self._delete(kind, step.live_id)
        if kind == "backfill":
            return await self._backfill(step)
        res = self.stack.resources(kind)[name]
        spec = spec_of(res)
        if kind == "application":
            return await self._attach(spec, step)
        if part == "finalise":
            # The dependents now point at the replacement: drop the old one, take its name.
            await self._delete(kind, step.live_id, keep_outputs=True)
            new_id = self.ids[(kind, name)]
            await self._patch(kind, new_id, rename_body(kind, name))
            if kind == "collection":
                self.collections[name] = new_id
            return f"replaced ({step.live_id} -> {new_id})"
        for entry in step.detach_first:
            # Left by an interrupted apply on a temporary this step deletes or takes over (the plan
            # says which): off the collection before anything writes its lists again.
            await self._detach(entry)
        if step.action == "create":
            new = await self._create(kind, spec, name)
            self.ids[(kind, name)] = new
            if kind == "collection":
                self.collections[name] = new  # what the tests after apply resolve names with
            result.new_id = new
            return f"created ({new})"
        if step.action == "replace":
            temp = name + TEMP_SUFFIX
            created: str | None = None
            if step.reuse_temporary:
                # Left by an interrupted apply, and a dependent may already point at it: the
                # plan found it can be brought to the desired spec in place.
                await self._bring(kind, step.reuse_temporary, spec, step.reuse_changes)
                created = step.reuse_temporary
            elif step.clear_temporary:
                await self._delete(kind, step.clear_temporary)  # the plan found it cannot be patched
            if created is None:
                created = await self._create(kind, spec, temp)
            self.ids[(kind, name)] = created
            if kind == "collection":
                self._empty_replacements.add(name)
            result.new_id = created
            await self._prove(step, created, result)
            how = "reused" if step.reuse_temporary else "created"
            return f"{how} {created} as {temp}"
        assert step.live_id is not None
        if step.action == "version":
            await self.client.create_taxonomy_version(step.live_id, version_body(spec, self.to_id))
        body = patch_body(kind, spec, self.owner, self.to_id, self.stamp, changed=changed_keys(step.changes))
        if step.recover_from:
            body.update(rename_body(kind, name))
        await self._patch(kind, step.live_id, body)
        return VERB[step.action]

    async def _attach(self, spec: dict[str, Any], step: Step) -> str:
        """Put one application entry into its collection's list (added, or replacing the entry for
        the same applied resource) and record it as this stack's; the other entries are kept.

        An entry re-pointed at a replacement (a new id for the same name) also takes the old
        entry and its record off the collection: the old resource is deleted once swapped."""
        app_type = str(spec["type"])
        collection_id = self.to_id("collection", str(spec["collection"]))
        entry = application_entry(spec, self.to_id)
        target_key, list_key = APPLICATION_TARGET[app_type], APPLICATION_LIST[app_type]
        record = f"{app_type}:{entry[target_key]}"
        old = _replaced_target(step.live_id, collection_id, entry[target_key])

        def change(current: Mapping[str, Any]) -> dict[str, Any]:
            entries = list(current.get(list_key) or [])
            metadata = _with_record(current, record, self.owner)
            if old is not None:
                entries = without_entry(entries, target_key, old)
                metadata = _with_record({"metadata": metadata}, f"{app_type}:{old}", None)
            return {list_key: with_entry(entries, target_key, entry), "metadata": metadata}

        def holds(current: Mapping[str, Any]) -> bool:
            # Present and recorded as ours. Its fields are not compared (the API may echo them
            # in another form); an older version written back shows as a change in the next plan.
            items = [e for e in current.get(list_key) or [] if isinstance(e, dict)]
            present = any(e.get(target_key) == entry[target_key] for e in items)
            gone = old is None or not any(e.get(target_key) == old for e in items)
            return present and gone and _records(current).get(record) == self.owner

        await self._write_entry(collection_id, change, holds, f"{app_type} {entry[target_key]} in {list_key}")
        return "attached" if step.action == "create" else "updated"

    async def _detach(self, live_id: str) -> str:
        """Remove one application entry (live id `<collection id>/<type>/<applied id>`) and its record."""
        collection_id, app_type, target_id = live_id.split("/", 2)
        target_key, list_key = APPLICATION_TARGET[app_type], APPLICATION_LIST[app_type]
        record = f"{app_type}:{target_id}"

        def change(current: Mapping[str, Any]) -> dict[str, Any]:
            entries = without_entry(list(current.get(list_key) or []), target_key, target_id)
            return {list_key: entries, "metadata": _with_record(current, record, None)}

        def holds(current: Mapping[str, Any]) -> bool:
            present = any(isinstance(e, dict) and e.get(target_key) == target_id for e in current.get(list_key) or [])
            return not present and record not in _records(current)

        try:
            await self._write_entry(collection_id, change, holds, f"{app_type} {target_id} removed from {list_key}")
        except ApiError as err:
            if err.status != 404:
                raise
        return "deleted"  # (a 404: the collection is gone, and the entry with it)

    async def _write_entry(
        self,
        collection_id: str,
        change: Callable[[Mapping[str, Any]], dict[str, Any]],
        holds: Callable[[Mapping[str, Any]], bool],
        what: str,
    ) -> None:
        """PATCH the collection with `change` of what it holds right now, then read it back until
        `holds` is true of it.

        The API has no conditional write, and another stack's apply (which the lease of this
        stack does not hold off) may write the same lists: between our read and our PATCH, or
        with a read taken before our PATCH that it writes back after it. The read right before
        the PATCH keeps every entry written until then; the read after it finds ours dropped
        by such a write, and writes again. A write of the other kind that lands after that
        last read is not seen (docs/collections.md: what is and is not safe).
        """
        async with self._entry_locks.setdefault(collection_id, asyncio.Lock()):
            current = await self.client.get_collection(collection_id)
            for _ in range(ENTRY_WRITES):
                await self.client.patch_collection(collection_id, change(current))
                current = await self.client.get_collection(collection_id)
                if holds(current):
                    return
        raise ApplyError(
            f"collection {collection_id}: {what} did not hold after {ENTRY_WRITES} writes: another writer keeps "
            "overwriting the collection's application lists (another stack's apply?); run apply again once it is done"
        )

    async def _backfill(self, step: Step) -> str:
        """Run the apply-taxonomy task the plan made a step of, and wait for its end.

        The body is ApplyTaxonomyRequest's one required field; the collection and taxonomy ids
        are those of this apply (a collection created or replaced in it included). Only a
        COMPLETED task is done; any other end fails the step with the task's own figures.
        """
        app = self.stack.applications[step.name]
        collection = app.collection
        taxonomy = str(app.entry()["taxonomy_id"])
        collection_id = self.to_id("collection", collection)
        taxonomy_id = self.to_id("taxonomy", taxonomy)
        try:
            started = await self.client.apply_taxonomy(collection_id, {"taxonomy_id": taxonomy_id})
        except ApiError as err:
            if err.status not in NO_ROUTE:
                raise
            raise StepSkipped(
                f"the API does not offer the backfill (POST /v1/collections/{collection_id}/apply-taxonomy "
                f"answered HTTP {err.status} {err.info.code or err.info.type or ''}".rstrip()
                + f"); documents already in {collection!r} are not enriched by {taxonomy!r}, only those "
                "ingested from now on"
            ) from None
        task_id = str(started["task_id"])
        estimated = started.get("estimated_documents")
        about = f"{estimated} documents estimated" if isinstance(estimated, int) else "no estimate given"
        ended = await self.client.wait_task(task_id, timeout=BACKFILL_TIMEOUT)
        status = str(ended.get("status") or "").upper()
        figures = _task_figures(ended)
        if status == "COMPLETED":
            return f"backfilled {collection!r} with {taxonomy!r}: task {task_id} COMPLETED ({about}{figures})"
        raise ApplyError(
            f"the backfill of {collection!r} with {taxonomy!r} did not complete: task {task_id} ended "
            f"{status or 'without a status'} ({about}{figures}); the entry stays attached and new documents are "
            f"enriched. Run it again with: {self.mixops} apply --env {shell_word(self.stack.environment)} "
            f"--backfill {shell_word(f'{collection}/{taxonomy}')}"
        )

    async def _bring(self, kind: str, resource_id: str, spec: dict[str, Any], changes: tuple[FieldChange, ...]) -> None:
        """Apply `changes` (the plan's, all in place or new version) to the resource `resource_id`."""
        if any(c.surface == "new_version" for c in changes):
            await self.client.create_taxonomy_version(resource_id, version_body(spec, self.to_id))
        body = patch_body(kind, spec, self.owner, self.to_id, self.stamp, changed=changed_keys(changes))
        await self._patch(kind, resource_id, body)

    async def _prove(self, step: Step, new_id: str, result: StepResult) -> None:
        """The replacement works before anything depends on it, or the swap does not happen."""
        kind, name = step.key
        if any(k == "collection" and n in self._empty_replacements for k, n in step.depends_on):
            return  # its collection is replaced too, and empty until documents are written again
        if self.prove is not None:
            entries = await self.prove(step.key, dict(self.ids))
            result.tests = entries
            failing = [e for e in entries if e.status in (Status.FAILED, Status.ERROR)]
            if failing:
                why = "; ".join(f"{e.name}: {_first_reason(e)}" for e in failing)
                raise ReplacementTestsFailed(
                    f"the replacement {name}{TEMP_SUFFIX} ({new_id}) failed {len(failing)} of {len(entries)} "
                    f"test(s) before the swap ({why}); nothing was re-pointed and the old {kind} "
                    f"({step.live_id}) still serves. Fix the manifests and apply again (the replacement is reused)"
                )
            ran = any(e.status is not Status.SKIPPED for e in entries)
        else:
            ran = False
        if kind == "cluster" and not ran:
            # No test executed it: run it once so its outputs exist before the old cluster goes.
            task = await self.client.execute_cluster(new_id)
            done = await self.client.wait_task(str(task["task_id"]))
            if str(done.get("status")).upper() != "COMPLETED":
                raise ApplyError(
                    f"the replacement cluster {name}{TEMP_SUFFIX} ({new_id}) did not execute: task "
                    f"{task['task_id']} ended {done.get('status')} ({done.get('error') or 'no error message'}); "
                    f"the old cluster ({step.live_id}) still serves"
                )

    async def _create(self, kind: str, spec: dict[str, Any], name: str) -> str:
        """Create, surviving an ambiguous failure (the request may have landed).

        The client never repeats a create once it may have reached the server;
        here, after a 5xx or a dropped connection, we look the name up: if our
        resource is there the create landed, otherwise it is safe to send again.
        """
        body = create_body(kind, spec, name, self.owner, self.to_id, self.stamp)
        create = {
            "retriever": self.client.create_retriever,
            "taxonomy": self.client.create_taxonomy,
            "cluster": self.client.create_cluster,
            "collection": self.client.create_collection,
        }[kind]
        for attempt in range(CREATE_ATTEMPTS):
            try:
                out = await create(body)
                return str(out[ID_FIELD[kind]])
            except ApiError as err:
                if err.status not in (0, 500, 502, 503, 504) or attempt == CREATE_ATTEMPTS - 1:
                    raise
                existing = await self._find(kind, name)
                if existing is not None:
                    return existing
        raise AssertionError("unreachable")

    async def _find(self, kind: str, name: str) -> str | None:
        """The id of this stack's resource named `name`, or None when there is none."""
        try:
            found = await self.client.request("GET", f"/v1/{PATH[kind]}/{name}")
        except ApiError as err:
            if err.status == 404:
                return None
            raise
        meta = (found or {}).get("metadata") or {}
        if meta.get("mixops_stack") != self.owner:
            raise ApplyError(f"{kind} {name!r} appeared during apply and is not owned by stack {self.owner!r}")
        return str(found[ID_FIELD[kind]])

    async def _patch(self, kind: str, resource_id: str, body: dict[str, Any]) -> None:
        if kind == "retriever":
            await self.client.patch_retriever(resource_id, body)
        elif kind == "taxonomy":
            await self.client.patch_taxonomy(resource_id, body)
        elif kind == "collection" and "metadata" in body:
            # The new metadata keeps the per-entry application records of every stack as they
            # are now, not as the plan read them: another stack may have attached an entry since.
            async with self._entry_locks.setdefault(resource_id, asyncio.Lock()):
                current = await self.client.get_collection(resource_id)
                records = _records(current)
                meta = {k: v for k, v in body["metadata"].items() if k != APPLICATIONS_KEY}
                await self.client.patch_collection(
                    resource_id, {**body, "metadata": {**meta, **({APPLICATIONS_KEY: records} if records else {})}}
                )
        elif kind == "collection":
            await self.client.patch_collection(resource_id, body)
        else:
            await self.client.patch_cluster(resource_id, body)

    async def _delete(self, kind: str, resource_id: str | None, *, keep_outputs: bool = False) -> str:
        assert resource_id is not None
        try:
            if kind == "retriever":
                await self.client.delete_retriever(resource_id)
            elif kind == "taxonomy":
                await self.client.delete_taxonomy(resource_id)
            elif kind == "collection":
                await self.client.delete_collection(resource_id)
            elif kind == "application":
                return await self._detach(resource_id)
            else:
                await self.client.delete_cluster(resource_id, cascade_output_collections=not keep_outputs)
        except ApiError as err:
            if err.status != 404:  # already gone (a retried DELETE that landed): converged
                raise
        return "deleted"
