"""Apply a plan: walk its steps against the API (I/O port).

Creates, updates and new versions run top-down in dependency waves, the
steps of one wave concurrently (bounded by the client's parallelism).
Replacements never delete first: the replacement is created under a
temporary name, dependents are re-pointed to it in later waves, and only
then is the old resource deleted and the new one renamed. Deletes run last,
dependents before what they depend on. After a failure no new step starts;
the report says exactly what was done and what was not.

Re-running converges after any interruption: a replacement left under its
temporary name is recovered (renamed) or cleaned up by the next plan.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mixops.core.bodies import create_body, patch_body, rename_body, spec_of, version_body
from mixops.core.live import TEMP_SUFFIX, LiveState
from mixops.core.plan import Plan, Step
from mixops.core.stack import Stack
from mixops.errors import ApiError, ApplyError, MixopsError
from mixops.ports.client import MixpeekClient

ID_FIELD = {"retriever": "retriever_id", "taxonomy": "taxonomy_id", "cluster": "cluster_id"}
PATH = {"retriever": "retrievers", "taxonomy": "taxonomies", "cluster": "clusters"}
CREATE_ATTEMPTS = 5
VERB = {"create": "created", "update": "updated", "version": "new version", "replace": "replaced", "delete": "deleted"}


@dataclass
class StepResult:
    step: Step
    status: str  # done | failed | not_started
    detail: str = ""
    seconds: float = 0.0
    new_id: str | None = None


@dataclass(repr=False)
class ApplyReport:
    results: list[StepResult] = field(default_factory=list)

    # Short on purpose: see the hazard noted at Plan.__repr__ (core/plan.py).
    def __repr__(self) -> str:
        return f"ApplyReport({self.summary()})"

    @property
    def failed(self) -> list[StepResult]:
        return [r for r in self.results if r.status == "failed"]

    def summary(self) -> str:
        done = sum(1 for r in self.results if r.status == "done")
        failed = len(self.failed)
        pending = sum(1 for r in self.results if r.status == "not_started")
        return f"{done} done, {failed} failed, {pending} not started"

    def lines(self) -> list[str]:
        out = []
        for r in self.results:
            label = f"{r.step.marker} {r.step.kind} {r.step.name}"
            if r.status == "done":
                out.append(f"  done         {label}: {r.detail}")
            elif r.status == "failed":
                out.append(f"  FAILED       {label}: {r.detail}")
            else:
                out.append(f"  not started  {label}")
        return out


class Applier:
    """Executes one plan. `emit` receives one progress line per finished step."""

    def __init__(
        self,
        client: MixpeekClient,
        stack: Stack,
        live: LiveState,
        emit: Callable[[str], None] = lambda _line: None,
    ) -> None:
        self.client = client
        self.stack = stack
        self.emit = emit
        self.owner = stack.project.stack
        # What apply writes already carries the applied digest, so stamping skips it afterwards.
        self.stamp = {"mixops_applied": stack.digest()}
        self.ids: dict[tuple[str, str], str] = {k: r.id for k, r in live.resources.items()}
        self.collections = {name: c.id for name, c in live.collections.items()}
        self.live = live
        self.failed = False

    # --- id resolution --------------------------------------------------------------

    def to_id(self, kind: str, name: str) -> str:
        if kind == "collection":
            return self.collections.get(name, name)
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
        forward = [s for s in active if s.action != "delete"]
        waves = sorted({s.wave for s in forward})
        phases: list[list[tuple[Step, str]]] = [[(s, "forward") for s in forward if s.wave == w] for w in waves]
        replaced = [s for s in forward if s.action == "replace"]
        if replaced:
            phases.append([(s, "finalise") for s in replaced])
        phases += self._delete_phases([s for s in active if s.action == "delete"])
        for phase in phases:
            if self.failed:
                break
            await asyncio.gather(*(self._run_step(step, part, results) for step, part in phase))
        report.results = [results[s.key] for s in active]
        if report.failed:
            raise ApplyError(
                "apply stopped after a failure: " + report.summary() + "\n" + "\n".join(report.lines()), report
            )
        return report

    def _delete_phases(self, deletes: list[Step]) -> list[list[tuple[Step, str]]]:
        """Bottom-up: a resource is deleted after everything (being deleted) that references it."""
        from mixops.core.refpaths import iter_refs

        keys = {s.key for s in deletes}
        referenced_by: dict[tuple[str, str], set[tuple[str, str]]] = {k: set() for k in keys}
        for s in deletes:
            live = self.live.resources.get(s.key)
            if live is None:
                continue
            for _, ref_kind, ref_name in iter_refs(s.kind, live.spec):
                if (ref_kind, ref_name) in keys:
                    referenced_by[(ref_kind, ref_name)].add(s.key)
        phases: list[list[tuple[Step, str]]] = []
        remaining = {s.key: s for s in deletes}
        while remaining:
            ready = [s for k, s in remaining.items() if not (referenced_by[k] & remaining.keys())]
            if not ready:  # a cycle among deletes: break it deterministically
                ready = [remaining[min(remaining)]]
            phases.append([(s, "delete") for s in ready])
            for s in ready:
                remaining.pop(s.key)
        return phases

    async def _run_step(self, step: Step, part: str, results: dict[tuple[str, str], StepResult]) -> None:
        if self.failed:
            return
        result = results[step.key]
        started = time.perf_counter()
        try:
            detail = await self._execute(step, part, result)
        except Exception as err:
            # An unexpected error (a KeyError on an odd response shape) must not escape the wave:
            # the siblings still finish, the report survives, and no new step starts.
            self.failed = True
            result.status = "failed"
            result.detail = str(err) if isinstance(err, MixopsError) else f"internal error: {type(err).__name__}: {err}"
            result.seconds = time.perf_counter() - started
            self.emit(f"{step.marker} {step.kind} {step.name}: FAILED: {result.detail}")
            return
        result.seconds += time.perf_counter() - started
        if part == "forward" and step.action == "replace":
            self.emit(f"{step.marker} {step.kind} {step.name}: replacement created ({detail})")
            return
        result.status = "done"
        result.detail = detail
        self.emit(f"{step.marker} {step.kind} {step.name}: {detail} [{result.seconds:.2f}s]")

    async def _execute(self, step: Step, part: str, result: StepResult) -> str:
        kind, name = step.kind, step.name
        if part == "delete":
            return await self._delete(kind, step.live_id)
        res = self.stack.resources(kind)[name]  # type: ignore[arg-type]
        spec = spec_of(res)
        if part == "finalise":
            # The dependents now point at the replacement: drop the old one, take its name.
            await self._delete(kind, step.live_id)
            new_id = self.ids[(kind, name)]
            await self._patch(kind, new_id, rename_body(kind, name))
            return f"replaced ({step.live_id} -> {new_id})"
        if step.action == "create":
            created = await self._create(kind, spec, name)
            self.ids[(kind, name)] = created
            result.new_id = created
            return f"created ({created})"
        if step.action == "replace":
            temp = name + TEMP_SUFFIX
            stale = self.live.resources.get((kind, temp))
            if stale is not None and stale.owner_stack == self.owner:
                await self._delete(kind, stale.id)  # left by an interrupted apply
            created = await self._create(kind, spec, temp)
            self.ids[(kind, name)] = created
            result.new_id = created
            return f"created {created} as {temp}"
        assert step.live_id is not None
        if step.action == "version":
            await self.client.create_taxonomy_version(step.live_id, version_body(spec, self.to_id))
        body = patch_body(kind, spec, self.owner, self.to_id, self.stamp)
        if step.recover_from:
            body.update(rename_body(kind, name))
        await self._patch(kind, step.live_id, body)
        return VERB[step.action]

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
        else:
            await self.client.patch_cluster(resource_id, body)

    async def _delete(self, kind: str, resource_id: str | None) -> str:
        assert resource_id is not None
        try:
            if kind == "retriever":
                await self.client.delete_retriever(resource_id)
            elif kind == "taxonomy":
                await self.client.delete_taxonomy(resource_id)
            else:
                await self.client.delete_cluster(resource_id)
        except ApiError as err:
            if err.status != 404:  # already gone (a retried DELETE that landed): converged
                raise
        return "deleted"
