"""Drift: what changed in a namespace out of band, as opposed to what changed in git.

`mixops plan --detailed-exitcode` exits 2 on ANY difference, including edits
merged in git and not yet applied. Drift is narrower: mixops writes the
digest of every spec it sends (`metadata.mixops_digest`, see
`bodies.ownership`), so a live resource whose normalised spec no longer has
that digest was changed by someone else. An edit only in git leaves both the
live spec and its digest alone and is therefore never reported.

A declared resource missing from the namespace counts as deleted out of band
only when the namespace records the current manifests as applied
(`mixops_applied`, see `stamps`): otherwise it may simply be new in git.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from mixops.core.bodies import spec_digest, spec_of
from mixops.core.diff import MISSING, field_changes
from mixops.core.live import TEMP_SUFFIX, LiveResource, LiveState
from mixops.core.normalise import normalise
from mixops.core.placeholders import SecretPaths, mask_at_paths, mask_tree
from mixops.core.stack import KINDS, Stack
from mixops.core.wording import compact
from mixops.ports.live_reader import read_env
from mixops.ports.project import Project, load_stack
from mixops.ports.stamps import APPLIED_KEY
from mixops.ports.userpaths import shell_word

UNSET = "(unset)"  # a field absent on one side: spelled as in the text report and the plan's JSON


@dataclass(frozen=True)
class DriftChange:
    path: str
    written: Any  # what mixops last wrote (the manifests' value when git has not changed it since)
    live: Any


@dataclass(frozen=True)
class Drifted:
    kind: str
    name: str
    id: str | None
    status: str  # changed | deleted
    recorded_digest: str | None = None
    live_digest: str | None = None
    also_in_git: bool = False  # the manifests changed too: `changes` compare live with the manifests
    changes: tuple[DriftChange, ...] = ()


@dataclass(frozen=True)
class DriftReport:
    stack: str
    environment: str
    namespace: str
    checked: int
    items: tuple[Drifted, ...] = field(default_factory=tuple)

    @property
    def drifted(self) -> bool:
        return bool(self.items)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "drifted": self.drifted}

    def lines(self, mixops: str = "mixops") -> list[str]:
        """The text report; `mixops` starts the command it ends with (`Project.invocation`)."""
        where = f"namespace {self.namespace!r} (environment {self.environment}, stack {self.stack})"
        if not self.items:
            return [f"No drift: the {self.checked} resources this stack owns in {where} are as mixops wrote them."]
        n = len(self.items)
        out = [f"Drift in {where}: {n} resource{'s' if n != 1 else ''} changed out of band."]
        for d in self.items:
            ident = f" ({d.id})" if d.id else ""
            if d.status == "deleted":
                out.append(f"  - {d.kind} {d.name}{ident}: deleted out of band (the manifests were applied)")
                continue
            note = "; the manifests changed too, values below are live vs manifests" if d.also_in_git else ""
            out.append(f"  ~ {d.kind} {d.name}{ident}: changed out of band{note}")
            for c in d.changes:
                out.append(f"      {c.path}: {_show(c.written)} -> {_show(c.live)}")
            if not d.changes:
                out.append(
                    "      (the spec no longer has the digest mixops wrote; no field differs from the manifests)"
                )
        out.append(
            f"Run `{mixops} apply --env {shell_word(self.environment)}` to restore the manifests, "
            "or copy the live change into git."
        )
        return out


def _show(value: Any) -> str:
    """As the plan shows values: JSON (`true`, `"text"`), so drift and plan read alike."""
    return UNSET if value == UNSET else compact(value)


def _masked(value: Any, path: tuple[str | int, ...], paths: SecretPaths, stack: Stack) -> Any:
    """Masked by value and by path: the live side may hold a rotated secret's old value."""
    if value == MISSING:
        return UNSET
    return mask_at_paths(mask_tree(value, stack.secrets), path, paths)


def find_drift(stack: Stack, live: LiveState) -> DriftReport:
    """Pure: the owned live resources whose spec digest differs from the one mixops recorded."""
    owner = stack.project.stack
    items: list[Drifted] = []
    checked = 0
    owned = [
        (key, res)
        for key, res in sorted(live.resources.items())
        if res.owner_stack == owner and not key[1].endswith(TEMP_SUFFIX)
    ]
    applied_here = any(res.metadata.get(APPLIED_KEY) == stack.digest() for _, res in owned)
    for (kind, name), res in owned:
        checked += 1
        if kind == "application":
            items.extend(_application_drift(stack, res, applied_here))
            continue
        recorded = res.metadata.get("mixops_digest")
        now = spec_digest(kind, res.spec)
        if recorded == now:
            continue
        declared = stack.resources(kind).get(name)  # type: ignore[arg-type]
        changes: tuple[DriftChange, ...] = ()
        in_git = False
        if declared is not None:
            desired = spec_of(declared)
            in_git = spec_digest(kind, desired) != recorded
            old = normalise(kind, desired)
            new = normalise(kind, res.spec)
            new["name"] = old.get("name")
            paths = stack.secret_paths.get((kind, name), {})
            changes = tuple(
                DriftChange(c.dotted, _masked(c.old, c.path, paths, stack), _masked(c.new, c.path, paths, stack))
                for c in field_changes(old, new)
            )
        items.append(
            Drifted(kind, name, res.id, "changed", None if recorded is None else str(recorded), now, in_git, changes)
        )
    if applied_here:
        for kind in KINDS:
            for name in sorted(stack.resources(kind)):
                if (kind, name) not in live.resources:
                    items.append(Drifted(kind, name, None, "deleted"))
    return DriftReport(owner, stack.environment, live.namespace, checked, tuple(items))


def _application_drift(stack: Stack, res: LiveResource, applied_here: bool) -> list[Drifted]:
    """An application entry has no metadata of its own, so no digest of what mixops wrote (its
    collection records only the owning stack). While the namespace records the current manifests
    as applied, any difference from the manifests was made out of band; otherwise a difference
    may be an edit in git not applied yet, and is not reported (plan shows it)."""
    declared = stack.resources("application").get(res.name)
    if declared is None or not applied_here:
        return []  # undeclared: removed in git (prune); not applied: cannot tell git from out of band
    old = normalise("application", spec_of(declared))
    new = normalise("application", res.spec)
    paths = stack.secret_paths.get(("application", res.name), {})
    changes = tuple(
        DriftChange(c.dotted, _masked(c.old, c.path, paths, stack), _masked(c.new, c.path, paths, stack))
        for c in field_changes(old, new)
    )
    if not changes:
        return []
    return [
        Drifted("application", res.name, res.id, "changed", None, spec_digest("application", res.spec), False, changes)
    ]


async def detect_drift(project: Project, env_name: str, *, parallelism: int = 8) -> DriftReport:
    stack = load_stack(project, env_name)
    return find_drift(stack, await read_env(project, env_name, stack.secrets, parallelism=parallelism))
