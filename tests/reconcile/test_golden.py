"""Golden desired/live normalisation pairs, one file per case in golden/.

Each file holds what a user writes (`desired`, manifest shape), what the API
returns for it (`live`, the raw list row, ids and server fields included, plus
`ids` to map them back to names) and the comparable form both must reach
(`normalised`). The live rows were produced by creating `desired` on the local
backend the way apply does, then (for some cases) edited the way the hosted
API differs: defaults it fills in, set-like lists in another order.

MIXOPS_UPDATE_GOLDEN=1 regenerates the files (the desired and live sides must
still agree, or the regeneration fails).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.reconcile.conftest import copy_example
from tests.support.fixtures import search_stage

from mixops.core.bodies import create_body
from mixops.core.normalise import FROM_LIVE, normalise

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("MIXOPS_UPDATE_GOLDEN") == "1"
SEARCH = search_stage(50, 10)


def _reverse(path: tuple[str, ...]) -> Callable[[dict[str, Any]], None]:
    def edit(row: dict[str, Any]) -> None:
        node = row
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = list(reversed(node[path[-1]]))

    return edit


def _fill(values: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    return lambda row: row.update({k: v for k, v in values.items() if row.get(k) is None})


@dataclass(frozen=True)
class Case:
    kind: str
    shows: str
    desired: dict[str, Any]
    live_edit: Callable[[dict[str, Any]], None] | None = None


CASES: dict[str, Case] = {
    "retriever_minimal": Case(
        "retriever",
        "collection ids -> names, the read-only stage `parameters` mirror dropped, server fields "
        "(version, feature_dependencies, timestamps) and ownership metadata ignored",
        {"name": "g_minimal", "collection_identifiers": ["tag_catalog"], "stages": [SEARCH]},
    ),
    "retriever_full": Case(
        "retriever",
        "set-like lists (collection_identifiers, tags) in another order; input schema, budget and user metadata kept",
        {
            "name": "g_full",
            "description": "Search over two collections.",
            "collection_identifiers": ["products", "tag_catalog"],
            "input_schema": {"query": {"type": "text", "required": True}, "limit": {"type": "integer", "default": 5}},
            "budget_limits": {"max_credits": 10, "max_time_ms": 5000},
            "tags": ["storefront", "search"],
            "metadata": {"team": "search"},
            "stages": [SEARCH],
        },
        live_edit=lambda row: (_reverse(("collection_ids",))(row), _reverse(("tags",))(row)),
    ),
    "retriever_visibility": Case(
        "retriever",
        "visibility written in the manifest is compared through metadata.mixops_extra (the read model has none)",
        {"name": "g_visible", "collection_identifiers": ["products"], "visibility": "public", "stages": [SEARCH]},
    ),
    "retriever_visibility_hosted": Case(
        "retriever",
        "the hosted API's read shape has no visibility (RetrieverModelOutput): compared through "
        "metadata.mixops_extra, no perpetual change",
        {
            "name": "g_visible_hosted",
            "collection_identifiers": ["products"],
            "visibility": "public",
            "stages": [SEARCH],
        },
        live_edit=lambda row: row.pop("visibility", None),
    ),
    "taxonomy_server_metadata": Case(
        "taxonomy",
        "metadata keys the server merges in (validation_warnings) are not the user's: no perpetual change",
        {
            "name": "g_flat_meta",
            "description": "Tags.",
            "config": {
                "taxonomy_type": "flat",
                "retriever_id": "tag_matcher",
                "input_mappings": [{"input_key": "query", "source_type": "payload", "path": "title"}],
                "source_collection": {
                    "collection_id": "tag_catalog",
                    "enrichment_fields": [{"field_path": "tag", "merge_mode": "append"}],
                },
                "top_k": 2,
            },
        },
        live_edit=lambda row: row.setdefault("metadata", {}).update(
            validation_warnings=["retriever tag_matcher returns no `tag` field"]
        ),
    ),
    "taxonomy_flat": Case(
        "taxonomy",
        "retriever_id and source_collection.collection_id ids -> names; the read shape's top-level "
        "retriever_id / input_mappings copies ignored",
        {
            "name": "g_flat",
            "description": "Tags.",
            "config": {
                "taxonomy_type": "flat",
                "retriever_id": "tag_matcher",
                "input_mappings": [{"input_key": "query", "source_type": "payload", "path": "title"}],
                "source_collection": {
                    "collection_id": "tag_catalog",
                    "enrichment_fields": [{"field_path": "tag", "merge_mode": "append"}],
                },
                "top_k": 2,
            },
        },
    ),
    "taxonomy_hierarchical": Case(
        "taxonomy",
        "ids of every node's collection, parent collection and retriever -> names",
        {
            "name": "g_tree",
            "config": {
                "taxonomy_type": "hierarchical",
                "retriever_id": "department_matcher",
                "input_mappings": [{"input_key": "query", "source_type": "payload", "path": "title"}],
                "hierarchical_nodes": [
                    {"collection_id": "departments", "label": "Department"},
                    {
                        "collection_id": "categories",
                        "parent_collection_id": "departments",
                        "label": "Category",
                        "retriever_id": "category_matcher",
                    },
                ],
            },
        },
    ),
    "cluster_vector": Case(
        "cluster",
        "the flattened read shape (algorithm, input_collections, hierarchical_vector) un-flattened; "
        "fields the read never echoes (normalize_features, output_strategy) compared through "
        "metadata.mixops_extra",
        {
            "name": "g_kmeans",
            "collection_ids": ["products"],
            "cluster_type": "vector",
            "vector_config": {
                "clustering_method": "kmeans",
                "algorithm_params": {"n_clusters": 5, "random_state": 42},
                "feature_uris": ["mixpeek://text_extractor@v1/embedding"],
                "normalize_features": False,
                "output_strategy": "single",
            },
            "llm_labeling": {"enabled": False},
        },
    ),
    "cluster_hosted_defaults": Case(
        "cluster",
        "defaults the hosted API fills on read (multi_feature_strategy, effective_feature_method, "
        "hierarchy, vis_n_components, enrich_source) equal a manifest that leaves them out",
        {
            "name": "g_defaults",
            "collection_ids": ["products"],
            "cluster_type": "vector",
            "vector_config": {
                "clustering_method": "hdbscan",
                "feature_uris": ["mixpeek://text_extractor@v1/embedding"],
            },
        },
        live_edit=_fill(
            {
                "multi_feature_strategy": "concatenate",
                "effective_feature_method": "mean",
                "hierarchical_vector": False,
                "max_hierarchy_depth": 3,
                "vis_n_components": 2,
                "enrich_source": False,
            }
        ),
    ),
    "cluster_attribute": Case(
        "cluster",
        "an attribute cluster: clustered_attributes -> attribute_config.attributes",
        {
            "name": "g_brands",
            "description": "By brand.",
            "collection_ids": ["products"],
            "cluster_type": "attribute",
            "attribute_config": {"attributes": ["brand", "department"], "hierarchical_grouping": True},
        },
    ),
}


def _id_to_name(ids: dict[str, dict[str, str]]) -> Callable[[str, str], str]:
    return lambda kind, value: ids.get(kind, {}).get(value, value)


def _check(kind: str, golden: dict[str, Any]) -> None:
    from_desired = normalise(kind, golden["desired"])
    from_live = normalise(kind, FROM_LIVE[kind](golden["live"], _id_to_name(golden["ids"])))
    assert from_desired == golden["normalised"], "normalising the desired side changed"
    assert from_live == golden["normalised"], "normalising the live side changed (or no longer matches desired)"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Only when regenerating: create every case on a fresh local backend and read it back."""
    if not UPDATE:
        return {}
    import asyncio

    return asyncio.run(_generate(copy_example(tmp_path_factory.mktemp("golden") / "catalog")))


async def _generate(root: Path) -> dict[str, dict[str, Any]]:
    from tests.reconcile.conftest import api, apply, live

    await apply(root)
    state = await live(root)
    to_id = {(k, n): r.id for (k, n), r in state.resources.items()}
    to_id.update({("collection", n): c.id for n, c in state.collections.items()})
    out: dict[str, dict[str, Any]] = {}
    async with api(root) as client:
        create = {"retriever": client.create_retriever, "taxonomy": client.create_taxonomy}
        for case in CASES.values():
            body = create_body(case.kind, case.desired, case.desired["name"], "catalog", lambda k, v: to_id[(k, v)])
            await create.get(case.kind, client.create_cluster)(body)
        rows = {
            "retriever": await client.list_retrievers(),
            "taxonomy": await client.list_taxonomies(),
            "cluster": await client.list_clusters(),
        }
    ids = {kind: {r[f"{kind}_id"]: r[f"{kind}_name"] for r in items} for kind, items in rows.items()}
    ids["collection"] = {c.id: n for n, c in state.collections.items()}
    for name, case in CASES.items():
        row = next(r for r in rows[case.kind] if r[f"{case.kind}_name"] == case.desired["name"])
        if case.live_edit is not None:
            case.live_edit(row)
        referenced = json.dumps(row)
        used = {k: {i: n for i, n in m.items() if i in referenced} for k, m in ids.items()}
        out[name] = {
            "kind": case.kind,
            "shows": case.shows,
            "desired": case.desired,
            "live": row,
            "ids": {k: v for k, v in used.items() if v},
            "normalised": normalise(case.kind, case.desired),
        }
    return out


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden_pair(case: str, generated: dict[str, dict[str, Any]]) -> None:
    path = GOLDEN / f"{case}.json"
    if UPDATE:
        path.write_text(json.dumps(generated[case], indent=2, sort_keys=True) + "\n", encoding="utf-8")
    golden = json.loads(path.read_text(encoding="utf-8"))
    assert golden["desired"] == CASES[case].desired, "the case changed: regenerate with MIXOPS_UPDATE_GOLDEN=1"
    _check(CASES[case].kind, golden)


def test_every_golden_file_has_a_case() -> None:
    assert {p.stem for p in GOLDEN.glob("*.json")} == set(CASES)


@pytest.mark.parametrize(
    ("case", "mutate"),
    [
        ("retriever_minimal", lambda live: live["stages"][0]["config"]["parameters"].update(final_top_k=11)),
        ("retriever_full", lambda live: live["input_schema"]["query"].update(required=False)),
        ("retriever_visibility_hosted", lambda live: live["metadata"]["mixops_extra"].update(visibility="private")),
        ("taxonomy_flat", lambda live: live["config"].update(top_k=3)),
        ("cluster_vector", lambda live: live["algorithm_params"].update(n_clusters=6)),
        (
            "cluster_vector",
            lambda live: live["metadata"]["mixops_extra"].update({"vector_config.normalize_features": True}),
        ),
        ("cluster_attribute", lambda live: live.update(clustered_attributes=["department", "brand"])),
    ],
)
def test_a_real_difference_survives_normalisation(case: str, mutate: Callable[[dict[str, Any]], None]) -> None:
    """The other half of the contract: normalisation does not paper over a real change."""
    golden = json.loads((GOLDEN / f"{case}.json").read_text(encoding="utf-8"))
    mutate(golden["live"])
    kind = CASES[case].kind
    live = normalise(kind, FROM_LIVE[kind](golden["live"], _id_to_name(golden["ids"])))
    assert live != golden["normalised"]
