"""Apply the example from an empty namespace; each class of field change gets its action.

Every test starts from a fresh copy applied once, changes one class of field in
the manifests, checks the planned action (and the field that forces a
replacement), applies, and checks convergence and what the user would see in
the namespace (same id for in-place changes, a new id under the same name for
replacements, a new version for taxonomy configs).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from tests.reconcile.conftest import STACK, actions, api, apply, assert_converged, edit, live, plan, resource

from mixops.core.live import LiveState


@pytest.fixture
async def applied(project_dir: Path) -> Path:
    first, report = await apply(project_dir)
    assert first.counts()["create"] == 14 and report is not None and not report.failed
    again = await plan(project_dir)
    assert not again.has_changes, [(s.kind, s.name, s.action) for s in again.changes]
    return project_dir


def retriever(name: str, change: Any) -> Any:
    return lambda data: change(resource(data, "retrievers", name))


async def change_and_apply(root: Path, file: str, change: Any) -> tuple[LiveState, Any, LiveState]:
    before = await live(root)
    edit(root, file, change)
    p = await plan(root)
    await apply(root)
    after = await assert_converged(root)
    return before, p, after


async def test_example_from_empty_namespace_then_no_changes(applied: Path) -> None:
    state = await assert_converged(applied)
    owned = Counter(k for (k, _), r in state.resources.items() if r.owner_stack == STACK)
    assert owned == {"collection": 4, "application": 1, "retriever": 5, "taxonomy": 2, "cluster": 2}
    # Every collection of the namespace is the manifests', created by apply with the seed's documents.
    assert {n for k, n in state.resources if k == "collection"} == set(state.collections)
    counts = {name: c.document_count for name, c in state.collections.items()}
    assert counts == {"products": 358, "tag_catalog": 30, "departments": 3, "categories": 11}


async def test_retriever_description_is_updated_in_place(applied: Path) -> None:
    def change(r: dict[str, Any]) -> None:
        r["description"] = "Semantic search, new wording."

    before, p, after = await change_and_apply(applied, "retrievers.yaml", retriever("product_search", change))
    assert actions(p) == {("retriever", "product_search"): "update"}
    step = p.changes[0]
    assert [c.path for c in step.changes] == ["description"] and step.changes[0].surface == "in_place"
    key = ("retriever", "product_search")
    assert after.resources[key].id == before.resources[key].id
    assert after.resources[key].spec["description"] == "Semantic search, new wording."


async def test_retriever_stages_are_updated_in_place(applied: Path) -> None:
    def change(r: dict[str, Any]) -> None:
        r["stages"][0]["config"]["parameters"]["searches"][0]["top_k"] = 60
        r["stages"].pop()  # drop the sort stage

    before, p, after = await change_and_apply(applied, "retrievers.yaml", retriever("product_search", change))
    assert actions(p) == {("retriever", "product_search"): "update"}
    assert {c.surface for c in p.changes[0].changes} == {"in_place"}
    key = ("retriever", "product_search")
    assert after.resources[key].id == before.resources[key].id
    stages = after.resources[key].spec["stages"]
    assert len(stages) == 2 and stages[0]["config"]["parameters"]["searches"][0]["top_k"] == 60


async def test_retriever_budget_limits_force_replacement(applied: Path) -> None:
    def change(r: dict[str, Any]) -> None:
        r["budget_limits"] = {"max_credits": 11, "max_time_ms": 5000}

    before, p, after = await change_and_apply(applied, "retrievers.yaml", retriever("product_search", change))
    assert actions(p) == {("retriever", "product_search"): "replace"}
    assert p.changes[0].replace_reasons == ("budget_limits",)
    key = ("retriever", "product_search")
    assert after.resources[key].id != before.resources[key].id
    assert after.resources[key].spec["budget_limits"]["max_credits"] == 11


async def test_breaking_input_schema_forces_replacement_naming_it(applied: Path) -> None:
    def change(r: dict[str, Any]) -> None:
        r["input_schema"]["query"]["type"] = "string"

    before, p, after = await change_and_apply(applied, "retrievers.yaml", retriever("product_search", change))
    assert actions(p) == {("retriever", "product_search"): "replace"}
    (reason,) = p.changes[0].replace_reasons
    assert reason.startswith("input_schema") and "query" in reason and "type" in reason
    key = ("retriever", "product_search")
    assert after.resources[key].id != before.resources[key].id


async def test_a_new_required_input_with_a_default_forces_replacement(applied: Path) -> None:
    # The API allows only a new OPTIONAL input in place; a plan once announced an update
    # here and apply then met HTTP 422 breaking_input_schema_change.
    def change(r: dict[str, Any]) -> None:
        r["input_schema"]["locale"] = {"type": "text", "required": True, "default": "en"}

    before, p, after = await change_and_apply(applied, "retrievers.yaml", retriever("product_search", change))
    assert actions(p) == {("retriever", "product_search"): "replace"}
    (reason,) = p.changes[0].replace_reasons
    assert "locale" in reason and "required" in reason
    key = ("retriever", "product_search")
    assert after.resources[key].id != before.resources[key].id
    assert after.resources[key].spec["input_schema"]["locale"]["default"] == "en"


async def test_non_breaking_input_schema_change_is_in_place(applied: Path) -> None:
    def change(r: dict[str, Any]) -> None:
        r["input_schema"]["max_price"]["default"] = 500
        r["input_schema"]["colour"] = {"type": "text", "required": False}

    before, p, after = await change_and_apply(applied, "retrievers.yaml", retriever("hybrid_product_search", change))
    assert actions(p) == {("retriever", "hybrid_product_search"): "update"}
    key = ("retriever", "hybrid_product_search")
    assert after.resources[key].id == before.resources[key].id


async def test_taxonomy_description_in_place_and_config_new_version(applied: Path) -> None:
    def describe(data: dict[str, Any]) -> None:
        resource(data, "taxonomies", "product_tags")["description"] = "Two closest tags."

    before, p, after = await change_and_apply(applied, "taxonomies.yaml", describe)
    key = ("taxonomy", "product_tags")
    assert actions(p) == {key: "update"}
    assert after.resources[key].version == before.resources[key].version

    def config(data: dict[str, Any]) -> None:
        resource(data, "taxonomies", "product_tags")["config"]["top_k"] = 3

    before, p, after = await change_and_apply(applied, "taxonomies.yaml", config)
    assert actions(p) == {key: "version"}
    assert [(c.path, c.old, c.new, c.surface) for c in p.changes[0].changes] == [("config.top_k", 2, 3, "new_version")]
    assert after.resources[key].id == before.resources[key].id
    assert after.resources[key].version == (before.resources[key].version or 0) + 1
    assert after.resources[key].spec["config"]["top_k"] == 3


def cluster(name: str, change: Any) -> Any:
    return lambda data: change(resource(data, "clusters", name))


@pytest.mark.parametrize(
    ("label", "change", "action", "reason"),
    [
        ("algorithm_params", lambda c: c["vector_config"]["algorithm_params"].update(n_init=5), "update", None),
        (
            "filters",
            lambda c: c.update(filters={"AND": [{"field": "in_stock", "operator": "eq", "value": True}]}),
            "update",
            None,
        ),
        (
            "clustering_method",
            lambda c: c["vector_config"].update(clustering_method="agglomerative", algorithm_params={"n_clusters": 6}),
            "replace",
            "vector_config.clustering_method",
        ),
        (
            "feature_uris",
            lambda c: c["vector_config"].update(feature_uris=["mixpeek://text_extractor@v1"]),
            "replace",
            "vector_config.feature_uris",
        ),
    ],
)
async def test_cluster_field_classes(applied: Path, label: str, change: Any, action: str, reason: str | None) -> None:
    before, p, after = await change_and_apply(applied, "clusters.yaml", cluster("product_groups", change))
    key = ("cluster", "product_groups")
    assert actions(p) == {key: action}, label
    if reason is None:
        assert after.resources[key].id == before.resources[key].id
    else:
        assert reason in p.changes[0].replace_reasons
        assert after.resources[key].id != before.resources[key].id
        assert after.resources[key].name == "product_groups"


async def test_replace_keeps_name_and_dependents_follow(applied: Path) -> None:
    """Replace tag_matcher: product_tags points at the new id (a new version) and still executes."""

    def change(r: dict[str, Any]) -> None:
        r["budget_limits"] = {"max_credits": 5}

    before, p, after = await change_and_apply(applied, "retrievers.yaml", retriever("tag_matcher", change))
    assert actions(p) == {("retriever", "tag_matcher"): "replace", ("taxonomy", "product_tags"): "version"}
    old_id = before.resources[("retriever", "tag_matcher")].id
    new_id = after.resources[("retriever", "tag_matcher")].id
    assert new_id != old_id
    tax = after.resources[("taxonomy", "product_tags")]
    assert tax.id == before.resources[("taxonomy", "product_tags")].id
    async with api(applied) as client:
        rows = {r["taxonomy_name"]: r for r in await client.list_taxonomies()}
        assert rows["product_tags"]["config"]["retriever_id"] == new_id
        retrievers = {r["retriever_name"]: r["retriever_id"] for r in await client.list_retrievers()}
        assert old_id not in retrievers.values()
        live = rows["product_tags"]
        out = await client.execute_taxonomy(
            tax.id,
            {
                # ExecuteTaxonomyRequest requires `taxonomy`: the live one, as read back.
                "taxonomy": {"taxonomy_name": live["taxonomy_name"], "config": live["config"]},
                "source_documents": [{"document_id": "d1", "title": "white leather sneakers"}],
            },
        )
    (doc,) = out["results"]
    assert doc["tag"] and out["stats"]["errors"] == 0, out
