"""Assemble loaded manifest documents into one validated `Stack` (pure).

Input: the documents the loader read (plain data with source positions), the
project config, the environment name and the process environment. Output: a
`Stack` holding every resource by (kind, name), where each was declared, the
parameter values in force and the secret values to mask. Every problem of the
run is collected and raised at once as a `ManifestError`.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from mixops.core.locations import Locatable, Path, problems_from_validation, render_path
from mixops.core.models.cluster import Cluster
from mixops.core.models.collection import (
    APPLICATION_LIST,
    APPLICATION_TARGET,
    Application,
    ClusterApplicationBinding,
    Collection,
    RetrieverEnrichmentBinding,
    TaxonomyApplicationBinding,
    application_name,
)
from mixops.core.models.manifest import SUPPORTED_VERSIONS, ManifestFile, Parameter
from mixops.core.models.project import ProjectConfig
from mixops.core.models.retriever import Retriever
from mixops.core.models.taxonomy import Taxonomy
from mixops.core.models.tests import Test, TestCase
from mixops.core.placeholders import (
    ParamOrigin,
    Resolution,
    Template,
    check_param_value,
    iter_placeholders,
    mask,
    resolve,
)
from mixops.core.refpaths import iter_refs
from mixops.errors import ManifestError, Problem

_T = TypeVar("_T")

Kind = Literal["collection", "retriever", "taxonomy", "cluster", "application"]
# In dependency order of a typical stack (the plan orders by references; this breaks ties).
KINDS: tuple[Kind, ...] = ("collection", "retriever", "taxonomy", "cluster", "application")
# The manifest section of each kind users declare directly. Applications come from the
# application lists of a collection or from the top-level binding sections (BINDING_SECTIONS).
SECTION: dict[Kind, str] = {
    "collection": "collections",
    "retriever": "retrievers",
    "taxonomy": "taxonomies",
    "cluster": "clusters",
}
BINDING_SECTIONS: dict[str, str] = {section: app_type for app_type, section in APPLICATION_LIST.items()}
Resource = Collection | Retriever | Taxonomy | Cluster | Application
RefHit = tuple[Path, str, Any]  # (path inside the spec, referenced kind, the value there)


class SourceDocLike(Protocol):
    @property
    def file(self) -> str: ...
    @property
    def index(self) -> int: ...
    @property
    def data(self) -> Any: ...

    def locate(self, path: Sequence[str | int]) -> tuple[int, int]: ...


_SINGULAR = {
    "collections": "collection",
    "applications": "application",
    "retrievers": "retriever",
    "taxonomies": "taxonomy",
    "clusters": "cluster",
    "tests": "test",
}


@dataclass(frozen=True)
class Origin:
    """Where something was declared: for error messages and plan output."""

    file: str
    line: int
    col: int
    path: Path

    def problem(self, message: str, fix: str = "", sub: Path = (), doc: SourceDocLike | None = None) -> Problem:
        line, col = doc.locate((*self.path, *sub)) if doc is not None else (self.line, self.col)
        return Problem(self.file, line, col, render_path((*self.path, *sub)), message, fix)


@dataclass(repr=False)
class Stack:
    """Everything the manifests declare, validated, for one environment."""

    project: ProjectConfig
    environment: str
    collections: dict[str, Collection] = field(default_factory=dict)
    retrievers: dict[str, Retriever] = field(default_factory=dict)
    taxonomies: dict[str, Taxonomy] = field(default_factory=dict)
    clusters: dict[str, Cluster] = field(default_factory=dict)
    # One entry per application of a resource to a collection (inline or a binding), by
    # `<collection>/<type>/<applied name>`: attached, updated and pruned entry by entry.
    applications: dict[str, Application] = field(default_factory=dict)
    tests: list[TestCase] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)
    origins: dict[tuple[str, str], Origin] = field(default_factory=dict)
    docs: dict[tuple[str, str], SourceDocLike] = field(default_factory=dict)
    secrets: frozenset[str] = frozenset()
    secret_names: dict[str, str] = field(default_factory=dict)  # secret value -> its variable name
    # (kind, name) -> paths inside that resource (or test) filled from `${{ env.X }}`: output masks
    # the live value there too, whatever it is (core/placeholders.mask_at_paths).
    secret_paths: dict[tuple[str, str], dict[Path, Template]] = field(default_factory=dict)
    # (kind, name) -> paths inside that resource filled from `${{ params.X }}`: the plan says
    # which parameter a changed value comes from (core/placeholders.params_behind).
    param_paths: dict[tuple[str, str], dict[Path, ParamOrigin]] = field(default_factory=dict)
    files: tuple[str, ...] = ()
    # Per-resource plain data, computed once: validation, the plan and apply all read it.
    # HAZARD: callers must treat what `spec` and `refs` return as read-only.
    _specs: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict, init=False, compare=False)
    _refs: dict[tuple[str, str], tuple[RefHit, ...]] = field(default_factory=dict, init=False, compare=False)

    # Short on purpose: see the hazard noted at Plan.__repr__ (core/plan.py).
    def __repr__(self) -> str:
        counts = ", ".join(f"{k}={v}" for k, v in self.count().items())
        return f"Stack({self.project.stack!r}, environment={self.environment!r}, {counts})"

    def resources(self, kind: Kind) -> Mapping[str, Resource]:
        table: dict[Kind, Mapping[str, Resource]] = {
            "collection": self.collections,
            "retriever": self.retrievers,
            "taxonomy": self.taxonomies,
            "cluster": self.clusters,
            "application": self.applications,
        }
        return table[kind]

    def spec(self, kind: Kind, name: str) -> dict[str, Any]:
        """The resource as plain data (`dump_resource`), cached; do not mutate it."""
        key = (kind, name)
        out = self._specs.get(key)
        if out is None:
            out = self._specs[key] = dump_resource(self.resources(kind)[name])
        return out

    def refs(self, kind: Kind, name: str) -> tuple[RefHit, ...]:
        """Every (path, referenced kind, value) of the resource (refpaths.iter_refs), cached."""
        key = (kind, name)
        out = self._refs.get(key)
        if out is None:
            out = self._refs[key] = tuple(iter_refs(kind, self.spec(kind, name)))
        return out

    def count(self) -> dict[str, int]:
        return {
            **({"collections": len(self.collections)} if self.collections else {}),
            **({"applications": len(self.applications)} if self.applications else {}),
            "retrievers": len(self.retrievers),
            "taxonomies": len(self.taxonomies),
            "clusters": len(self.clusters),
            "tests": len(self.tests),
        }

    def counts_line(self) -> str:
        """`4 collections, 1 application, 5 retrievers, ...`: the counts, each noun in its number."""
        from mixops.core.wording import count

        return ", ".join(count(n, _SINGULAR[k]) for k, n in self.count().items())

    def digest(self) -> str:
        """Digest of the desired state: what `promote` compares across environments."""
        h = hashlib.sha256()
        for kind in KINDS:
            for name in sorted(self.resources(kind)):
                h.update(json.dumps([kind, name, self.spec(kind, name)], sort_keys=True).encode())
        for test in sorted(self.tests, key=lambda t: t.name):
            h.update(json.dumps(test.model_dump(mode="json", exclude_none=True), sort_keys=True).encode())
        return h.hexdigest()[:16]


_param = TypeAdapter(Parameter)
_ITEMS: dict[str, TypeAdapter[Any]] = {
    "collections": TypeAdapter(Collection),
    "taxonomy_applications": TypeAdapter(TaxonomyApplicationBinding),
    "cluster_applications": TypeAdapter(ClusterApplicationBinding),
    "retriever_enrichments": TypeAdapter(RetrieverEnrichmentBinding),
    "retrievers": TypeAdapter(Retriever),
    "taxonomies": TypeAdapter(Taxonomy),
    "clusters": TypeAdapter(Cluster),
    "tests": TypeAdapter(Test),
}
KIND_OF: dict[str, str] = {
    "collections": "collection",
    "retrievers": "retriever",
    "taxonomies": "taxonomy",
    "clusters": "cluster",
    "taxonomy_applications": "application",
    "cluster_applications": "application",
    "retriever_enrichments": "application",
    "tests": "test",
}


@dataclass
class Undecided:
    """Names that broken input may declare: references to them are not reported.

    A resource whose own declaration has a problem (already reported) still declares
    its name; a file that could not be read to the end, or a section that is not a
    list, may declare any name. Reporting "unknown retriever" for those would only
    repeat a problem as a false one of its own.
    """

    names: dict[str, set[str]] = field(default_factory=dict)
    kinds: set[str] = field(default_factory=set)  # kinds any name of which may be declared
    params: set[str] = field(default_factory=set)
    any_param: bool = False
    texts: list[str] = field(default_factory=list)  # of files that could not be parsed to the end

    def covers(self, kind: str, name: str) -> bool:
        return kind in self.kinds or name in self.names.get(kind, ()) or self.in_unread(name)

    def in_unread(self, name: str) -> bool:
        """Whether a file that could not be parsed may declare `name`: only if it is written there."""
        return any(name in text for text in self.texts)

    def add_item(self, section: str, item: Any) -> None:
        kind = KIND_OF[section]
        name = item.get("name") if isinstance(item, dict) else None
        if kind == "application":
            self.kinds.add(kind)  # an entry's name is derived from several of its fields
            return
        if isinstance(name, str):
            self.names.setdefault(kind, set()).add(name)
        else:
            self.kinds.add(kind)

    def everything(self) -> None:
        self.kinds.update(KIND_OF.values())
        self.any_param = True


# Over 80 lines on purpose: two passes over the documents (parameters, then resources) share the
# problems found so far, the stack being built and what is still undecided; split up, each part would
# take and return all of them, and the order of the passes is the point. The passes are marked inside.
def build_stack(
    docs: Sequence[SourceDocLike],
    project: ProjectConfig,
    environment: str,
    env_vars: Mapping[str, str],
    *,
    unread: Mapping[str, str | None] | None = None,
    project_doc: Locatable | None = None,
) -> Stack:
    """Validate `docs` into a Stack; raise ManifestError with every problem of the run.

    Every independent problem is reported in one run: a document, resource or parameter
    with a problem does not stop the others from being validated, and cross-resource
    checks always run. `unread` maps files that could not be parsed to the end to their
    text (None: not readable at all): a reference to a name written there is not
    reported, since that file may be what declares it. `project_doc` is mixops.yaml as
    read, to locate problems with an environment's parameter values.
    """
    problems: list[Problem] = []
    stack = Stack(project=project, environment=environment, files=tuple(sorted({d.file for d in docs})))
    if environment not in project.environments:
        raise ManifestError(
            [
                Problem(
                    "mixops.yaml",
                    0,
                    0,
                    "environments",
                    f"unknown environment {environment!r}",
                    f"one of: {', '.join(project.environments)}",
                )
            ]
        )
    env_conf = project.environments[environment]
    undecided = Undecided()
    for text in (unread or {}).values():
        if text is None:
            undecided.everything()
        else:
            undecided.texts.append(text)

    # Pass 1: parameter declarations from every document (they are global to the stack).
    declared: dict[str, Parameter] = {}
    for doc in docs:
        if not _check_root(doc, problems):
            continue
        raw = doc.data.get("parameters")
        if raw is None:
            continue
        if not isinstance(raw, list):
            line, col = doc.locate(("parameters",))
            problems.append(
                Problem(doc.file, line, col, "parameters", "`parameters` must be a list", "write `- {name: ...}` items")
            )
            undecided.any_param = True
            continue
        for i, item in enumerate(raw):
            try:
                p = _param.validate_python(item, strict=True)
            except ValidationError as err:
                problems += problems_from_validation(err, doc, base=("parameters", i), model=Parameter)
                name = item.get("name") if isinstance(item, dict) else None
                if isinstance(name, str):
                    undecided.params.add(name)
                else:
                    undecided.any_param = True
                continue
            if p.name in declared:
                line, col = doc.locate(("parameters", i, "name"))
                problems.append(
                    Problem(
                        doc.file,
                        line,
                        col,
                        f"parameters[{i}].name",
                        f"parameter {p.name!r} is declared twice",
                        "keep one declaration",
                    )
                )
            declared[p.name] = p

    values: dict[str, Any] = {name: p.default for name, p in declared.items()}
    for name, value in env_conf.parameters.items():
        where = ("environments", environment, "parameters", name)
        line, col = project_doc.locate(where) if project_doc is not None else (0, 0)
        if name not in declared:
            if not (undecided.any_param or name in undecided.params or undecided.in_unread(name)):
                close = difflib.get_close_matches(name, list(declared), n=1, cutoff=0.75)
                fix = f"did you mean {close[0]!r}?" if close else "declare it under `parameters:` or remove the value"
                message = f"parameter {name!r} is not declared in any manifest"
                problems.append(Problem("mixops.yaml", line, col, render_path(where), message, fix))
            continue
        why = check_param_value(declared[name], value)
        if why:
            problems.append(Problem("mixops.yaml", line, col, render_path(where), why))
            continue
        values[name] = value
    stack.parameters = values
    quiet: frozenset[str] | None = None
    if not undecided.any_param:
        # Parameters declared with problems, and those an unparsable file may declare.
        maybe = {name for name in _placeholder_params(docs) if undecided.in_unread(name)} if undecided.texts else set()
        quiet = frozenset(undecided.params | maybe)

    # Pass 2: resolve placeholders and validate each document against the models.
    secrets: set[str] = set()
    for doc in docs:
        # Every document is a manifest or a problem: a document skipped without a word
        # would make its resources look deleted, and `apply --prune` would delete them.
        if not isinstance(doc.data, dict) or not _check_version(doc, problems):
            continue
        body = {k: v for k, v in doc.data.items() if k != "parameters"}
        # A loader that can tell no string holds `${{` lets us skip the walk (10,000 resources: 0.1 s).
        if getattr(doc, "may_hold_placeholders", True):
            res = resolve(body, values, env_vars, quiet=quiet)
        else:
            res = Resolution(body)
        secrets |= res.secrets
        stack.secret_names.update(res.secret_names)
        for path, message, fix in res.problems:
            line, col = doc.locate(path)
            problems.append(Problem(doc.file, line, col, render_path(path), message, fix))
        parts = _validate_document(doc, res.data, problems, undecided)
        _merge(stack, parts, doc, problems)
        _record_paths(stack, res.data, res.secret_paths, stack.secret_paths)
        _record_paths(stack, res.data, res.param_paths, stack.param_paths)

    stack.secrets = frozenset(secrets)
    from mixops.core.references import check_references

    problems += check_references(stack, undecided)
    if problems:
        raise ManifestError([_mask_problem(p, stack.secrets) for p in problems])
    return stack


def _placeholder_params(docs: Sequence[SourceDocLike]) -> set[str]:
    """Names of every `${{ params.X }}` the documents use (only when some file is unreadable)."""
    names: set[str] = set()
    todo: list[Any] = [d.data for d in docs]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            todo.extend(node.values())
        elif isinstance(node, list):
            todo.extend(node)
        elif isinstance(node, str) and "${{" in node:
            for _, _, expr in iter_placeholders(node):
                if expr.startswith("params."):
                    names.add(expr.removeprefix("params."))
    return names


Parts = dict[str, list[tuple[int, Any]]]  # section -> (index in the document, validated item)


def _validate_document(
    doc: SourceDocLike, data: dict[str, Any], problems: list[Problem], undecided: Undecided
) -> Parts:
    """The document's valid resources and tests by section; every problem appended.

    The whole document is validated at once (the common, fast case). When that fails,
    each item is validated on its own, so one broken resource hides neither the other
    resources of the document nor the cross-resource checks that involve them.
    """
    try:
        manifest = ManifestFile.model_validate({**data, "version": "1.0", "parameters": []}, strict=True)
    except ValidationError as err:
        problems += problems_from_validation(err, doc, data=data, model=ManifestFile)
    else:
        return {section: list(enumerate(getattr(manifest, section))) for section in MANIFEST_SECTIONS}
    parts: Parts = {section: [] for section in MANIFEST_SECTIONS}
    for section in MANIFEST_SECTIONS:
        items = data.get(section)
        if items is None:
            continue
        if not isinstance(items, list):
            undecided.kinds.add(KIND_OF[section])  # reported above; what it declares is unknown
            continue
        for i, item in enumerate(items):
            try:
                parts[section].append((i, _ITEMS[section].validate_python(item, strict=True)))
            except ValidationError:
                undecided.add_item(section, item)  # reported above, with the whole document
    for key in data:
        if key not in ManifestFile.model_fields:
            undecided.everything()  # an unknown top-level key (`retriever:`) may hold anything
    return parts


def _check_root(doc: SourceDocLike, problems: list[Problem]) -> bool:
    if isinstance(doc.data, dict):
        return True
    line, col = doc.locate(())
    kind = type(doc.data).__name__ if doc.data is not None else "empty"
    problems.append(
        Problem(
            doc.file,
            line,
            col,
            "",
            f"the document root must be a mapping, got {kind}",
            'start the document with `version: "1.0"`',
        )
    )
    return False


MANIFEST_SECTIONS = (
    "collections",
    "retrievers",
    "taxonomies",
    "clusters",
    "taxonomy_applications",
    "cluster_applications",
    "retriever_enrichments",
    "tests",
)


def _check_version(doc: SourceDocLike, problems: list[Problem]) -> bool:
    """Whether to validate the document's contents; a version problem is appended.

    A document with a missing or unsupported version that holds manifest sections is
    still validated (as version 1.0): its other problems belong in the same run.
    """
    if "version" not in doc.data:
        problems.append(_missing_version(doc))
        return any(k in doc.data for k in (*MANIFEST_SECTIONS, "metadata"))
    version = doc.data.get("version")
    if version in SUPPORTED_VERSIONS:
        return True
    line, col = doc.locate(("version",))
    hint = ' (write it quoted: version: "1.0")' if isinstance(version, float | int) else ""
    problems.append(
        Problem(
            doc.file,
            line,
            col,
            "version",
            f"unsupported manifest version {version!r}{hint}",
            f"supported: {', '.join(SUPPORTED_VERSIONS)}",
        )
    )
    return True


def _missing_version(doc: SourceDocLike) -> Problem:
    line, col = doc.locate(())
    declared = [k for k in (*MANIFEST_SECTIONS, "parameters") if k in doc.data]
    if declared:
        return Problem(
            doc.file,
            line,
            col,
            "version",
            f"this document declares {', '.join(declared)} but has no `version:`",
            'add `version: "1.0"` at the top of the document',
        )
    keys = ", ".join(str(k) for k in list(doc.data)[:5]) + (", ..." if len(doc.data) > 5 else "")
    return Problem(
        doc.file,
        line,
        col,
        "version",
        f"not a mixops manifest: no `version:` ({f'keys: {keys}' if keys else 'an empty mapping'})",
        'start a manifest with `version: "1.0"`, or move the file out of the manifest paths '
        "(`manifests:` in mixops.yaml)",
    )


def _merge(stack: Stack, parts: Parts, doc: SourceDocLike, problems: list[Problem]) -> None:
    sections: list[tuple[Kind, list[tuple[int, Any]], dict[str, Any]]] = [
        ("collection", parts["collections"], stack.collections),
        ("retriever", parts["retrievers"], stack.retrievers),
        ("taxonomy", parts["taxonomies"], stack.taxonomies),
        ("cluster", parts["clusters"], stack.clusters),
    ]
    for kind, items, table in sections:
        for i, res in items:
            path: Path = (SECTION[kind], i)
            here = Origin(doc.file, *doc.locate((*path, "name")), path)
            key = (kind, res.name)
            if key in stack.origins:
                first = stack.origins[key]
                problems.append(
                    here.problem(
                        f"duplicate {kind} name {res.name!r} (first declared at {first.file}:{first.line})",
                        "names are unique per kind; rename one",
                        ("name",),
                    )
                )
                continue
            if kind == "collection":
                res = _split_applications(stack, res, path, doc, problems)
            table[res.name] = res
            stack.origins[key] = here
            stack.docs[key] = doc
    for section, app_type in BINDING_SECTIONS.items():
        for i, binding in parts[section]:
            entry = binding.model_dump(mode="json", by_alias=True, exclude_unset=True, exclude_none=True)
            collection = entry.pop("collection")
            _add_application(stack, collection, app_type, entry, (section, i), doc, problems)
    seen_tests = {t.name for t in stack.tests}
    for i, test in parts["tests"]:
        path = ("tests", i)
        here = Origin(doc.file, *doc.locate((*path, "name")), path)
        if test.name in seen_tests:
            first = stack.origins[("test", test.name)]
            problems.append(
                here.problem(
                    f"duplicate test name {test.name!r} (first declared at {first.file}:{first.line})",
                    "test names are unique; rename one",
                    ("name",),
                )
            )
            continue
        seen_tests.add(test.name)
        stack.tests.append(test)
        stack.origins[("test", test.name)] = here
        stack.docs[("test", test.name)] = doc


def _split_applications(
    stack: Stack, res: Collection, path: Path, doc: SourceDocLike, problems: list[Problem]
) -> Collection:
    """The collection without its application lists; each entry becomes an `Application`."""
    cleared: dict[str, Any] = {}
    for app_type, list_key in APPLICATION_LIST.items():
        entries = getattr(res, list_key)
        if entries is None:
            continue
        cleared[list_key] = None
        for j, entry in enumerate(entries):
            data = entry.model_dump(mode="json", by_alias=True, exclude_unset=True, exclude_none=True)
            _add_application(stack, res.name, app_type, data, (*path, list_key, j), doc, problems)
    if not cleared:
        return res
    out = res.model_copy(update=cleared)
    # `model_copy` marks the cleared fields as set; spec_of (exclude_unset) must not see them.
    out.__pydantic_fields_set__.difference_update(cleared)
    return out


def _add_application(
    stack: Stack,
    collection: str,
    app_type: str,
    entry: dict[str, Any],
    path: Path,
    doc: SourceDocLike,
    problems: list[Problem],
) -> None:
    target = entry[APPLICATION_TARGET[app_type]]
    name = application_name(collection, app_type, target)
    key = ("application", name)
    here = Origin(doc.file, *doc.locate((*path, APPLICATION_TARGET[app_type])), path)
    if key in stack.origins:
        first = stack.origins[key]
        problems.append(
            here.problem(
                f"{app_type} {target!r} is applied to collection {collection!r} twice "
                f"(first at {first.file}:{first.line})",
                "keep one entry per collection and applied resource",
                (APPLICATION_TARGET[app_type],),
            )
        )
        return
    app = Application.model_validate({"name": name, "collection": collection, "type": app_type, **entry})
    stack.applications[name] = app
    stack.origins[key] = here
    stack.docs[key] = doc


def _record_paths(
    stack: Stack, data: Any, paths: Mapping[Path, _T], into: dict[tuple[str, str], dict[Path, _T]]
) -> None:
    """File a document's placeholder paths (`retrievers[3].x.y`) under the resource they are in."""
    kinds: dict[str, str] = {section: kind for kind, section in SECTION.items()}
    kinds["tests"] = "test"
    for path, template in paths.items():
        if len(path) < 2 or path[0] not in kinds or not isinstance(path[1], int):
            continue
        items = data.get(path[0])
        item = items[path[1]] if isinstance(items, list) and path[1] < len(items) else None
        if not isinstance(item, dict):
            continue
        key = (kinds[str(path[0])], str(item.get("name")))
        if stack.docs.get(key) is not None and key in stack.origins:
            into.setdefault(key, {})[path[2:]] = template


def _mask_problem(p: Problem, secrets: frozenset[str]) -> Problem:
    if not secrets:
        return p
    return Problem(p.file, p.line, p.col, p.path, mask(p.message, secrets), mask(p.fix, secrets))


def dump_resource(res: BaseModel) -> dict[str, Any]:
    """The resource as plain data, without fields left at None."""
    out: dict[str, Any] = res.model_dump(mode="json", exclude_none=True, by_alias=True)
    return out
