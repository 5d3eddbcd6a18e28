"""The plan: a frozen, serialisable value built by a pure function.

`build_plan(stack, live, options)` pairs desired with live (create / prune on
one side only), diffs normalised specs, labels every field change with its
update surface, and orders the steps by the dependency table. Apply walks
exactly these steps; `plan` only renders them.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from dataclasses import replace as _replace
from typing import Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, ValidationError, computed_field

from mixops.core.collection_checks import collection_problems, collection_uses, unchecked_features
from mixops.core.diff import MISSING, field_changes
from mixops.core.live import TEMP_SUFFIX, LiveResource, LiveState
from mixops.core.locations import render_path
from mixops.core.models.collection import APPLICATION_TARGET, application_name
from mixops.core.normalise import normalise, normalise_report
from mixops.core.outcomes import TestOutcome
from mixops.core.placeholders import mask
from mixops.core.refpaths import iter_refs, rewrite_refs
from mixops.core.stack import KINDS, Kind, Stack
from mixops.core.surfaces import (
    NO_VERSIONS,
    Context,
    Surface,
    classify,
    context,
    replace_reason,
)
from mixops.errors import PlanError, Problem

PLAN_FORMAT: Literal[1] = 1
Action = Literal["create", "update", "version", "replace", "delete", "backfill", "noop"]
ACTION_ORDER: dict[str, int] = {
    "create": 0,
    "update": 1,
    "version": 2,
    "replace": 3,
    "delete": 4,
    "backfill": 5,
    "noop": 6,
}
MARKERS = {"create": "+", "update": "~", "version": "~", "replace": "-/+", "delete": "-", "backfill": "*", "noop": " "}
# Why a backfill step is due when `--backfill` named it. The flag is an input of the plan, not
# of the manifests: a saved plan made with it is applied with it again (ports/reconcile.py).
ASKED_BACKFILL = "asked for with --backfill"
# A step is a resource's, or a backfill: the apply-taxonomy task over a collection's existing
# documents, planned for one taxonomy application entry (named as that entry).
StepKind = Literal["collection", "retriever", "taxonomy", "cluster", "application", "backfill"]
SurfaceName = Literal["in_place", "new_version", "replace"]


class _Strict(BaseModel):
    """Frozen and strict: a saved plan is read with these models, so nothing is coerced or ignored."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class FieldChange(_Strict):
    path: str = Field(
        description="Field path in manifest terms, e.g. `stages[0].config.parameters.final_top_k`. A change of "
        "a referenced resource's id caused by its replacement reads `(reference to retriever 'x')`."
    )
    old: Any = Field(description="The live value; the string `(unset)` when the field is absent live (an added field).")
    new: Any = Field(
        description="The desired value; `(unset)` when the field is absent from the manifests (a removed field)."
    )
    surface: SurfaceName = Field(
        description="How Mixpeek can apply this change: `in_place`, `new_version` or `replace` (forces "
        "replacement). The step's action is the strongest surface among its changes."
    )
    # From the loader's placeholder resolution (core/placeholders.params_behind), never guessed.
    params: tuple[str, ...] = Field(
        default=(),
        description="The parameters (`${{ params.NAME }}`) the new value comes from, as the loader resolved "
        "them: why the value differs per environment. The text and Markdown plans show them after the value, "
        "`(params.search_top_k)`. Empty when the manifests write the value itself, and where normalisation moved "
        "the value (a sorted list), since the origin is never guessed.",
    )


class Step(_Strict):
    kind: StepKind = Field(
        description="`collection`, `retriever`, `taxonomy`, `cluster`, `application` (one entry of a "
        "collection's `taxonomy_applications`, `cluster_applications` or `retriever_enrichments`, named "
        "`<collection>/<taxonomy|cluster|retriever>/<applied resource>`) or `backfill` (the apply-taxonomy task "
        "over the documents a collection already holds, for the taxonomy application entry of the same name; "
        "its action is `backfill`)."
    )
    name: str = Field(description="The resource's name, its identity within the namespace.")
    action: Action = Field(
        description="`create`, `update` (in place), `version` (taxonomy config: new version), `replace`, "
        "`delete`, `backfill` (kind `backfill` only) or `noop`."
    )
    live_id: str | None = Field(default=None, description="Id of the live resource; `null` for a create.")
    changes: tuple[FieldChange, ...] = Field(
        default=(), description="Field-level changes live -> desired (empty for create, delete and noop)."
    )
    replace_reasons: tuple[str, ...] = Field(
        default=(),
        description="For `replace`: the fields that force it, e.g. `vector_config.clustering_method`, or "
        "`input_schema (input 'q' removed)`.",
    )
    depends_on: tuple[tuple[Kind, str], ...] = Field(
        default=(),
        description="`[kind, name]` of each resource this one references (collections only when the manifests "
        "declare them); apply creates and updates them first.",
    )
    wave: int = Field(
        default=0,
        ge=0,
        description="Dependency depth: a step runs after all steps of lower waves that it depends on; steps of "
        "one wave may run concurrently. `0` for deletes, which run last, bottom-up.",
    )
    adopt: bool = Field(
        default=False,
        description="`true` when the live resource is not owned by this stack and `--adopt` takes it over "
        "(apply writes the ownership metadata).",
    )
    recover_from: str | None = Field(
        default=None,
        description="Name of a temporary replacement an interrupted apply left behind; apply resumes from it "
        "instead of creating another.",
    )
    repoint: tuple[str, ...] = Field(
        default=(),
        description="Resources replaced in this plan that this one references (e.g. `retriever 'tag_matcher'`): "
        "apply points it at the replacement's new id.",
    )
    desired: dict[str, Any] | None = Field(
        default=None,
        description="The desired spec as written in the manifests (manifest field names, references as names, "
        "placeholders resolved, secrets masked); `null` for deletes and unchanged resources. For display and "
        "review: apply rebuilds requests from the manifests.",
    )
    params: dict[str, tuple[str, ...]] = Field(
        default_factory=dict,
        description="Every field of `desired` that a parameter filled: its path (as in `changes[].path`) -> "
        "the parameter names. Empty for deletes and unchanged resources.",
    )
    # A replace step and the temporary an interrupted apply left under the replacement's name:
    # taken over with these changes (`reuse_temporary`), or deleted first (`clear_temporary`).
    reuse_temporary: str | None = Field(
        default=None,
        description="On a `replace` step: the id of a temporary replacement an interrupted apply left under the "
        "temporary name, which apply takes over (patched by `reuse_changes`) instead of creating another.",
    )
    reuse_changes: tuple[FieldChange, ...] = Field(
        default=(),
        description="The field changes that bring `reuse_temporary` to the desired spec, each as in `changes` "
        "(never `replace`).",
    )
    clear_temporary: str | None = Field(
        default=None,
        description="On a `replace` step: the id of a leftover temporary that cannot be changed in place; apply "
        "deletes it before it creates the replacement.",
    )
    detach_first: tuple[str, ...] = Field(
        default=(),
        description="Live ids (`<collection id>/<type>/<applied id>`) of this stack's application entries an "
        "interrupted apply left that apply removes before this step's other writes: on a step that deletes a "
        "leftover temporary (`clear_temporary`), the entries naming it; on a step that takes over a temporary "
        "collection (`reuse_temporary` or `recover_from`), the entries on it that no declared entry takes over.",
    )
    # A taxonomy whose config changes (a re-pointed reference included): how, as the rule book
    # decided from the API's capability.
    taxonomy_config: Literal["new_version", "replacement"] | None = Field(
        default=None,
        description="On a taxonomy whose config changes (a re-pointed reference included): `new_version` "
        "(`POST /v1/taxonomies/{id}/versions`, same id; action `version`) or `replacement` (the API has no "
        "taxonomy versions: a new taxonomy under a temporary name, then swapped; action `replace`). `null` "
        "otherwise.",
    )
    documents: int | None = Field(
        default=None,
        description="On a collection `delete` or `replace`: how many documents it holds (an exact count read for "
        "this plan, else the listing's approximate `document_count`; `null` when unknown). A collection with "
        "documents, or an unknown count, is refused without `--allow-data-loss`. On a `backfill`: how many "
        "documents the collection holds now (`null` when unknown, or when this apply creates the collection). "
        "`null` on other steps.",
    )
    backfill_due: tuple[str, ...] = Field(
        default=(),
        description="On a `backfill`: why it is due, e.g. `the entry is attached`, `the entry changes`, "
        "`taxonomy 'product_tags' gets a new version`, `asked for with --backfill`. Empty on other steps.",
    )

    @computed_field(  # type: ignore[prop-decorator]
        description="The action's marker in the text plan: `+`, `~`, `~`, `-/+`, `-`, `*` (backfill), or a space "
        "for `noop`."
    )
    @property
    def marker(self) -> str:
        return MARKERS[self.action]

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.name)


class Capability(_Strict):
    """An optional capability of the API as a probe found it (ports/capabilities.py)."""

    present: bool = Field(
        description="`true`: `GET /v1/taxonomies/{id}/versions` of a live taxonomy answered, so config changes "
        "are new versions; `false` (it answered 404/405/422/501, or failed): they are replacements."
    )
    evidence: str = Field(
        description="`present`, `absent` or `unknown`, then what answered, e.g. `absent: GET "
        "/v1/taxonomies/tax_1/versions answered HTTP 404 not_found`."
    )

    def to_json(self) -> dict[str, Any]:
        return {"present": self.present, "evidence": self.evidence}


CapabilityName = Literal["taxonomy_versions"]


class Counts(_Strict):
    """Steps per action (derived from `steps`; never read back)."""

    create: int = Field(description="Resources to create.")
    update: int = Field(description="Resources updated in place (PATCH).")
    version: int = Field(description="Taxonomies that get a new version (same id).")
    replace: int = Field(description="Resources replaced (a new one under a temporary name, then swapped).")
    delete: int = Field(description="Resources deleted (`--prune`, or leftovers of an interrupted replacement).")
    backfill: int = Field(description="Apply-taxonomy tasks over a collection's existing documents.")
    noop: int = Field(description="Resources that already match.")


class Plan(_Strict):
    """The plan document: what `plan --format json` prints, `plan --out` saves and `apply plan.json` reads."""

    format: Literal[1] = Field(default=PLAN_FORMAT, description="Schema version of this document: `1`.")
    stack: str = Field(description="The stack (`stack:` in `mixops.yaml`) whose ownership marker the plan uses.")
    environment: str = Field(description="The environment planned (`--env`, or the default one).")
    namespace: str = Field(description="The Mixpeek namespace the environment points at.")
    target: str = Field(description="Where the namespace lives: an API URL, or the embedded local backend.")
    manifest_digest: str = Field(
        description="Digest of the desired state (resources and tests) the plan was made from; `apply plan.json` "
        "refuses the plan when the manifests' digest has changed since."
    )
    created_at: str = Field(default="", description="When the plan was made, ISO 8601 in UTC, to the second.")
    fingerprints: dict[str, str] = Field(
        description='`"kind/name"` -> fingerprint of every live object read (including unmanaged ones and '
        "temporaries). `apply plan.json` re-reads the namespace and refuses the plan when any object appeared, "
        "disappeared or changed."
    )
    warnings: tuple[str, ...] = Field(
        default=(),
        description="Things the user should know that do not stop the plan, e.g. an owned resource no longer "
        "declared (without `--prune`).",
    )
    steps: tuple[Step, ...] = Field(
        description="One step per resource, desired or live, in apply order (see Stability)."
    )
    tests: tuple[TestOutcome, ...] = Field(
        default=(),
        description="Test outcomes at plan time, filled by the test runner; empty when no tests ran "
        "(`--no-tests`, or nothing to test).",
    )
    capabilities: dict[CapabilityName, Capability] = Field(
        default_factory=dict,
        description="Optional capabilities of the API the plan asked about (read-only, once per command), by "
        "name; empty when none decided anything. `taxonomy_versions` is asked only when a taxonomy's config "
        "changes: whether `POST /v1/taxonomies/{id}/versions` is taken, which decides each such step's "
        "`taxonomy_config`.",
    )

    # Hazard: reprs of these aggregates are taken implicitly (asyncio.run's clean-up formats the
    # finished task, result included, on Python 3.11); a full repr of a large stack
    # took over 20 s at 1,000 resources. Keep them short.
    def __repr__(self) -> str:
        counts = ", ".join(f"{k}={v}" for k, v in self.counts().items() if v)
        return f"Plan({self.stack!r}, {self.environment!r}, {self.namespace!r}, {counts or 'empty'})"

    __str__ = __repr__

    @property
    def changes(self) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if s.action != "noop")

    def counts(self) -> dict[str, int]:
        """Steps per action, every action present."""
        out = dict.fromkeys(ACTION_ORDER, 0)
        for s in self.steps:
            out[s.action] += 1
        return out

    @computed_field(  # type: ignore[prop-decorator]
        alias="counts", description="Number of steps per action, all seven keys always present."
    )
    @property
    def counts_by_action(self) -> Counts:
        return Counts(**self.counts())

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = self.model_dump(mode="json", by_alias=True, fallback=str)
        return out

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, sort_keys=True, default=str) + "\n"

    @classmethod
    def from_json(cls, data: Any) -> Plan:
        """A saved plan back from its JSON value; a PlanError names what is not a plan's.

        Validated in JSON mode, where the models are strict (no coercion, no unknown keys) but
        a JSON array is a tuple. Hazard: pydantic's JSON parser stops at 200 levels of nesting,
        which a plan (a manifest spec inside a step) never reaches; deeper is refused.
        """
        if not isinstance(data, dict):
            raise PlanError(f"not a mixops plan: expected a JSON object, found {type(data).__name__}")
        if data.get("format") != PLAN_FORMAT:
            raise PlanError(f"unsupported plan format {data.get('format')!r}; this mixops writes {PLAN_FORMAT}")
        try:
            return cls.model_validate_json(json.dumps(_without_derived(data)))
        except ValidationError as err:
            raise PlanError(f"not a mixops plan: {_plan_problems(err)}") from None


def _without_derived(data: dict[str, Any]) -> dict[str, Any]:
    """The plan without what is derived from it (`counts`, each step's `marker`): written for
    readers, ignored when a plan is read back. (Not a model validator: one that returns new data
    makes pydantic validate it as Python objects, where a JSON array is not a tuple.)"""
    out = {k: v for k, v in data.items() if k != "counts"}
    steps = out.get("steps")
    if isinstance(steps, list):
        out["steps"] = [{k: v for k, v in s.items() if k != "marker"} if isinstance(s, dict) else s for s in steps]
    return out


def _plan_problems(err: ValidationError, limit: int = 3) -> str:
    """What is wrong, by location in the file (`steps[0].action`), the first few of them."""
    lines = []
    for e in err.errors(include_url=False)[:limit]:
        where = render_path(tuple(e["loc"])) or "the plan"
        if e["type"] == "missing":
            lines.append(f"{where!r} is missing")
        elif e["type"] == "extra_forbidden":
            lines.append(f"{where}: unknown key (a plan file holds only the keys mixops writes)")
        else:
            lines.append(f"{where}: {e['msg']}")
    more = len(err.errors()) - limit
    return "; ".join(lines) + (f"; and {more} more" if more > 0 else "")


def step_json(s: Step) -> dict[str, Any]:
    """One step as a saved plan holds it."""
    out: dict[str, Any] = s.model_dump(mode="json", fallback=str)
    return out


@dataclass(frozen=True)
class PlanOptions:
    prune: bool = False
    adopt: bool = False
    allow_delete: bool = False
    allow_data_loss: bool = False  # delete or replace collections that hold documents
    target: str = "local"
    # Whether the API takes POST /v1/taxonomies/{id}/versions. None: not asked, because no
    # taxonomy config changes (`needs_taxonomy_versions`); a plan built so assumes versions.
    taxonomy_versions: Capability | None = None
    # `--backfill COLLECTION/TAXONOMY`: backfills asked for whether due or not (docs/collections.md).
    backfill: tuple[str, ...] = ()


@dataclass(frozen=True, repr=False)
class DesiredSide:
    """The half of a plan that needs no live state: each resource's normalised spec and dependencies.

    Separate so that `mixops plan` can compute it while the live read is in flight.
    """

    normalised: dict[tuple[str, str], dict[str, Any]]
    deps: dict[tuple[str, str], tuple[tuple[Kind, str], ...]]
    digest: str  # Stack.digest()

    def __repr__(self) -> str:
        return f"DesiredSide({len(self.normalised)} resources)"


def prepare_desired(stack: Stack) -> DesiredSide:
    normalised: dict[tuple[str, str], dict[str, Any]] = {}
    deps: dict[tuple[str, str], tuple[tuple[Kind, str], ...]] = {}
    for kind in KINDS:
        for name in stack.resources(kind):
            key = (kind, name)
            normalised[key] = normalise(kind, stack.spec(kind, name))
            # A collection the manifests do not declare is not a step of the plan: no dependency.
            refs = {
                (cast(Kind, rk), rv)
                for _, rk, rv in stack.refs(kind, name)
                if rk != "collection" or rv in stack.collections
            }
            deps[key] = tuple(sorted(refs))
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
    # (kind, temporary name) -> real name of every temporary this plan takes over: recovered
    # (`_recovering`) or reused by a replace step. References to them are references to the
    # resource they become.
    _becoming: dict[tuple[str, str], str] = field(default_factory=dict)
    # This stack's entries an interrupted apply left on a temporary collection, or naming a
    # temporary: settled once every replace step knows what it does with its temporary.
    _temporary_entries: list[LiveResource] = field(default_factory=list)

    def build(self) -> Plan:
        self._warn_short_secrets()
        self._ensure_collections()
        self._recovering = self._temporaries_to_recover()
        self._becoming = dict(self._recovering)
        steps: list[Step] = []
        desired_keys: set[tuple[str, str]] = set()
        for kind in KINDS:
            for name, res in self.stack.resources(kind).items():
                desired_keys.add((kind, name))
                steps.append(self._step(kind, name, res))
        steps += self._deletes(desired_keys)
        steps = self._repoint_dependents(steps)
        steps = self._settle_temporary_entries(steps)
        steps += self._backfills(steps)
        steps = self._order(steps)
        steps = self._check_data_loss(steps)
        self._check_protect(steps)
        if self.problems:
            # Problems quote manifest values (feature URIs, names), which may come from `${{ env.X }}`.
            secrets = self.stack.secrets
            problems = [_replace(p, message=mask(p.message, secrets), fix=mask(p.fix, secrets)) for p in self.problems]
            raise PlanError.of("the plan cannot be made", problems)
        # Collections nobody manages that the manifests do not declare are read for their
        # existence and features only (checked above), as before collections were a kind.
        fingerprints = {
            f"{k}/{n}": r.fingerprint
            for (k, n), r in sorted(self.live.resources.items())
            if k != "collection" or r.owner_stack is not None or n in self.stack.collections
        }
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

    def _capabilities(self) -> dict[CapabilityName, Capability]:
        found = self.options.taxonomy_versions
        return {} if found is None else {"taxonomy_versions": found}

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
        self.warnings.extend(unchecked_features(self.stack, self.live))

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

    def _check_data_loss(self, steps: list[Step]) -> list[Step]:
        """Every collection a step deletes or replaces carries its document count; one that holds
        documents (or whose count is unknown) is refused without --allow-data-loss."""
        out = []
        for s in steps:
            if s.kind != "collection" or s.action not in ("delete", "replace"):
                out.append(s)
                continue
            count = self._document_count(s.name)
            s = s.model_copy(update={"documents": count})
            out.append(s)
            self._check_foreign_entries(s)
            if count == 0 or self.options.allow_data_loss:
                continue
            held = (
                "an unknown number of documents (the count could not be read)"
                if count is None
                else (f"{count} document{'' if count == 1 else 's'}")
            )
            how = (
                "deleted"
                if s.action == "delete"
                else f"replaced ({', '.join(s.replace_reasons)} cannot change in place)"
            )
            self.problems.append(
                self._at(
                    s.kind,
                    s.name,
                    f"collection {s.name!r} would be {how}, and it holds {held}, which would be lost",
                    "pass --allow-data-loss to permit it; a protected environment also needs --allow-delete",
                )
            )
        return out

    def _check_foreign_entries(self, step: Step) -> None:
        """Application entries on a collection this plan deletes or replaces that this stack did
        not attach (another stack's, or attached by hand) go with it: the replacement starts with
        only this stack's entries. Refused without --allow-data-loss, naming them."""
        mine = self.stack.project.stack
        foreign = sorted(
            f"{live.name} ({f'stack {live.owner_stack!r}' if live.owner_stack else 'attached by hand'})"
            for (kind, _), live in self.live.resources.items()
            if kind == "application" and live.spec.get("collection") == step.name and live.owner_stack != mine
        )
        if not foreign:
            return
        what = "deleted" if step.action == "delete" else "replaced"
        message = (
            f"collection {step.name!r} would be {what}, and it carries application entries this stack did not "
            f"attach, which would be lost: {', '.join(foreign)}"
        )
        if self.options.allow_data_loss:
            self.warnings.append(message.replace("would be lost", "lost with it (--allow-data-loss)"))
            return
        self.problems.append(
            self._at(
                step.kind,
                step.name,
                message,
                "detach them first (their stack removes its binding and applies), or pass --allow-data-loss",
            )
        )

    def _document_count(self, name: str) -> int | None:
        """The exact count when the caller read one, else the listing's (approximate) count."""
        if name in self.live.document_counts:
            return self.live.document_counts[name]
        found = self.live.collections.get(name)
        return found.document_count if found is not None else None

    # --- pairing and diffing ------------------------------------------------------

    def _step(self, kind: Kind, name: str, res: Any) -> Step:
        desired = self.desired.normalised[(kind, name)]
        deps = self.desired.deps[(kind, name)]
        live = self.live.resources.get((kind, name))
        recover_from = None
        temporary = self._recovered_from.get((kind, name)) if live is None else None
        if temporary is not None:
            live = self.live.resources[(kind, temporary)]
            recover_from = live.name
        if live is None:
            return Step(kind=kind, name=name, action="create", depends_on=deps, **self._as_written(kind, name, res))
        adopt = self._ownership(kind, name, live)
        live_spec = live.spec
        if self._becoming:
            # A dependent re-pointed at a replacement that an interrupted apply left under its
            # temporary name refers to the resource this apply renames (recovered, or taken
            # over by the replace step of a kind planned earlier): not a change.
            live_spec = rewrite_refs(kind, live_spec, lambda k, v: self._becoming.get((k, v), v))
        live_norm, dropped = normalise_report(kind, live_spec)
        if dropped:
            self.warnings.append(f"{kind} {name!r}: ignored live fields mixops does not model: {', '.join(dropped)}")
        live_norm["name"] = name  # a recovered temporary keeps its old name until renamed
        fcs, reasons, worst = self._classified(kind, name, live_norm, desired, published=live.published)
        taxonomy_config: Literal["new_version", "replacement"] | None = None
        if kind == "taxonomy" and any(c.path.split(".")[0] == "config" for c in fcs):
            taxonomy_config = "new_version" if self._versions else "replacement"
        if worst is None and (adopt or recover_from):
            worst = Surface.IN_PLACE
        if recover_from:
            fcs.insert(0, FieldChange(path="name", old=recover_from, new=name, surface="in_place"))
        action: Action
        if worst is None:
            action = "noop"
        else:
            action = {Surface.IN_PLACE: "update", Surface.NEW_VERSION: "version", Surface.REPLACE: "replace"}[worst]  # type: ignore[assignment]
        return Step(
            kind=kind,
            name=name,
            action=action,
            live_id=live.id,
            changes=tuple(fcs),
            replace_reasons=tuple(reasons),
            depends_on=deps,
            adopt=adopt,
            recover_from=recover_from,
            **({} if action == "noop" else self._as_written(kind, name, res)),
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
                    path=c.dotted,
                    old=self._shown(kind, name, c.path, c.old),
                    new=self._shown(kind, name, c.path, c.new),
                    surface=_surface_name(surface),
                    params=() if c.new == MISSING else self._params_behind(kind, name, c.path, c.new),
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
        if (kind, temp.name) in self._recovering:
            # The step's own live copy (its old one is gone): what replaces it is a new resource,
            # created under the temporary name this one holds, so this one goes first.
            self._becoming.pop((kind, temp.name), None)
            return {"clear_temporary": temp.id}
        # It may read other temporaries of the same interrupted apply (a temporary cluster reads
        # the temporary collection): those this plan takes over are the resources it asks for.
        current = normalise(kind, rewrite_refs(kind, temp.spec, lambda k, v: self._becoming.get((k, v), v)))
        current["name"] = desired.get("name", current.get("name"))
        fcs, _, worst = self._classified(kind, name, current, desired, published=temp.published)
        if worst == Surface.REPLACE:
            self._becoming.pop((kind, temp.name), None)
            return {"clear_temporary": temp.id}
        self._becoming[(kind, temp.name)] = name
        return {"reuse_temporary": temp.id, "reuse_changes": tuple(fcs)}

    def _temporaries_to_recover(self) -> dict[tuple[str, str], str]:
        """(kind, temporary name) -> real name, for each desired resource `_step` will recover.

        An application entry is recovered from this stack's entry that becomes it once the
        temporaries recovered here take their names: one naming a temporary applied resource
        (`products/cluster/product_groups--mixops-new`), or on a temporary collection
        (`products--mixops-new/taxonomy/product_tags`).
        """
        out: dict[tuple[str, str], str] = {}
        mine = self.stack.project.stack
        for kind in KINDS:
            for name in self.stack.resources(kind):
                temp = self.live.resources.get((kind, name + TEMP_SUFFIX))
                if (kind, name) not in self.live.resources and temp is not None and temp.owner_stack == mine:
                    out[(kind, temp.name)] = name
        wanted = {
            name
            for name in self.stack.applications
            if ("application", name) not in self.live.resources and name not in out.values()
        }
        for key, live in sorted(self.live.resources.items()):
            if key[0] != "application" or live.owner_stack != mine or key in out:
                continue
            becomes = _entry_name(live, out)
            if becomes != live.name and becomes in wanted:
                out[key] = becomes
                wanted.discard(becomes)
        return out

    @property
    def _recovered_from(self) -> dict[tuple[str, str], str]:
        """(kind, real name) -> the temporary name `_step` recovers it from."""
        return {(kind, real): temp for (kind, temp), real in self._recovering.items()}

    def _shown(self, kind: str, name: str, path: tuple[str | int, ...], value: Any) -> Any:
        """A value for display, masked by value and by path: the live side may hold a rotated
        secret's old value. Only here, for output: what was compared is never masked."""
        from mixops.core.placeholders import mask_at_paths, mask_tree

        if value == MISSING:
            return _show(value)
        return mask_at_paths(mask_tree(value, self.stack.secrets), path, self.stack.secret_paths.get((kind, name), {}))

    def _params_behind(self, kind: str, name: str, path: tuple[str | int, ...], value: Any) -> tuple[str, ...]:
        from mixops.core.placeholders import params_behind

        origins = self.stack.param_paths.get((kind, name))
        return params_behind(origins, path, value) if origins else ()

    def _as_written(self, kind: str, name: str, res: Any) -> dict[str, Any]:
        """`desired` and `params` of a step: the spec as the user wrote it (no filled defaults),
        secrets masked, for display; and each of its fields a parameter filled, checked
        against the value there."""
        from mixops.core.bodies import spec_of
        from mixops.core.normalise import drop_empties
        from mixops.core.placeholders import mask_tree, params_behind, value_at

        written = spec_of(res)
        params = {}
        for path, origin in self.stack.param_paths.get((kind, name), {}).items():
            names = params_behind({path: origin}, path, value_at(written, path, MISSING))
            if names:
                params[render_path(path)] = names
        return {"desired": mask_tree(drop_empties(written), self.stack.secrets), "params": params}

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
        for key, live in sorted(self.live.resources.items()):
            if key in desired or live.owner_stack != mine or key in self._recovering or key in self._taken_temporaries:
                continue
            kind, name = key
            if kind == "application" and _on_temporary(live):
                self._temporary_entries.append(live)  # see _settle_temporary_entries
                continue
            if (
                kind == "collection"
                and not name.endswith(TEMP_SUFFIX)
                and self.options.prune
                and self._still_read(name)
            ):
                continue
            out += self._leftover(live)
        return out

    def _leftover(self, live: LiveResource) -> list[Step]:
        """An owned resource nothing declares: deleted when it is a temporary of an interrupted
        apply (always ours to clean up) or with --prune, else a warning."""
        if live.name.endswith(TEMP_SUFFIX) or self.options.prune:
            return [Step(kind=cast(Kind, live.kind), name=live.name, action="delete", live_id=live.id)]
        self.warnings.append(
            f"{live.kind} {live.name!r} is owned by this stack but no longer declared (--prune deletes it)"
        )
        return []

    def _settle_temporary_entries(self, steps: list[Step]) -> list[Step]:
        """This stack's entries an interrupted apply left on a temporary collection or naming a
        temporary, once every replace step says what it does with its temporary.

        An entry naming a temporary that a step deletes (`clear_temporary`) is detached by that
        step first: the collection would otherwise keep an entry naming a deleted resource, and
        the next write of its list would send that id back. An entry on a temporary collection
        that a step takes over becomes a declared entry, whose own step writes it again; one
        that becomes none (no longer declared, or naming a resource that is gone) is detached
        by the taking step first. On a temporary collection that is deleted, it goes with it.
        Any other is a leftover like any owned resource.
        """
        clearing = {s.clear_temporary: i for i, s in enumerate(steps) if s.clear_temporary}
        taking: dict[str, int] = {}
        going: set[str] = set()
        for i, s in enumerate(steps):
            if s.kind != "collection":
                continue
            if s.reuse_temporary or s.recover_from:
                taking[s.recover_from or s.name + TEMP_SUFFIX] = i
            if s.clear_temporary:
                going.add(s.name + TEMP_SUFFIX)
            if s.action == "delete":
                going.add(s.name)
        detach: dict[int, list[str]] = {}
        out = list(steps)
        for live in self._temporary_entries:
            collection, app_type = str(live.spec.get("collection")), str(live.spec.get("type"))
            target = self.live.resources.get((app_type, str(live.spec.get(APPLICATION_TARGET.get(app_type, "")))))
            if collection in going:
                continue
            if target is not None and target.id in clearing:
                detach.setdefault(clearing[target.id], []).append(live.id)
            elif collection in taking:
                if _entry_name(live, self._becoming) not in self.stack.applications:
                    detach.setdefault(taking[collection], []).append(live.id)
            else:
                out += self._leftover(live)
        for i, ids in detach.items():
            out[i] = out[i].model_copy(update={"detach_first": tuple(sorted(ids))})
        return out

    def _still_read(self, collection: str) -> bool:
        """A collection no longer declared that declared resources still read: the manifests
        reference it as an existing collection, so prune must not delete it from under them
        (the next plan could not be made). A problem, located at the first place naming it."""
        uses = list(collection_uses(self.stack, collection))
        if not uses:
            return False
        readers = ", ".join(dict.fromkeys(f"{k} {n!r}" for k, n, _ in uses))
        message = (
            f"collection {collection!r} is no longer declared, but {readers} still read it: "
            "--prune would delete it from under them"
        )
        fix = "remove what reads it too, or declare the collection again"
        kind, name, sub = uses[0]
        origin = self.stack.origins.get((kind, name))
        if origin is None:
            self.problems.append(Problem("", message=message, fix=fix, kind="collection", name=collection))
        else:
            found = origin.problem(message, fix, sub, self.stack.docs.get((kind, name)))
            self.problems.append(_replace(found, kind="collection", name=collection))
        return True

    # --- backfills ------------------------------------------------------------------

    def _backfills(self, steps: list[Step]) -> list[Step]:
        """One `backfill` step per taxonomy application entry whose backfill is due.

        Attaching an entry enriches the documents ingested afterwards; the documents already in
        the collection are enriched only by the apply-taxonomy task, a billed job that runs only
        as a step of its own. It is due, for an entry declared with `backfill: true`, when this
        plan attaches the entry, changes it (a re-pointed reference included), or gives its
        taxonomy a new config (new version or replacement); and for any declared taxonomy entry
        named by `--backfill`. Nothing else makes one due, so an applied plan stays empty.
        """
        by_key = {s.key: s for s in steps}
        asked = self._asked_backfills()
        out = []
        for name, app in sorted(self.stack.applications.items()):
            if app.type != "taxonomy":
                continue
            due: list[str] = []
            if app.backfill:
                due += self._backfill_due(by_key, name, str(app.entry().get("taxonomy_id")))
            if name in asked:
                due.append(ASKED_BACKFILL)
            if not due:
                continue
            collection = self.live.collections.get(app.collection)
            # A collection this apply creates (or replaces) has no id yet, nor a count worth showing.
            made = by_key.get(("collection", app.collection))
            created = made is not None and made.action in ("create", "replace")
            out.append(
                Step(
                    kind="backfill",
                    name=name,
                    action="backfill",
                    live_id=None if created or collection is None else collection.id,
                    depends_on=(("application", name),),
                    desired={"collection": app.collection, "taxonomy_id": app.entry().get("taxonomy_id")},
                    documents=None if created else self._document_count(app.collection),
                    backfill_due=tuple(due),
                )
            )
        return out

    def _backfill_due(self, steps: dict[tuple[str, str], Step], name: str, taxonomy: str) -> list[str]:
        due = []
        entry = steps.get(("application", name))
        if entry is not None and entry.action == "create":
            due.append("the entry is attached")
        elif entry is not None and entry.action != "noop" and entry.changes:
            due.append("the entry changes")
        applied = steps.get(("taxonomy", taxonomy))
        if applied is not None and applied.action in ("version", "replace"):
            how = "gets a new version" if applied.action == "version" else "is replaced"
            due.append(f"taxonomy {taxonomy!r} {how}")
        return due

    def _asked_backfills(self) -> set[str]:
        """The entries `--backfill COLLECTION/TAXONOMY` names; a name no declared taxonomy
        application matches is a problem naming those that exist."""
        declared = {
            f"{app.collection}/{app.entry().get('taxonomy_id')}": name
            for name, app in self.stack.applications.items()
            if app.type == "taxonomy"
        }
        out = set()
        for wanted in self.options.backfill:
            name = declared.get(wanted)
            if name is None and wanted in declared.values():
                name = wanted  # the entry's own name, `<collection>/taxonomy/<taxonomy>` (not a cluster's)
            if name is None:
                known = ", ".join(sorted(declared)) or "none are declared"
                self.problems.append(
                    Problem(
                        "",
                        message=f"--backfill {wanted!r}: the manifests declare no application of that taxonomy to "
                        f"that collection (declared taxonomy applications: {known})",
                        fix="name one as COLLECTION/TAXONOMY, e.g. --backfill "
                        + (sorted(declared)[0] if declared else "products/product_tags"),
                    )
                )
                continue
            out.add(name)
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
        replaced = {ref: old for ref, old in replaced.items() if not self._reads_replacement(s, ref)}
        hits = tuple(f"{k} {n!r}" for k, n in s.depends_on if (k, n) in replaced)
        if not hits or s.action in ("create", "replace", "delete") or s.kind == "backfill":
            return s
        kind = s.kind  # a resource's step: backfills are planned after re-pointing
        ctx = Context(taxonomy_versions=self._versions)
        # Each reference to a replaced resource is a field change to the replacement's id, on the
        # surface of the field holding it: a taxonomy's config (a new version or a replacement),
        # a retriever's collection_identifiers (in place), a cluster's collection_ids (not in its
        # PATCH surface: the cluster is replaced too, or it would keep reading the deleted one).
        paths = [p for p, ref_kind, ref_name in self.stack.refs(kind, s.name) if (ref_kind, ref_name) in replaced]
        surface, path = max(
            ((classify(kind, p, ctx), p) for p in paths), key=lambda sp: sp[0], default=(Surface.IN_PLACE, ())
        )
        action: Action = s.action
        extra: dict[str, Any] = {}
        if surface == Surface.REPLACE:
            action = "replace"
            reason = f"config ({NO_VERSIONS})" if kind == "taxonomy" else replace_reason(kind, path, ctx)
            extra = {
                "replace_reasons": s.replace_reasons + (() if reason in s.replace_reasons else (reason,)),
                **({} if s.desired else self._as_written(kind, s.name, self.stack.resources(kind)[s.name])),
                **self._stale_temporary(kind, s.name, self.desired.normalised[s.key]),
            }
        elif s.action in ("noop", "update"):
            action = "version" if surface == Surface.NEW_VERSION else "update"
        if s.kind == "taxonomy":
            extra["taxonomy_config"] = "new_version" if surface == Surface.NEW_VERSION else "replacement"
        notes = tuple(self._repoint_changes(s, replaced, surface))
        return s.model_copy(update={"action": action, "changes": s.changes + notes, "repoint": hits, **extra})

    def _reads_replacement(self, s: Step, ref: tuple[str, str]) -> bool:
        """The live resource of `s` already reads the temporary that this plan takes over as the
        replacement of `ref` (an interrupted apply re-pointed it): nothing to re-point."""
        kind, name = ref
        temp = (kind, name + TEMP_SUFFIX)
        if self._becoming.get(temp) != name:
            return False
        live = self.live.resources.get((s.kind, s.recover_from or s.name))
        return live is not None and any((k, v) == temp for _, k, v in iter_refs(s.kind, live.spec))

    def _repoint_changes(self, step: Step, replaced: dict[tuple[str, str], str], surface: Surface) -> list[FieldChange]:
        """One change per reference to a replaced resource: same name, the replacement's id."""
        out = []
        for path, ref_kind, ref_name in self.stack.refs(cast(Kind, step.kind), step.name):
            if (ref_kind, ref_name) in replaced:
                old_id = replaced[(ref_kind, ref_name)]
                out.append(
                    FieldChange(
                        path=render_path(path),
                        old=f"{ref_name} ({old_id})",
                        new=f"{ref_name} (its replacement)",
                        surface=_surface_name(surface),
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
            if s.action in ("delete", "backfill"):
                out.append(s)
                continue
            out.append(_with_wave(s, level(s.key)))
        # Backfills run last (ports/apply.py): after every resource, swap and delete is done.
        last = 1 + max((s.wave for s in out if s.action not in ("delete", "backfill")), default=-1)
        out = [_with_wave(s, last) if s.action == "backfill" else s for s in out]
        kind_rank: dict[str, int] = {k: i for i, k in enumerate(KINDS)}
        out.sort(key=lambda s: (s.action == "backfill", s.action == "delete", s.wave, kind_rank.get(s.kind, 9), s.name))
        return out


def _entry_name(live: LiveResource, becoming: dict[tuple[str, str], str]) -> str:
    """The name an application entry has once the temporaries in `becoming` have their real names."""
    spec = rewrite_refs("application", live.spec, lambda k, v: becoming.get((k, v), v))
    app_type = str(spec.get("type"))
    return application_name(str(spec.get("collection")), app_type, str(spec.get(APPLICATION_TARGET.get(app_type, ""))))


def _on_temporary(live: LiveResource) -> bool:
    """An application entry on a temporary collection, or naming a temporary."""
    target = APPLICATION_TARGET.get(str(live.spec.get("type")), "")
    return any(str(live.spec.get(key, "")).endswith(TEMP_SUFFIX) for key in ("collection", target))


def _with_wave(s: Step, wave: int) -> Step:
    return s if s.wave == wave else s.model_copy(update={"wave": wave})


def _surface_name(surface: Surface) -> SurfaceName:
    names: dict[Surface, SurfaceName] = {
        Surface.IN_PLACE: "in_place",
        Surface.NEW_VERSION: "new_version",
        Surface.REPLACE: "replace",
    }
    return names[surface]


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
