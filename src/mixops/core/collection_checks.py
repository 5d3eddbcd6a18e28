"""Do the collections and feature URIs the manifests use exist in the namespace? (pure)

A collection the manifests do not declare is only referenced, so a manifest naming
one that is not there, or a feature URI its collection has no vector index for, makes
every apply fail. The plan refuses to be made on these findings; `mixops
doctor` shows them one per row, the satisfied ones included.

A collection the plan creates, or replaces with a new extractor, has no indexes to read
yet: a URI naming another extractor than its declared one is refused offline
(`declared_feature_problems`, run by validate), and its outputs are checked against the
extractor catalog when the plan read it (`_predicted_finding`), else a warning says
they were not (`unchecked_features`). See core/feature_uris.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from mixops.core.feature_uris import (
    CATALOG_ROUTE,
    Output,
    checkable,
    could_resolve,
    predicted_collection,
    prefix,
    suggestion,
)
from mixops.core.live import LiveState
from mixops.core.locations import Path
from mixops.core.stack import KINDS, Stack
from mixops.errors import Problem


@dataclass(frozen=True)
class CollectionFinding:
    """One collection the manifests name, or one feature URI used on one collection."""

    collection: str
    uri: str | None = None  # None: the collection itself
    user: str = ""  # "retriever 'x'" for a feature use
    problem: str | None = None  # None: satisfied
    collection_id: str | None = None
    # The problem at each manifest entry that causes it (the collection's name in every
    # resource naming it; the feature URI): what annotations and the plan error carry.
    located: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class FeatureUse:
    """A feature URI a resource searches or clusters, on which collections, written where."""

    kind: str
    name: str
    collections: list[str]
    uri: str
    sub: Path  # the URI's path inside the resource


def feature_uses(stack: Stack) -> Iterable[FeatureUse]:
    """Every feature URI a resource searches or clusters."""
    for name, r in stack.retrievers.items():
        for i, stage in enumerate(r.stages):
            params = stage.parameters_dict()
            at: Path = ("stages", i, "config", "parameters")
            if stage.stage_id in ("feature_search", "feature_filter"):
                for j, search in enumerate(params.get("searches") or []):
                    cols = search.get("collection_identifiers") or params.get("collection_identifiers")
                    sub = (*at, "searches", j, "feature_uri")
                    yield FeatureUse("retriever", name, cols or r.collection_identifiers, search["feature_uri"], sub)
            elif stage.stage_id == "hybrid_search":
                yield FeatureUse(
                    "retriever", name, r.collection_identifiers, params["feature_uri"], (*at, "feature_uri")
                )
    for name, c in stack.clusters.items():
        if c.vector_config is not None:
            for k, uri in enumerate(c.vector_config.feature_uris):
                sub = ("vector_config", "feature_uris", k)
                yield FeatureUse("cluster", name, list(c.collection_ids or []), uri, sub)


def _at(stack: Stack, kind: str, name: str, sub: Path, message: str) -> Problem:
    """`message` located at `sub` inside the declaration of (kind, name)."""
    key = (kind, name)
    origin = stack.origins.get(key)
    if origin is None:  # a stack built in code, without source documents
        return Problem("", message=message, kind=kind, name=name)
    return replace(origin.problem(message, "", sub, stack.docs.get(key)), kind=kind, name=name)


def collection_uses(stack: Stack, collection: str) -> Iterable[tuple[str, str, Path]]:
    """(kind, name, sub-path) of every place the manifests name `collection`."""
    from mixops.core.references import refs_of

    for kind in KINDS:
        for name in sorted(stack.resources(kind)):
            for ref in refs_of(stack, kind, name):
                if ref.kind == "collection" and ref.name == collection:
                    yield kind, name, ref.sub


def check_collections(stack: Stack, live: LiveState) -> list[CollectionFinding]:
    """Every referenced collection (sorted), then every feature use on an existing collection."""
    from mixops.core.references import referenced_collections

    out: list[CollectionFinding] = []
    for name in sorted(referenced_collections(stack)):
        found = live.collections.get(name)
        problem = None
        if found is None:
            known = ", ".join(sorted(live.collections)) or "none"
            problem = f"collection {name!r} does not exist in namespace {live.namespace!r} (collections: {known})"
        located = tuple(_at(stack, k, n, sub, problem) for k, n, sub in collection_uses(stack, name)) if problem else ()
        out.append(CollectionFinding(name, problem=problem, collection_id=found.id if found else None, located=located))
    for use in feature_uses(stack):
        for col in use.collections:
            live_col = live.collections.get(col)
            if live_col is None or _builder_changes(stack, live, col):
                # Not there: reported once above, or created by this plan. Replaced by this plan
                # (a new extractor): the indexes it will have are not the ones read now, but
                # those its extractor gives, when the extractor catalog lists them.
                predicted = _predicted_finding(stack, live, use, col)
                if predicted is not None:
                    out.append(predicted)
                continue
            problem = None
            if not live_col.has_feature(use.uri):
                have = ", ".join(ix.feature_uri for ix in live_col.indexes) or "no vector indexes"
                problem = f"{use.kind} {use.name!r} uses feature {use.uri!r}, which collection {col!r} lacks ({have})"
            located = (_at(stack, use.kind, use.name, use.sub, problem),) if problem else ()
            out.append(CollectionFinding(col, use.uri, f"{use.kind} {use.name!r}", problem, live_col.id, located))
    return out


def _predicted_finding(stack: Stack, live: LiveState, use: FeatureUse, col: str) -> CollectionFinding | None:
    """`use` on collection `col`, which this plan creates or replaces with a new extractor,
    checked against the outputs the extractor catalog lists; None when they are not known."""
    known = _catalog_outputs(stack, live, col)
    address = checkable(use.uri)
    if known is None or address is None:
        return None
    (name, version), outputs = known
    predicted = predicted_collection(col, name, version, outputs)
    user = f"{use.kind} {use.name!r}"
    if predicted.has_feature(use.uri):
        return CollectionFinding(col, use.uri, user)
    have = ", ".join(dict.fromkeys(ix.feature_uri for ix in predicted.indexes))
    at = _at(stack, use.kind, use.name, use.sub, "")
    message = (
        f"{user} uses feature {use.uri!r}, which collection {col!r} will not have: this plan "
        f"{_fate(live, col)} it with {name} {version}, whose feature URIs are {have} ({CATALOG_ROUTE})"
    )
    fix = f"did you mean {suggestion(address, name, version, tuple(o.name for o in outputs))!r}?"
    located = replace(at, message=message, fix=fix)
    return CollectionFinding(col, use.uri, user, message, None, (located,))


def _catalog_outputs(stack: Stack, live: LiveState, col: str) -> tuple[tuple[str, str], tuple[Output, ...]] | None:
    """The declared extractor of `col` and the outputs the extractor catalog lists for it."""
    key = _extractor(stack, col)
    catalog = live.extractor_catalog
    outputs = catalog.outputs.get(key) if key is not None and catalog is not None else None
    return (key, outputs) if key is not None and outputs else None


def _fate(live: LiveState, col: str) -> str:
    return "creates" if col not in live.collections else "replaces"


def _predicted(stack: Stack, live: LiveState, col: str) -> bool:
    """Whether the plan builds collection `col` anew: the manifests declare it and it does not
    exist, or its extractor (or features) change, so its vector indexes are not the live ones."""
    return col in stack.collections and (col not in live.collections or _builder_changes(stack, live, col))


def needs_extractor_catalog(stack: Stack, live: LiveState) -> bool:
    """Whether a feature URI is used on a collection the plan builds with a `feature_extractor`:
    only then is the extractor catalog worth a request."""
    return any(
        checkable(use.uri) is not None and _predicted(stack, live, col) and _extractor(stack, col) is not None
        for use in feature_uses(stack)
        for col in use.collections
    )


def _extractor(stack: Stack, col: str) -> tuple[str, str] | None:
    fe = stack.collections[col].feature_extractor if col in stack.collections else None
    return None if fe is None else (fe.feature_extractor_name, fe.version)


def unchecked_features(stack: Stack, live: LiveState) -> list[str]:
    """One warning per collection the plan builds whose feature URIs are checked only for
    their extractor and version (validate), not their outputs, saying why."""
    out: list[str] = []
    catalog = live.extractor_catalog
    for col in sorted({c for use in feature_uses(stack) if checkable(use.uri) for c in use.collections}):
        if not _predicted(stack, live, col):
            continue
        what = f"the feature URIs used on collection {col!r}, which this plan {_fate(live, col)},"
        extractor = _extractor(stack, col)
        if extractor is None:
            # The feature catalog (GET /v1/collections/features) lists keys in free-form objects: which
            # extractor a key selects is not a documented field, so it is not read (the contract rule).
            out.append(
                f"{what} are not checked before apply: it is built from `features`, and no documented field "
                "says which extractor a feature key selects"
            )
            continue
        if catalog is not None and catalog.outputs.get(extractor):
            continue
        if catalog is None:
            why = f"the extractor catalog ({CATALOG_ROUTE}) was not read"
        elif catalog.status != "present":
            why = catalog.evidence
        else:
            why = f"{CATALOG_ROUTE} lists no vector outputs for {extractor[0]} {extractor[1]}"
        out.append(f"{what} are checked for their extractor ({extractor[0]} {extractor[1]}) but not its outputs: {why}")
    return out


def _builder_changes(stack: Stack, live: LiveState, name: str) -> bool:
    """Whether the manifests give collection `name` another extractor (name, version) or other
    features than the live one has: the plan replaces it, and its vector indexes change."""
    declared = stack.collections.get(name)
    current = live.resources.get(("collection", name))
    if declared is None or current is None:
        return False
    extractor = current.spec.get("feature_extractor") or {}
    if declared.feature_extractor is not None:
        wanted = (declared.feature_extractor.feature_extractor_name, declared.feature_extractor.version)
        return wanted != (extractor.get("feature_extractor_name"), extractor.get("version"))
    return declared.features != current.spec.get("features")


def declared_feature_problems(stack: Stack) -> list[Problem]:
    """Feature URIs that can never resolve on a collection the manifests declare (no I/O).

    The collection's `feature_extractor` names its one extractor and version, so its
    feature URIs all start with `mixpeek://NAME@VERSION` (core/feature_uris.py). Whether
    the plan creates it, replaces it or keeps it, after apply it has that extractor: a URI
    naming another one would make the retriever's or cluster's create fail after the
    collection was made. Collections built from `features` name no extractor: not checked.
    """
    out: list[Problem] = []
    for use in feature_uses(stack):
        address = checkable(use.uri)
        if address is None:
            continue
        for col in dict.fromkeys(use.collections):
            declared = stack.collections.get(col)
            if declared is None or declared.feature_extractor is None:
                continue
            fe = declared.feature_extractor
            name, version = fe.feature_extractor_name, fe.version
            if could_resolve(address, name, version):
                continue
            where = _declared_at(stack, col)
            message = (
                f"{use.kind} {use.name!r} uses feature {use.uri!r}, which collection {col!r} cannot have: "
                f"it is built by {name} {version}{where}, so its feature URIs start with {prefix(name, version)}"
            )
            fix = f"did you mean {suggestion(address, name, version)!r}?"
            out.append(replace(_at(stack, use.kind, use.name, use.sub, message), fix=fix))
    return out


def _declared_at(stack: Stack, collection: str) -> str:
    """` (FILE:LINE)` of the collection's `feature_extractor`, when the stack knows its source."""
    key = ("collection", collection)
    origin = stack.origins.get(key)
    if origin is None:
        return ""
    p = origin.problem("", "", ("feature_extractor",), stack.docs.get(key))
    return f" ({p.file}:{p.line})" if p.line else f" ({p.file})"


def collection_problems(stack: Stack, live: LiveState) -> list[Problem]:
    """Every problem `check_collections` finds, at each manifest entry that causes it."""
    return [p for f in check_collections(stack, live) for p in f.located]


__all__ = [
    "CollectionFinding",
    "FeatureUse",
    "check_collections",
    "collection_problems",
    "collection_uses",
    "declared_feature_problems",
    "feature_uses",
    "needs_extractor_catalog",
    "unchecked_features",
]
