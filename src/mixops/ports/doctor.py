"""`mixops doctor`: a read-only preflight of an environment before a first apply.

What it does, in order, each step one or more rows of a `Readiness` report:

1. load the manifests (the offline checks of `mixops validate`);
2. `GET /v1/namespaces/{namespace}` (bearer only): is the key accepted, does the
   namespace exist for it;
3. the four listings the plan reads (`POST /v1/{kind}/list`): do they answer, and
   does the namespace resolve (`X-Namespace-Unresolved` / a `warnings[]` entry,
   which the client turns into an error of type `namespace_unresolved`);
4. the plan's own collection and feature-URI checks (core/collection_checks.py),
   one row per collection and per feature use; then the whole plan, pure, for
   the problems it alone finds (a same-name resource this stack does not own...);
5. the GET routes apply and the tests use, where something exists to read;
6. the optional capabilities: taxonomy versions (listed, never created),
   ad-hoc clustering (only with `probe_execute`, `mixops doctor --probe-execute`: it
   runs one clustering, which costs credits on the hosted API; the plan-time test body,
   `store_results: false`: nothing is stored), ad-hoc retriever execute (its executions list; an execute would
   record one), the lease with `lock: lease` (apply's read-only preflight and the
   current holder; taking it would create a retriever).

Hazard: nothing here may write to the namespace. Routes that only a write could
prove are reported `unknown` with the reason, never probed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote

from mixops.core.collection_checks import check_collections, needs_extractor_catalog
from mixops.core.live import LiveState
from mixops.core.models.tests import ClusterTest, RetrieverTest, TaxonomyTest
from mixops.core.placeholders import mask
from mixops.core.plan import PlanOptions
from mixops.core.readiness import Check, Readiness, Status, counted, joined
from mixops.core.stack import Stack
from mixops.core.surfaces import taxonomy_path
from mixops.core.testbodies import NotRunnable, adhoc_cluster_body
from mixops.core.wording import count
from mixops.errors import ApiError, ManifestError, MissingExtraError, PlanError, Problem, ProjectError
from mixops.ports.capabilities import probe_taxonomy_versions, read_extractor_catalog
from mixops.ports.client import MixpeekClient
from mixops.ports.lease import lock_name, probe_lease
from mixops.ports.live_reader import build_live_state
from mixops.ports.project import Project, load_stack
from mixops.ports.reconcile import build_for
from mixops.ports.target import connect, describe

T = TypeVar("T")

# The listings the live reader makes (ports/live_reader.py).
LISTS: tuple[tuple[str, str], ...] = (
    ("collection", "/v1/collections"),
    ("retriever", "/v1/retrievers"),
    ("taxonomy", "/v1/taxonomies"),
    ("cluster", "/v1/clusters"),
)
PLURAL = {"retriever": "retrievers", "taxonomy": "taxonomies", "cluster": "clusters"}
# SourceConfig's description documents these for users; its enum lists more (taxonomy, cluster,
# direct_upsert, signals, none), which the hosted API may keep for collections it makes itself.
USER_SOURCE_TYPES = frozenset({"bucket", "collection"})
# Answers that say "this route (or this capability) is not here", as opposed to "it failed".
ABSENT = frozenset({404, 405, 422})


def _why(err: ApiError) -> str:
    code = f"/{err.info.code}" if err.info.code else ""
    status = "no answer" if err.status == 0 else f"HTTP {err.status}"
    return f"{status} {err.info.type}{code}: {err.info.message}"


async def _try(aw: Awaitable[T]) -> T | ApiError:
    try:
        return await aw
    except ApiError as err:
        return err


@dataclass
class _Doctor:
    project: Project
    env_name: str
    client: MixpeekClient
    namespace: str
    stack: Stack | None
    probe_execute: bool = False  # run one ad-hoc clustering (it costs credits on the hosted API)
    checks: list[Check] = field(default_factory=list)

    def add(self, area: str, item: str, status: Status, detail: str = "", *, blocking: bool = False) -> None:
        self.checks.append(Check(area, item, status, detail, blocking))

    async def run(self) -> None:
        if not await self._access():
            return
        live = await self._listings()
        if live is None or self.stack is None:
            return
        self._collections(live)
        self._collection_sources(live)
        await self._plan(live)
        await self._routes(live)
        await self._capabilities(live)

    # --- access ---------------------------------------------------------------------

    async def _access(self) -> bool:
        """The key and the namespace; False when nothing further can be asked."""
        path = f"/v1/namespaces/{self.namespace}"
        got = await _try(self.client.get_namespace(self.namespace))
        if not isinstance(got, ApiError):
            self.add("access", "api key", "ok", f"accepted (GET {path})")
            ns_id = got.get("namespace_id")
            self.add("access", f"namespace {self.namespace}", "ok", f"exists ({ns_id})" if ns_id else "exists")
            return True
        if got.status in (401, 403):
            env = self.project.config.environments[self.env_name]
            where = f" (from ${env.api_key_env})" if env.api_key_env else ""
            self.add("access", "api key", "failed", f"refused{where}: {_why(got)}", blocking=True)
            return False
        if got.status == 0:
            self.add("access", "api", "failed", f"cannot reach {self.client.base_url}: {_why(got)}", blocking=True)
            return False
        if got.status == 404:
            self.add("access", "api key", "ok", f"accepted (GET {path} answered 404, not 401)")
            self.add(
                "access",
                f"namespace {self.namespace}",
                "missing",
                f"no namespace {self.namespace!r} for this key: create it, or fix `namespace` in mixops.yaml",
                blocking=True,
            )
            return False
        self.add("access", "api key", "unknown", f"GET {path}: {_why(got)}")
        return True

    async def _listings(self) -> LiveState | None:
        """The plan's four listings; the live state when all answered, in a namespace that resolves."""
        results = await asyncio.gather(*(_try(self.client.list_all(path)) for _, path in LISTS))
        unresolved = [r for r in results if isinstance(r, ApiError) and r.info.type == "namespace_unresolved"]
        if unresolved:
            self.add(
                "access",
                f"namespace {self.namespace}",
                "failed",
                "does not resolve for this key (the API set X-Namespace-Unresolved): an empty listing would "
                "make the plan create everything again; check the key's organisation and `namespace`",
                blocking=True,
            )
            return None
        rows: dict[str, list[dict[str, Any]]] = {}
        for (kind, path), got in zip(LISTS, results, strict=True):
            if isinstance(got, ApiError):
                self.add("routes", f"POST {path}/list", "failed", _why(got), blocking=True)
            else:
                rows[kind] = got
                self.add("routes", f"POST {path}/list", "ok", f"answers ({len(got)} {path.rsplit('/', 1)[1]})")
        if len(rows) < len(LISTS):
            return None
        collections = rows.pop("collection")
        try:
            return build_live_state(self.namespace, rows, collections)
        except PlanError as err:  # several resources under one name
            self.add("plan", "live state", "failed", str(err), blocking=True)
            return None

    # --- what the plan checks -------------------------------------------------------

    def _collections(self, live: LiveState) -> None:
        assert self.stack is not None
        features: dict[tuple[str, str], list[str]] = {}
        problems: dict[tuple[str, str], str] = {}
        for f in check_collections(self.stack, live):
            if f.uri is None:
                if f.problem:
                    self.add("collections", f"collection {f.collection}", "missing", f.problem, blocking=True)
                else:
                    self.add("collections", f"collection {f.collection}", "ok", f"exists ({f.collection_id})")
                continue
            key = (f.collection, f.uri)
            users = features.setdefault(key, [])
            if f.user not in users:
                users.append(f.user)
            if f.problem:
                problems.setdefault(key, f.problem)
        for (collection, uri), users in features.items():
            item = f"feature {uri} on {collection}"
            if (collection, uri) in problems:
                self.add("collections", item, "missing", problems[(collection, uri)], blocking=True)
            else:
                self.add("collections", item, "ok", f"resolves (used by {joined(users)})")

    def _collection_sources(self, live: LiveState) -> None:
        """Declared collections the plan would create with a source type the API lists but does not
        document for users. Informative only: nothing is known to refuse them (DESIGN: unknown
        behaviour degrades, it does not fail)."""
        assert self.stack is not None
        for name, collection in sorted(self.stack.collections.items()):
            kind = collection.source.type
            if kind in USER_SOURCE_TYPES or name in live.collections:
                continue
            self.add(
                "collections",
                f"source of {name}",
                "unknown",
                f"source type {kind!r} is among the API's source types, but only 'bucket' and 'collection' are "
                "documented for users: the hosted API may refuse the create (the embedded backend accepts it)",
            )

    async def _plan(self, live: LiveState) -> None:
        """Build the plan apply would build, without flags; report what only it finds."""
        assert self.stack is not None
        # The collection rows above already show these; the plan row shows only what they do not.
        shown = {_where(p) for f in check_collections(self.stack, live) for p in f.located}
        try:
            plan = await build_for(
                self.client, self.stack, live, PlanOptions(target=describe(self.project, self.env_name).label)
            )
        except PlanError as err:
            others = [p for p in err.problems if _where(p) not in shown]
            if others or not err.problems:
                text = "; ".join(dict.fromkeys(p.render_plain() for p in others)) or str(err)
                self.add("plan", "plan", "failed", text, blocking=True)
            else:
                self.add("plan", "plan", "skipped", "cannot be made until the collections above exist")
            return
        counts = plan.counts()
        summary = ", ".join(f"{counts[a]} {a}" for a in ("create", "update", "version", "replace", "delete"))
        # A backfill is a billed task over a collection's documents: named whenever the plan has one.
        backfills = f", {count(counts['backfill'], 'backfill')}" if counts.get("backfill") else ""
        self.add("plan", "plan", "ok", f"can be made: {summary}{backfills}, {counts['noop']} unchanged")
        for step in plan.steps:
            if step.taxonomy_config is not None:
                self.add("plan", f"taxonomy {step.name}", "ok", f"config change: {taxonomy_path(step.taxonomy_config)}")

    # --- routes apply and the tests read --------------------------------------------

    def _needed(self) -> set[str]:
        assert self.stack is not None
        return {k for k in PLURAL if self.stack.resources(k)}  # type: ignore[arg-type]

    async def _routes(self, live: LiveState) -> None:
        assert self.stack is not None
        for kind in sorted(self._needed()):
            names = sorted(n for (k, n) in live.resources if k == kind)
            path = f"/v1/{PLURAL[kind]}/{{identifier}}"
            if names:
                got = await _try(self.client.request("GET", f"/v1/{PLURAL[kind]}/{quote(names[0], safe='')}"))
                if isinstance(got, ApiError):
                    self.add("routes", f"GET {path}", "failed", f"by name {names[0]!r}: {_why(got)}")
                else:
                    self.add("routes", f"GET {path}", "ok", f"answers by name ({names[0]!r})")
            else:
                self.add("routes", f"GET {path}", "unknown", f"not probed: no {kind} in the namespace to read yet")
            self.add(
                "routes",
                f"POST/PATCH/DELETE /v1/{PLURAL[kind]}",
                "unknown",
                "not probed: would write (create, update, version, delete)",
            )
        if "cluster" in self._needed():
            await self._cluster_executions(live)
        await self._sample_documents(live)

    async def _cluster_executions(self, live: LiveState) -> None:
        path = "GET /v1/clusters/{cluster_id}/executions"
        clusters = sorted((n, r.id) for (k, n), r in live.resources.items() if k == "cluster")
        if not clusters:
            self.add("routes", path, "unknown", "not probed: no cluster in the namespace to read yet")
            return
        name, cid = clusters[0]
        got = await _try(self.client.get_cluster_execution(cid))
        if isinstance(got, ApiError) and got.status != 404:  # 404: never run
            self.add("routes", path, "failed", f"cluster {name!r}: {_why(got)}")
        else:
            self.add("routes", path, "ok", f"answers (cluster {name!r})")
        self.add("routes", "GET /v1/tasks/{task_id}", "unknown", "not probed: only a cluster execute makes a task")

    async def _sample_documents(self, live: LiveState) -> None:
        """Taxonomy tests with `documents_from` read these documents; a missing one fails the test (exit 3)."""
        assert self.stack is not None
        wanted: dict[str, dict[str, list[str]]] = {}
        for t in self.stack.tests:
            if isinstance(t, TaxonomyTest) and t.documents_from is not None:
                for doc_id in t.documents_from.ids:
                    wanted.setdefault(t.documents_from.collection, {}).setdefault(doc_id, []).append(t.name)
        for collection, docs in sorted(wanted.items()):
            col = live.collections.get(collection)
            if col is None:
                continue  # the collection's own row says it is missing
            ids = sorted(docs)
            got = await asyncio.gather(
                *(
                    _try(self.client.request("GET", f"/v1/collections/{col.id}/documents/{quote(d, safe='')}"))
                    for d in ids
                )
            )
            failed = {d: g for d, g in zip(ids, got, strict=True) if isinstance(g, ApiError)}
            tests = joined(sorted({t for d in ids for t in docs[d]}))
            item = f"sample documents in {collection}"
            if not failed:
                self.add("routes", item, "ok", f"{counted(len(ids), 'document')} readable (tests: {tests})")
                continue
            status: Status = "missing" if all(g.status == 404 for g in failed.values()) else "failed"
            broken = sorted({t for d in failed for t in docs[d]})
            first = next(iter(failed.values()))
            self.add(
                "routes",
                item,
                status,
                f"{joined(failed)}: {_why(first)}; test {joined(broken)} would fail after apply (exit 3)",
            )

    # --- optional capabilities ------------------------------------------------------

    async def _capabilities(self, live: LiveState) -> None:
        assert self.stack is not None
        tests = self.stack.tests
        await self._taxonomy_versions(live)
        await self._extractor_catalog(live)
        if any(isinstance(t, RetrieverTest) for t in tests):
            got = await _try(self.client.request("POST", "/v1/retrievers/executions/list", json={}, idempotent=True))
            item = "ad-hoc retriever execute"
            if isinstance(got, ApiError):
                status: Status = "absent" if got.status in ABSENT else "unknown"
                self.add("capabilities", item, status, f"its executions list: {_why(got)}")
            else:
                self.add(
                    "capabilities",
                    item,
                    "present",
                    "POST /v1/retrievers/executions/list answers (an execute itself not probed: it records one)",
                )
        else:
            self.add("capabilities", "ad-hoc retriever execute", "not needed", "no retriever tests")
        await self._adhoc_clustering(live)
        self.add(
            "capabilities",
            "taxonomy on-demand execute",
            "unknown" if any(isinstance(t, TaxonomyTest) for t in tests) else "not needed",
            "not probed: an execute needs a configured taxonomy; plan-time taxonomy tests try it",
        )
        await self._lease()

    async def _taxonomy_versions(self, live: LiveState) -> None:
        """The plan's own probe (ports/capabilities.py): what it finds decides each config change's path."""
        item = "taxonomy versions"
        if "taxonomy" not in self._needed():
            self.add("capabilities", item, "not needed", "no taxonomies in the manifests")
            return
        probe = await probe_taxonomy_versions(self.client, live)
        if probe is None:
            self.add(
                "capabilities",
                item,
                "unknown",
                "not probed: no taxonomy in the namespace to read (GET /v1/taxonomies/{id}/versions); "
                "creating one would write. Until then a config change cannot arise",
            )
            return
        then = {
            "present": "a taxonomy config change is a new version (POST /v1/taxonomies/{id}/versions, same id; "
            "the POST itself not probed: it would write)",
            "absent": "a taxonomy config change is a replacement (clone-and-swap)",
            "unknown": "a taxonomy config change is a replacement (clone-and-swap), the path that needs no versions",
        }[probe.status]
        self.add("capabilities", item, probe.status, f"{probe.evidence}: {then}")

    async def _extractor_catalog(self, live: LiveState) -> None:
        """The plan's own read (ports/capabilities.py): whether the outputs of feature URIs on
        collections the plan builds can be checked before apply."""
        assert self.stack is not None
        item = "extractor catalog"
        if not needs_extractor_catalog(self.stack, live):
            self.add("capabilities", item, "not needed", "no feature URI is used on a collection the plan builds")
            return
        catalog = await read_extractor_catalog(self.client)
        if catalog.status == "present":
            listed = ", ".join(f"{name} {version}" for name, version in sorted(catalog.outputs)) or "no extractor"
            then = f"lists the outputs of {listed}: feature URIs on collections the plan builds are checked"
        else:
            then = "feature URIs on collections the plan builds are checked for their extractor only"
        self.add("capabilities", item, catalog.status, f"{catalog.evidence}: {then}")

    async def _adhoc_clustering(self, live: LiveState) -> None:
        assert self.stack is not None
        item = "ad-hoc clustering"
        targets = sorted({t.cluster for t in self.stack.tests if isinstance(t, ClusterTest)})
        if not targets:
            self.add("capabilities", item, "not needed", "no cluster tests")
            return

        def to_id(kind: str, name: str) -> str:
            col = live.collections.get(name)
            return col.id if kind == "collection" and col is not None else name

        body: dict[str, Any] | None = None
        reasons = []
        for name in targets:
            if name not in self.stack.clusters:
                continue
            absent = [c for c in self.stack.clusters[name].collection_ids or [] if c not in live.collections]
            if absent:
                # Declared and created by the next apply: a run now would be refused for that alone.
                reasons.append(f"{name!r} reads collection {absent[0]!r}, which does not exist yet (apply first)")
                continue
            try:
                body = adhoc_cluster_body(self.stack.spec("cluster", name), to_id)
                break
            except NotRunnable as why:
                reasons.append(f"{name!r}: {why}")
        if body is None:
            self.add("capabilities", item, "unknown", f"not probed: no cluster test runs ad hoc ({joined(reasons)})")
            return
        if not self.probe_execute:
            # No documented route tells whether ad-hoc clustering exists without running one,
            # and a run is billed: the doctor stays free unless asked.
            self.add(
                "capabilities",
                item,
                "unknown",
                "not probed: POST /v1/clusters/execute runs a clustering, which costs credits on the hosted API; "
                "`mixops doctor --probe-execute` runs one (store_results: false), as plan-time cluster tests do",
            )
            return
        # The call plan-time cluster tests make; `store_results: false` stores nothing.
        got = await _try(self.client.execute_adhoc_clustering(body))
        if isinstance(got, ApiError):
            status: Status = "absent" if got.status in ABSENT else "unknown"
            self.add("capabilities", item, status, f"POST /v1/clusters/execute (seed 003): {_why(got)}")
        else:
            self.add(
                "capabilities", item, "present", "POST /v1/clusters/execute answers (store_results: false, as plan)"
            )

    async def _lease(self) -> None:
        """The apply lease: only with `lock: lease`, and then read-only (`probe_lease`, as apply does first)."""
        assert self.stack is not None
        item = "apply lease"
        if self.project.config.environments[self.env_name].lock != "lease":
            self.add(
                "capabilities",
                item,
                "not needed",
                "lock: none (the default): apply takes no lease and creates nothing undeclared; "
                "serialise applies in CI (docs/ci.md)",
            )
            return
        name = lock_name(self.stack.project.stack)
        probe = await probe_lease(self.client, self.stack.project.stack)
        if not probe.usable:
            # Apply runs the same preflight and stops on it (ports/lease.py).
            self.add("capabilities", item, "failed", f"`lock: lease` cannot work here: {probe.reason}", blocking=True)
            return
        held = ""
        if probe.holder or probe.expires_at:
            stale = ""
            try:
                if probe.expires_at and dt.datetime.fromisoformat(probe.expires_at) < dt.datetime.now(dt.UTC):
                    stale = ", expired: the next apply takes it over"
            except (TypeError, ValueError):
                pass
            held = f"; held now by {probe.holder or 'unknown'} until {probe.expires_at or 'unknown'}{stale}"
        self.add(
            "capabilities",
            item,
            "unknown",
            f"read-only preflight passed; taking it creates a retriever {name!r}, not probed{held}",
        )


async def run_doctor(
    project: Project,
    env_name: str,
    *,
    env_vars: Mapping[str, str] | None = None,
    client: MixpeekClient | None = None,
    probe_execute: bool = False,
) -> Readiness:
    """The preflight report of one environment. `client`: ask it instead of connecting (tests).

    `probe_execute`: also run one ad-hoc clustering to learn whether the route exists (it
    stores nothing, but a run costs credits on the hosted API; off by default)."""
    info = describe(project, env_name)
    checks: list[Check] = []
    stack: Stack | None = None
    try:
        stack = load_stack(project, env_name, env_vars=env_vars)
    except ManifestError as err:
        n = len(err.problems)
        first = err.problems[0].render() if err.problems else ""
        detail = f"{counted(n, 'problem')}, first: {first} (`mixops validate` lists them all)"
        checks.append(Check("manifests", "manifests", "failed", detail, True))
    else:
        checks.append(Check("manifests", "manifests", "ok", f"valid: {stack.counts_line()}"))
    secrets = stack.secrets if stack is not None else frozenset()
    namespace = info.namespace
    if client is not None:
        namespace = client.namespace or namespace
        client.redact_also(secrets)
        checks += await _diagnose(client, project, env_name, namespace, stack, probe_execute)
    else:
        entered = False
        try:
            async with connect(
                project, env_name, env_vars=env_vars, secrets=secrets, create_namespace=False
            ) as connected:
                entered = True
                checks += await _diagnose(connected, project, env_name, info.namespace, stack, probe_execute)
        except (ProjectError, MissingExtraError) as err:
            if entered:
                raise
            checks.append(Check("access", "connection", "failed", str(err), True))
    masked = tuple(Check(c.area, mask(c.item, secrets), c.status, mask(c.detail, secrets), c.blocking) for c in checks)
    return Readiness(project.config.stack, env_name, namespace, info.label, masked)


async def _diagnose(
    client: MixpeekClient, project: Project, env_name: str, namespace: str, stack: Stack | None, probe_execute: bool
) -> list[Check]:
    doctor = _Doctor(project, env_name, client, namespace, stack, probe_execute)
    await doctor.run()
    return doctor.checks


__all__ = ["run_doctor"]


def _where(p: Problem) -> tuple[str, int, int, str, str, str]:
    """A plan problem by where it was found (its message is masked in the plan, not here)."""
    return (p.file, p.line, p.col, p.path, p.kind, p.name)
