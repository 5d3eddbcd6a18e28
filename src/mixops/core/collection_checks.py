"""Do the collections and feature URIs the manifests use exist in the namespace? (pure)

mixops does not manage collections, so a manifest naming a collection that is
not there, or a feature URI its collection has no vector index for, makes
every apply fail. The plan refuses to be made on these findings; `mixops
doctor` shows them one per row, the satisfied ones included.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from mixops.core.live import LiveState
from mixops.core.stack import Stack


@dataclass(frozen=True)
class CollectionFinding:
    """One collection the manifests name, or one feature URI used on one collection."""

    collection: str
    uri: str | None = None  # None: the collection itself
    user: str = ""  # "retriever 'x'" for a feature use
    problem: str | None = None  # None: satisfied
    collection_id: str | None = None


def feature_uses(stack: Stack) -> Iterable[tuple[str, str, list[str], str]]:
    """(kind, name, collections, feature URI) for every feature URI a resource searches or clusters."""
    for name, r in stack.retrievers.items():
        for stage in r.stages:
            params = stage.parameters_dict()
            if stage.stage_id in ("feature_search", "feature_filter"):
                for search in params.get("searches") or []:
                    cols = search.get("collection_identifiers") or params.get("collection_identifiers")
                    yield "retriever", name, cols or r.collection_identifiers, search["feature_uri"]
            elif stage.stage_id == "hybrid_search":
                yield "retriever", name, r.collection_identifiers, params["feature_uri"]
    for name, c in stack.clusters.items():
        if c.vector_config is not None:
            for uri in c.vector_config.feature_uris:
                yield "cluster", name, list(c.collection_ids or []), uri


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
        out.append(CollectionFinding(name, problem=problem, collection_id=found.id if found else None))
    for kind, name, collections, uri in feature_uses(stack):
        for col in collections:
            live_col = live.collections.get(col)
            if live_col is None:
                continue  # reported once, above
            problem = None
            if not live_col.has_feature(uri):
                have = ", ".join(ix.feature_uri for ix in live_col.indexes) or "no vector indexes"
                problem = f"{kind} {name!r} uses feature {uri!r}, which collection {col!r} lacks ({have})"
            out.append(CollectionFinding(col, uri, f"{kind} {name!r}", problem, live_col.id))
    return out


def collection_problems(stack: Stack, live: LiveState) -> list[str]:
    return [f.problem for f in check_collections(stack, live) if f.problem is not None]


__all__ = ["CollectionFinding", "check_collections", "collection_problems", "feature_uses"]
