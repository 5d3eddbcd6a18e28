"""The plan: a frozen, serialisable value built by a pure function.

`build_plan(stack, live, options)` pairs desired with live (create / prune on
one side only), diffs normalised specs, labels every field change with its
update surface, and orders the steps by the dependency table. Apply walks
exactly these steps; `plan` only renders them.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from dataclasses import replace as _replace
from typing import Any, Literal

from pydantic import ValidationError

from mixops.core.collection_checks import collection_problems
from mixops.core.diff import MISSING, field_changes
from mixops.core.live import TEMP_SUFFIX, LiveResource, LiveState
from mixops.core.locations import render_path
from mixops.core.normalise import normalise, normalise_report
from mixops.core.outcomes import TestOutcome
from mixops.core.placeholders import mask
from mixops.core.refpaths import rewrite_refs
from mixops.core.stack import KINDS, Kind, Stack
from mixops.core.surfaces import (
    NO_VERSIONS,
    Context,
    Surface,
    classify,
    context,
    replace_reason,
    taxonomy_config_surface,
)
from mixops.errors import PlanError, Problem

PLAN_FORMAT = 1
Action = Literal["create", "update", "version", "replace", "delete", "noop"]
ACTION_ORDER: dict[str, int] = {"create": 0, "update": 1, "version": 2, "replace": 3, "delete": 4, "noop": 5}
MARKERS = {"create": "+", "update": "~", "version": "~", "replace": "-/+", "delete": "-", "noop": " "}


@dataclass(frozen=True)
class FieldChange:
    path: str
    old: Any
    new: Any
    surface: str  # in_place | new_version | replace


@dataclass(frozen=True)
class Step:
    kind: str
    name: str
    action: Action
    live_id: str | None = None
    changes: tuple[FieldChange, ...] = ()
    replace_reasons: tuple[str, ...] = ()
    depends_on: tuple[tuple[str, str], ...] = ()
    wave: int = 0
    adopt: bool = False
    recover_from: str | None = None  # a temporary replacement left by an interrupted apply
    repoint: tuple[str, ...] = ()  # references to resources replaced in this plan
    desired: dict[str, Any] | None = None  # the spec as written, secrets masked (display only)
    # A replace step and the temporary an interrupted apply left under the replacement's name:
    # taken over with these changes (`reuse_temporary`), or deleted first (`clear_temporary`).
    reuse_temporary: str | None = None
    reuse_changes: tuple[FieldChange, ...] = ()
    clear_temporary: str | None = None
    # A taxonomy whose config changes (a re-pointed reference included): how, as the rule book
    # decided from the API's capability: `new_version` (POST /v1/taxonomies/{id}/versions, same
    # id) or `replacement` (a new taxonomy under a temporary name, dependents re-pointed, swap).
    taxonomy_config: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.name)

    @property
    def marker(self) -> str:
        return MARKERS[self.action]


@dataclass(frozen=True, repr=False)
class Plan:
    stack: str
    environment: str
    namespace: str
    target: str
    manifest_digest: str
    steps: tuple[Step, ...]
    fingerprints: dict[str, str]  # "kind/name" -> fingerprint of the live object read
    warnings: tuple[str, ...] = ()
    created_at: str = ""
    format: int = PLAN_FORMAT
    tests: tuple[TestOutcome, ...] = ()  # test outcomes, filled by the test runner
    # What the plan learned of the API's optional capabilities, by name: {"present": bool | None,
    # "evidence": str}; only those it asked (see PlanOptions.taxonomy_versions).
    capabilities: dict[str, dict[str, Any]] = field(default_factory=dict)

    # Hazard: reprs of these aggregates are taken implicitly (asyncio.run's clean-up formats the
    # finished task, result included, on Python 3.11); a full dataclass repr of a large stack
    # took over 20 s at 1,000 resources. Keep them short.
    def __repr__(self) -> str:
        counts = ", ".join(f"{k}={v}" for k, v in self.counts().items() if v)
        return f"Plan({self.stack!r}, {self.environment!r}, {self.namespace!r}, {counts or 'empty'})"

    @property
    def changes(self) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if s.action != "noop")

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(("create", "update", "version", "replace", "delete", "noop"), 0)
        for s in self.steps:
            out[s.action] += 1
        return out

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["counts"] = self.counts()
        data["tests"] = [t.to_json() for t in self.tests]
        data["steps"] = [step_json(s) for s in self.steps]
        return data

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, sort_keys=True, default=str) + "\n"

    @classmethod
    def from_json(cls, data: Any) -> Plan:
        """A saved plan back from its JSON; a PlanError names the first thing that is not a plan's."""
        if not isinstance(data, dict):
            raise PlanError(f"not a mixops plan: expected a JSON object, found {type(data).__name__}")
        if data.get("format") != PLAN_FORMAT:
            raise PlanError(f"unsupported plan format {data.get('format')!r}; this mixops writes {PLAN_FORMAT}")
        for key, kind in (
            ("stack", str),
            ("environment", str),
            ("namespace", str),
            ("target", str),
            ("manifest_digest", str),
            ("steps", (list, tuple)),
            ("fingerprints", dict),
        ):
            if not isinstance(data.get(key), kind):
                raise PlanError(f"not a mixops plan: {key!r} is missing or of the wrong type")
        fields = {k: v for k, v in data.items() if k not in ("steps", "counts")}
        _known_keys("the plan", fields, cls)
        steps = []
        for i, raw in enumerate(data["steps"]):
            where = f"steps[{i}]"
            try:
                steps.append(_step_from_json(raw, where))
            except (TypeError, ValueError, KeyError) as err:
                raise PlanError(f"not a mixops plan: {where}: {err}") from None
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in data["fingerprints"].items()):
            raise PlanError("not a mixops plan: 'fingerprints' must map names to strings")
        for key in ("warnings", "tests"):
            if not isinstance(fields.get(key, []), (list, tuple)):
                raise PlanError(f"not a mixops plan: {key!r} is not a list")
            fields[key] = tuple(fields.get(key, ()))
        fields["tests"] = tuple(_test_from_json(t, f"tests[{i}]") for i, t in enumerate(fields["tests"]))
        return cls(steps=tuple(steps), **fields)


def step_json(s: Step) -> dict[str, Any]:
    """One step as a saved plan holds it."""
    return {**asdict(s), "marker": s.marker, "depends_on": [list(d) for d in s.depends_on]}


def _known_keys(what: str, data: dict[str, Any], cls: type) -> None:
    from dataclasses import fields as dataclass_fields

    unknown = sorted(set(data) - {f.name for f in dataclass_fields(cls)})
    if unknown:
        raise PlanError(f"not a mixops plan: {what} has unknown keys {', '.join(map(repr, unknown))}")


def _test_from_json(raw: Any, where: str) -> TestOutcome:
    try:
        return TestOutcome.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        path = ".".join(str(p) for p in first["loc"])
        raise PlanError(f"not a mixops plan: {where}{'.' + path if path else ''}: {first['msg']}") from None


def _step_from_json(raw: Any, where: str) -> Step:
    if not isinstance(raw, dict):
        raise PlanError(f"not a mixops plan: {where} is not an object")
    s = {k: v for k, v in raw.items() if k != "marker"}
    _known_keys(where, s, Step)
    if s.get("kind") not in KINDS or not isinstance(s.get("name"), str) or s.get("action") not in ACTION_ORDER:
        raise PlanError(f"not a mixops plan: {where} needs a known kind, a name and a known action")
    changes = s.get("changes", [])
    if not isinstance(changes, (list, tuple)) or not all(isinstance(c, dict) for c in changes):
        raise PlanError(f"not a mixops plan: {where}.changes is not a list of objects")
    s["changes"] = tuple(FieldChange(**c) for c in changes)
    reuse = s.get("reuse_changes", [])
    if not isinstance(reuse, (list, tuple)) or not all(isinstance(c, dict) for c in reuse):
        raise PlanError(f"not a mixops plan: {where}.reuse_changes is not a list of objects")
    s["reuse_changes"] = tuple(FieldChange(**c) for c in reuse)
    deps = s.get("depends_on", [])
    if not isinstance(deps, (list, tuple)) or not all(isinstance(d, (list, tuple)) and len(d) == 2 for d in deps):
        raise PlanError(f"not a mixops plan: {where}.depends_on is not a list of [kind, name] pairs")
    s["depends_on"] = tuple((str(d[0]), str(d[1])) for d in deps)
    for key in ("replace_reasons", "repoint"):
        if not isinstance(s.get(key, []), (list, tuple)):
            raise PlanError(f"not a mixops plan: {where}.{key} is not a list")
        s[key] = tuple(s.get(key, ()))
    return Step(**s)


@dataclass(frozen=True)
class Capability:
    """An optional capability of the API as a probe found it (ports/capabilities.py)."""

    present: bool
    evidence: str  # what answered, e.g. "GET /v1/taxonomies/tax_1/versions answered 404"

    def to_json(self) -> dict[str, Any]:
        return {"present": self.present, "evidence": self.evidence}


@dataclass(frozen=True)
class PlanOptions:
    prune: bool = False
    adopt: bool = False
    allow_delete: bool = False
    target: str = "local"
    # Whether the API takes POST /v1/taxonomies/{id}/versions. None: not asked, because no
    # taxonomy config changes (`needs_taxonomy_versions`); a plan built so assumes versions.
    taxonomy_versions: Capability | None = None


@dataclass(frozen=True, repr=False)
class DesiredSide:
    """The half of a plan that needs no live state: each resource's normalised spec and dependencies.

    Separate so that `mixops plan` can compute it while the live read is in flight.
    """

    normalised: dict[tuple[str, str], dict[str, Any]]
    deps: dict[tuple[str, str], tuple[tuple[str, str], ...]]
    digest: str  # Stack.digest()

    def __repr__(self) -> str:
        return f"DesiredSide({len(self.normalised)} resources)"


def prepare_desired(stack: Stack) -> DesiredSide:
    normalised: dict[tuple[str, str], dict[str, Any]] = {}
    deps: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {}
    for kind in KINDS:
        for name in stack.resources(kind):
            key = (kind, name)
            normalised[key] = normalise(kind, stack.spec(kind, name))
            deps[key] = tuple(sorted({(rk, rv) for _, rk, rv in stack.refs(kind, name) if rk != "collection"}))
    return DesiredSide(normalised, deps, stack.digest())


@dataclass
class _Builder:
    stack: Stack
    live: LiveState
    options: PlanOptions
    desired: DesiredSide
    now: dt.datetime  # the plan's `created_at`; the caller reads the clock, the core never does
    problems: list[Problem] = field(default_factory=list)
    _recovering: dict[tuple[str, str], str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    _taken_temporaries: set[tuple[str, str]] = field(default_factory=set)  # handled by a replace step

    def build(self) -> Plan:
        self._warn_short_secrets()
        self._ensure_collections()
        self._recovering = self._temporaries_to_recover()
        steps: list[Step] = []
        desired_keys: set[tuple[str, str]] = set()
        for kind in KINDS:
            for name, res in self.stack.resources(kind).items():
                desired_keys.add((kind, name))
                steps.append(self._step(kind, name, res))
        steps += self._deletes(desired_keys)
        steps = self._repoint_dependents(steps)
        steps = self._order(steps)
        self._check_protect(steps)
        if self.problems:
            # Problems quote manifest values (feature URIs, names), which may come from `${{ env.X }}`.
            secrets = self.stack.secrets
            problems = [_replace(p, message=mask(p.message, secrets), fix=mask(p.fix, secrets)) for p in self.problems]
            raise PlanError.of("the plan cannot be made", problems)
        fingerprints = {f"{k}/{n}": r.fingerprint for (k, n), r in sorted(self.live.resources.items())}
        return Plan(
            stack=self.stack.project.stack,
            environment=self.stack.environment,
            namespace=self.live.namespace,
            target=self.options.target,
            manifest_digest=self.desired.digest,
            steps=tuple(steps),
            fingerprints=fingerprints,
            warnings=tuple(mask(w, self.stack.secrets) for w in self.warnings),
            created_at=self.now.astimezone(dt.UTC).replace(microsecond=0).isoformat(),
            capabilities=self._capabilities(),
        )

    @property
    def _versions(self) -> bool:
        found = self.options.taxonomy_versions
        return found is None or found.present

    def _capabilities(self) -> dict[str, dict[str, Any]]:
        found = self.options.taxonomy_versions
        return {} if found is None else {"taxonomy_versions": found.to_json()}

    # --- checks -------------------------------------------------------------------

    def _warn_short_secrets(self) -> None:
        """Once per variable, by name only: its value is too short to be masked in output."""
        from mixops.core.placeholders import MASK_MIN_LENGTH

        short = sorted({var for value, var in self.stack.secret_names.items() if len(value) < MASK_MIN_LENGTH})
        for var in short:
            self.warnings.append(
                f"environment variable {var} is shorter than {MASK_MIN_LENGTH} characters, so its value is not "
                f"masked in output (only where the manifests place it); use a longer value for a secret"
            )

    def _ensure_collections(self) -> None:
        # Shared with `mixops doctor` (core/collection_checks.py).
        self.problems.extend(collection_problems(self.stack, self.live))

    def _check_protect(self, steps: list[Step]) -> None:
        env = self.stack.project.environments[self.stack.environment]
        if not env.protect or self.options.allow_delete:
            return
        for s in steps:
            if s.action in ("delete", "replace"):
                self.problems.append(
                    self._at(
                        s.kind,
                        s.name,
                        f"{s.kind} {s.name!r} would be {'deleted' if s.action == 'delete' else 'replaced'}, but "
                        f"environment {self.stack.environment!r} is protected",
                        "pass --allow-delete to permit it",
                    )
                )

    # --- pairing and diffing ------------------------------------------------------

    def _step(self, kind: Kind, name: str, res: Any) -> Step:
        desired = self.desired.normalised[(kind, name)]
        deps = self.desired.deps[(kind, name)]
        live = self.live.resources.get((kind, name))
        recover_from = None
        if live is None and (kind, name + TEMP_SUFFIX) in self._recovering:
            live = self.live.resources[(kind, name + TEMP_SUFFIX)]
            recover_from = live.name
        if live is None:
            return Step(kind, name, "create", depends_on=deps, desired=self._as_written(res))
        adopt = self._ownership(kind, name, live)
        live_spec = live.spec
        if self._recovering:
            # A dependent re-pointed at a replacement that an interrupted apply left under its
            # temporary name refers to the resource this apply renames: not a change.
            live_spec = rewrite_refs(kind, live_spec, lambda k, v: self._recovering.get((k, v), v))
        live_norm, dropped = normalise_report(kind, live_spec)
        if dropped:
            self.warnings.append(f"{kind} {name!r}: ignored live fields mixops does not model: {', '.join(dropped)}")
        live_norm["name"] = name  # a recovered temporary keeps its old name until renamed
        fcs, reasons, worst = self._classified(kind, name, live_norm, desired, published=live.published)
        taxonomy_config = None
        if kind == "taxonomy" and any(c.path.split(".")[0] == "config" for c in fcs):
            taxonomy_config = "new_version" if self._versions else "replacement"
        if worst is None and (adopt or recover_from):
            worst = Surface.IN_PLACE
        if recover_from:
            fcs.insert(0, FieldChange("name", recover_from, name, "in_place"))
        action: Action
        if worst is None:
            action = "noop"
        else:
            action = {Surface.IN_PLACE: "update", Surface.NEW_VERSION: "version", Surface.REPLACE: "replace"}[worst]  # type: ignore[assignment]
        return Step(
            kind,
            name,
            action,
            live_id=live.id,
            changes=tuple(fcs),
            replace_reasons=tuple(reasons),
            depends_on=deps,
            adopt=adopt,
            recover_from=recover_from,
            desired=None if action == "noop" else self._as_written(res),
            taxonomy_config=taxonomy_config,
            **(self._stale_temporary(kind, name, desired) if action == "replace" else {}),
        )

    def _classified(
        self, kind: str, name: str, old: dict[str, Any], new: dict[str, Any], *, published: bool
    ) -> tuple[list[FieldChange], list[str], Surface | None]:
        """Every field change from `old` to `new` with its surface (the rule book's), the fields
        that force a replacement, and the worst surface (None: no change)."""
        ctx = context(kind, old, new, published=published, taxonomy_versions=self._versions)
        fcs: list[FieldChange] = []
        reasons: list[str] = []
        worst: Surface | None = None
        for c in field_changes(old, new):
            surface = classify(kind, c.path, ctx, removed=c.new == MISSING)
            fcs.append(
                FieldChange(
                    c.dotted,
                    self._shown(kind, name, c.path, c.old),
                    self._shown(kind, name, c.path, c.new),
                    surface.name.lower(),
                )
            )
            if surface == Surface.REPLACE:
                reason = replace_reason(kind, c.path, ctx)
                if reason not in reasons:
                    reasons.append(reason)
            worst = max(worst or surface, surface)
        return fcs, reasons, worst

    def _stale_temporary(self, kind: Kind, name: str, desired: dict[str, Any]) -> dict[str, Any]:
        """What a replacement does with our temporary an interrupted apply left under its name.

        A dependent may already point at it, so it is taken over (patched to the desired
        spec) when the rule book lets it change in place; otherwise it is deleted before
        the replacement is created. Decided here, so that apply only executes it.
        """
        temp = self.live.resources.get((kind, name + TEMP_SUFFIX))
        if temp is None or temp.owner_stack != self.stack.project.stack:
            return {}
        self._taken_temporaries.add((kind, temp.name))
        current = normalise(kind, temp.spec)
        current["name"] = desired.get("name", current.get("name"))
        fcs, _, worst = self._classified(kind, name, current, desired, published=temp.published)
        if worst == Surface.REPLACE:
            return {"clear_temporary": temp.id}
        return {"reuse_temporary": temp.id, "reuse_changes": tuple(fcs)}

    def _temporaries_to_recover(self) -> dict[tuple[str, str], str]:
        """(kind, temporary name) -> real name, for each desired resource `_step` will recover."""
        out: dict[tuple[str, str], str] = {}
        mine = self.stack.project.stack
        for kind in KINDS:
            for name in self.stack.resources(kind):
                temp = self.live.resources.get((kind, name + TEMP_SUFFIX))
                if (kind, name) not in self.live.resources and temp is not None and temp.owner_stack == mine:
                    out[(kind, temp.name)] = name
        return out

    def _shown(self, kind: str, name: str, path: tuple[str | int, ...], value: Any) -> Any:
        """A value for display, masked by value and by path: the live side may hold a rotated
        secret's old value. Only here, for output: what was compared is never masked."""
        from mixops.core.placeholders import mask_at_paths, mask_tree

        if value == MISSING:
            return _show(value)
        return mask_at_paths(mask_tree(value, self.stack.secrets), path, self.stack.secret_paths.get((kind, name), {}))

    def _as_written(self, res: Any) -> dict[str, Any]:
        """The spec as the user wrote it (no filled defaults), secrets masked: for display."""
        from mixops.core.bodies import spec_of
        from mixops.core.normalise import drop_empties
        from mixops.core.placeholders import mask_tree

        shown: dict[str, Any] = mask_tree(drop_empties(spec_of(res)), self.stack.secrets)
        return shown

    def _ownership(self, kind: str, name: str, live: LiveResource) -> bool:
        mine = self.stack.project.stack
        if live.owner_stack == mine:
            return False
        if self.options.adopt:
            return True
        owner = f"owned by stack {live.owner_stack!r}" if live.owner_stack else "not managed by mixops"
        self.problems.append(
            self._at(
                kind,
                name,
                f"{kind} {name!r} exists in namespace {self.live.namespace!r} ({live.id}) but is {owner}",
                "pass --adopt to take it over, or rename it in the manifests",
            )
        )
        return False

    def _at(self, kind: str, name: str, message: str, fix: str) -> Problem:
        """A problem of (kind, name), located at its declaration when the manifests declare it."""
        origin = self.stack.origins.get((kind, name))
        if origin is None:  # a delete: only the namespace has it
            return Problem("", message=message, fix=fix, kind=kind, name=name)
        return _replace(origin.problem(message, fix), kind=kind, name=name)

    def _deletes(self, desired: set[tuple[str, str]]) -> list[Step]:
        out = []
        mine = self.stack.project.stack
        recovered = {(k, n + TEMP_SUFFIX) for k, n in desired if (k, n) not in self.live.resources}
        for key, live in sorted(self.live.resources.items()):
            if key in desired or live.owner_stack != mine or key in recovered or key in self._taken_temporaries:
                continue
            kind, name = key
            is_temp = name.endswith(TEMP_SUFFIX)
            if is_temp or self.options.prune:
                # Temporary replacements of an interrupted apply are always ours to clean up.
                out.append(Step(kind, name, "delete", live_id=live.id))
            else:
                self.warnings.append(
                    f"{kind} {name!r} is owned by this stack but no longer declared (--prune deletes it)"
                )
        return out

    def _repoint_dependents(self, steps: list[Step]) -> list[Step]:
        """A replaced resource gets a new id; every dependent must be re-pointed to it.

        A taxonomy's references live in its config: where the API has no taxonomy versions,
        re-pointing one replaces it, and its own dependents are then re-pointed in turn
        (repeated until nothing more is replaced).
        """
        # key -> the live id being replaced (a recovered temporary's id, under its real name)
        replaced = {s.key: s.live_id or "" for s in steps if s.action == "replace"}
        out = steps
        while replaced:
            out = [self._repointed(s, replaced) for s in steps]
            more = {s.key: s.live_id or "" for s in out if s.action == "replace" and s.key not in replaced}
            if not more:
                break
            replaced |= more
        # A temporary an interrupted apply left is handled by its replace step (reused or
        # cleared) when re-pointing made one: not deleted a second time.
        return [s for s in out if not (s.action == "delete" and s.key in self._taken_temporaries)]

    def _repointed(self, s: Step, replaced: dict[tuple[str, str], str]) -> Step:
        hits = tuple(f"{k} {n!r}" for k, n in s.depends_on if (k, n) in replaced)
        if not hits or s.action in ("create", "replace", "delete"):
            return s
        ctx = Context(taxonomy_versions=self._versions)
        surface = taxonomy_config_surface(ctx) if s.kind == "taxonomy" else Surface.IN_PLACE
        action: Action = s.action
        extra: dict[str, Any] = {}
        if surface == Surface.REPLACE:
            action = "replace"
            reason = f"config ({NO_VERSIONS})"
            extra = {
                "replace_reasons": s.replace_reasons + (() if reason in s.replace_reasons else (reason,)),
                "desired": s.desired or self._as_written(self.stack.resources(s.kind)[s.name]),  # type: ignore[arg-type]
                **self._stale_temporary(s.kind, s.name, self.desired.normalised[s.key]),  # type: ignore[arg-type]
            }
        elif ACTION_ORDER.get(s.action, 5) == 5 or s.action == "update":
            action = "version" if surface == Surface.NEW_VERSION else "update"
        if s.kind == "taxonomy":
            extra["taxonomy_config"] = "new_version" if surface == Surface.NEW_VERSION else "replacement"
        notes = tuple(self._repoint_changes(s, replaced, surface))
        return _replace(s, action=action, changes=s.changes + notes, repoint=hits, **extra)

    def _repoint_changes(self, step: Step, replaced: dict[tuple[str, str], str], surface: Surface) -> list[FieldChange]:
        """One change per reference to a replaced resource: same name, the replacement's id."""
        out = []
        for path, ref_kind, ref_name in self.stack.refs(step.kind, step.name):  # type: ignore[arg-type]
            if (ref_kind, ref_name) in replaced:
                old_id = replaced[(ref_kind, ref_name)]
                out.append(
                    FieldChange(
                        render_path(path),
                        f"{ref_name} ({old_id})",
                        f"{ref_name} (its replacement)",
                        surface.name.lower(),
                    )
                )
        return out

    def _order(self, steps: list[Step]) -> list[Step]:
        """Waves from the dependency table: a resource comes after what it references."""
        by_key = {s.key: s for s in steps if s.action != "delete"}
        depth: dict[tuple[str, str], int] = {}

        def level(key: tuple[str, str], seen: frozenset[tuple[str, str]] = frozenset()) -> int:
            if key in depth:
                return depth[key]
            step = by_key.get(key)
            if step is None or key in seen:
                return -1
            depth[key] = 1 + max((level(d, seen | {key}) for d in step.depends_on), default=-1)
            return depth[key]

        out = []
        for s in steps:
            if s.action == "delete":
                out.append(s)
                continue
            out.append(_with_wave(s, level(s.key)))
        kind_rank: dict[str, int] = {k: i for i, k in enumerate(KINDS)}
        out.sort(key=lambda s: (s.action == "delete", s.wave, kind_rank.get(s.kind, 9), s.name))
        return out


def _with_wave(s: Step, wave: int) -> Step:
    return s if s.wave == wave else _replace(s, wave=wave)


def _show(value: Any) -> Any:
    return "(unset)" if value == MISSING else value


def needs_taxonomy_versions(plan: Plan) -> bool:
    """True when a taxonomy's config changes, so the path depends on the API having versions."""
    return any(s.taxonomy_config is not None for s in plan.steps)


def build_plan(
    stack: Stack,
    live: LiveState,
    options: PlanOptions | None = None,
    desired: DesiredSide | None = None,
    *,
    now: dt.datetime,
) -> Plan:
    """`desired`: `prepare_desired(stack)` when the caller computed it already (it must be of this stack).

    `now` (timezone-aware) becomes the plan's `created_at`: passed in so that the core stays pure.
    """
    builder = _Builder(stack, live, options or PlanOptions(), desired or prepare_desired(stack), now)
    return builder.build()
