"""Read the live state of a namespace through the list endpoints (I/O port).

One paginated listing per kind (pages of 1,000), not one GET per resource;
ids are mapped to names, read shapes to manifest shapes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable, Mapping
from typing import Any, TypeVar

from mixops.core.live import LiveCollection, LiveResource, LiveState, VectorIndexInfo, fingerprint
from mixops.core.normalise import FROM_LIVE, applications_from_live
from mixops.errors import PlanError
from mixops.ports.client import MixpeekClient
from mixops.ports.gcpause import gc_paused
from mixops.ports.lease import is_lock
from mixops.ports.project import Project
from mixops.ports.target import connect, describe

T = TypeVar("T")

# mixops' own records (ports/stamps.py): writing them is not a change of the resource, so a
# saved plan stays valid across `mixops test` (which stamps test outcomes).
OWN_RECORD_KEYS = frozenset({"mixops_applied", "mixops_tests"})

ID_FIELD = {
    "retriever": "retriever_id",
    "taxonomy": "taxonomy_id",
    "cluster": "cluster_id",
    "collection": "collection_id",
}
NAME_FIELD = {
    "retriever": "retriever_name",
    "taxonomy": "taxonomy_name",
    "cluster": "cluster_name",
    "collection": "collection_name",
}
# Read only where the SDK's read model declares them: clusters have no version, only
# retrievers can be published.
HAS_VERSION = frozenset({"retriever", "taxonomy"})
HAS_PUBLISHED = frozenset({"retriever"})


async def settled(aws: Iterable[Awaitable[T]]) -> list[T]:
    """Like `asyncio.gather`, but every awaitable finishes before the first error is raised.

    A plain gather raises at the first failure and leaves the others running
    unobserved (writes still landing after the caller reported, errors never
    retrieved when the client closes under them).
    """
    results = await asyncio.gather(*aws, return_exceptions=True)
    for r in results:
        if isinstance(r, BaseException):
            raise r
    return results  # type: ignore[return-value]


def _collection(raw: Mapping[str, Any]) -> LiveCollection:
    indexes = []
    for ix in raw.get("vector_indexes") or []:
        name = ix.get("name") or (ix.get("index") or {}).get("name") or ""
        indexes.append(VectorIndexInfo(name=name, feature_uri=ix.get("feature_uri") or ix.get("feature_address") or ""))
    count = raw.get("document_count")
    return LiveCollection(
        id=raw["collection_id"],
        name=raw["collection_name"],
        indexes=tuple(indexes),
        document_count=count if isinstance(count, int) else None,
    )


def build_live_state(
    namespace: str,
    rows: Mapping[str, list[dict[str, Any]]],
    collections: list[dict[str, Any]],
) -> LiveState:
    """Pure part of the reader: rows per kind as the API returned them -> LiveState."""
    names: dict[str, dict[str, str]] = {
        "collection": {c["collection_id"]: c["collection_name"] for c in collections},
    }
    for kind, items in rows.items():
        names[kind] = {r[ID_FIELD[kind]]: r[NAME_FIELD[kind]] for r in items}

    def id_to_name(ref_kind: str, value: str) -> str:
        return names.get(ref_kind, {}).get(value, value)

    state = LiveState(namespace=namespace)
    user_collections = []
    for c in collections:
        if is_lock(c["collection_name"]):
            continue  # a lease left by an older mixops (it was a collection), not a collection of the user's
        col = _collection(c)
        state.collections[col.name] = col
        user_collections.append(c)
    duplicates: dict[tuple[str, str], list[str]] = {}
    for c in user_collections:
        # Each application entry is a resource of its own (kind `application`), owned per entry.
        for spec, owner, live_id in applications_from_live(c, id_to_name):
            meta = {"managed_by": "mixops", "mixops_stack": owner} if owner is not None else {}
            key = ("application", spec["name"])
            if key in state.resources:
                continue  # two entries for one applied resource: the first is the one compared
            state.resources[key] = LiveResource(
                kind="application",
                id=live_id,
                name=spec["name"],
                spec=spec,
                metadata=meta,
                fingerprint=fingerprint([c["collection_id"], spec, owner]),
            )
    for kind, items in {"collection": user_collections, **rows}.items():
        for raw in items:
            if kind == "retriever" and is_lock(raw[NAME_FIELD[kind]]):
                continue  # the opt-in apply lease (ports/lease.py), not a retriever of the user's
            spec = FROM_LIVE[kind](raw, id_to_name)
            name = raw[NAME_FIELD[kind]]
            meta = dict(raw.get("metadata") or {})
            if (kind, name) in state.resources:
                duplicates.setdefault((kind, name), [state.resources[(kind, name)].id]).append(raw[ID_FIELD[kind]])
                continue
            published = kind in HAS_PUBLISHED and bool(raw.get("is_published"))
            version = raw.get("version") if kind in HAS_VERSION else None
            compared = {k: v for k, v in meta.items() if k not in OWN_RECORD_KEYS}
            seen = spec
            if isinstance(spec.get("metadata"), dict):
                seen = {**spec, "metadata": {k: v for k, v in spec["metadata"].items() if k not in OWN_RECORD_KEYS}}
            state.resources[(kind, name)] = LiveResource(
                kind=kind,
                id=raw[ID_FIELD[kind]],
                name=name,
                spec=spec,
                metadata=meta,
                fingerprint=fingerprint([raw[ID_FIELD[kind]], version, seen, compared, published]),
                version=version,
                published=published,
            )
    if duplicates:
        # mixops addresses resources by name; which copy is "the" resource would be a guess.
        lines = [f"{k} {n!r}: {', '.join(ids)}" for (k, n), ids in sorted(duplicates.items())]
        raise PlanError(
            f"namespace {namespace!r} holds several resources under one name (mixops manages resources by "
            "name, so it cannot tell which is meant):\n  "
            + "\n  ".join(lines)
            + "\ndelete or rename the extra copies through the API, then plan again"
        )
    return state


async def read_env(project: Project, env_name: str, secrets: frozenset[str], *, parallelism: int = 8) -> LiveState:
    """The live state of an environment's namespace, read over a connection of its own.

    `secrets` are the values the connection masks in anything it reports.
    """
    async with connect(project, env_name, parallelism=parallelism, secrets=secrets) as client:
        return await read_live(client, describe(project, env_name).namespace)


async def read_live(client: MixpeekClient, namespace: str) -> LiveState:
    before = client.stats.requests
    retrievers, taxonomies, clusters, collections = await settled(
        [client.list_retrievers(), client.list_taxonomies(), client.list_clusters(), client.list_collections()]
    )
    with gc_paused():
        state = build_live_state(
            namespace, {"retriever": retrievers, "taxonomy": taxonomies, "cluster": clusters}, collections
        )
    state.requests = client.stats.requests - before
    return state
