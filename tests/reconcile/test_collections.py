"""Collections as a managed kind, and application entries owned one by one.

Through the library and the CLI against the embedded backend: a collection the
manifests declare is created before the retrievers that read it; application
entries are attached once both sides exist and pruned only when this stack
attached them; a collection that holds documents is never deleted or replaced
without --allow-data-loss, and the plan shows how many documents it holds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from tests.reconcile.conftest import STACK, actions, api, apply, assert_converged, edit, live, plan, resource

from mixops.cli.main import cli
from mixops.errors import ManifestError, PlanError

REVIEWS: dict[str, Any] = {
    "name": "reviews",
    "description": "Product reviews",
    "source": {"type": "none"},
    "feature_extractor": {
        "feature_extractor_name": "text_extractor",
        "version": "v1",
        "input_mappings": {"text": ["body"]},
    },
}
REVIEW_SEARCH: dict[str, Any] = {
    "name": "review_search",
    "collection_identifiers": ["reviews"],
    "input_schema": {"query": {"type": "text", "required": True}},
    "stages": [
        {
            "stage_name": "search",
            "stage_type": "filter",
            "config": {
                "stage_id": "feature_search",
                "parameters": {
                    "searches": [
                        {
                            "feature_uri": "mixpeek://text_extractor@v1/embedding",
                            "query": {"input_mode": "text", "value": "{{INPUT.query}}"},
                            "top_k": 10,
                        }
                    ]
                },
            },
        }
    ],
}


def write(root: Path, data: dict[str, Any], file: str = "extra.yaml") -> None:
    """A manifest file of its own, beside the example's (which declares products and three more)."""
    (root / "manifests" / file).write_text(yaml.safe_dump({"version": "1.0", **data}, sort_keys=False), "utf-8")


def reviews(**changes: Any) -> dict[str, Any]:
    return {**REVIEWS, **changes}


async def add_document(root: Path, collection: str, **fields: Any) -> str:
    async with api(root) as client:
        found = await client.get_collection(collection)
        out = await client.request("POST", f"/v1/collections/{found['collection_id']}/documents", json=fields)
        return str(out["document_id"])


async def entries(root: Path, collection: str, list_key: str = "taxonomy_applications") -> list[dict[str, Any]]:
    async with api(root) as client:
        found = await client.get_collection(collection)
        return list(found.get(list_key) or [])


async def test_a_declared_collection_is_created_before_the_retriever_that_reads_it(project_dir: Path) -> None:
    write(project_dir, {"collections": [REVIEWS], "retrievers": [REVIEW_SEARCH]})
    p = await plan(project_dir)
    steps = {s.key: s for s in p.changes}
    assert steps[("collection", "reviews")].action == "create"
    # Not "collection 'reviews' does not exist": the same plan creates it, one wave earlier.
    assert steps[("retriever", "review_search")].wave > steps[("collection", "reviews")].wave
    assert ("collection", "reviews") in steps[("retriever", "review_search")].depends_on
    await apply(project_dir)
    state = await assert_converged(project_dir)
    created = state.resources[("collection", "reviews")]
    assert created.owner_stack == STACK and state.collections["reviews"].id == created.id


async def hand_made_reviews(root: Path) -> str:
    """Another team's collection, created through the API: no stack owns it."""
    body = {k: v for k, v in REVIEWS.items() if k != "name"}
    async with api(root) as client:
        made = await client.create_collection({"collection_name": "reviews", **body})
    return str(made["collection_id"])


async def test_a_taxonomy_is_applied_to_a_collection_this_stack_does_not_own(project_dir: Path) -> None:
    # `reviews` is another team's (made by hand); the binding owns only its entry.
    await hand_made_reviews(project_dir)
    write(project_dir, {"taxonomy_applications": [{"collection": "reviews", "taxonomy_id": "product_tags"}]})
    p = await plan(project_dir)
    step = next(s for s in p.changes if s.key[0] == "application" and s.name.startswith("reviews/"))
    assert (step.name, step.action) == ("reviews/taxonomy/product_tags", "create")
    assert ("taxonomy", "product_tags") in step.depends_on
    await apply(project_dir)
    state = await live(project_dir)
    tax_id = state.resources[("taxonomy", "product_tags")].id
    assert [e["taxonomy_id"] for e in await entries(project_dir, "reviews")] == [tax_id]
    assert state.resources[("collection", "reviews")].owner_stack is None  # still nobody's collection
    assert not (await plan(project_dir)).has_changes


async def test_prune_removes_only_the_entries_this_stack_attached(project_dir: Path) -> None:
    await hand_made_reviews(project_dir)
    write(project_dir, {"taxonomy_applications": [{"collection": "reviews", "taxonomy_id": "product_tags"}]})
    await apply(project_dir)
    state = await live(project_dir)
    hierarchy_id = state.resources[("taxonomy", "product_hierarchy")].id
    async with api(project_dir) as client:  # another team attaches its own entry by hand
        reviews_now = await client.get_collection("reviews")
        hand = [*reviews_now["taxonomy_applications"], {"taxonomy_id": hierarchy_id}]
        await client.patch_collection(reviews_now["collection_id"], {"taxonomy_applications": hand})
    write(project_dir, {})
    p = await plan(project_dir, prune=True)
    assert actions(p) == {("application", "reviews/taxonomy/product_tags"): "delete"}
    await apply(project_dir, prune=True)
    assert [e["taxonomy_id"] for e in await entries(project_dir, "reviews")] == [hierarchy_id]
    assert not (await plan(project_dir, prune=True)).has_changes


async def test_deleting_or_replacing_a_collection_with_another_team_s_entries_needs_allow_data_loss(
    project_dir: Path,
) -> None:
    write(project_dir, {"collections": [REVIEWS]})
    await apply(project_dir)
    state = await live(project_dir)
    hierarchy_id = state.resources[("taxonomy", "product_hierarchy")].id
    async with api(project_dir) as client:  # another team attaches its own entry by hand
        found = await client.get_collection("reviews")
        await client.patch_collection(
            found["collection_id"], {"taxonomy_applications": [{"taxonomy_id": hierarchy_id}]}
        )
    changed = reviews(feature_extractor={**REVIEWS["feature_extractor"], "input_mappings": {"text": ["title"]}})
    write(project_dir, {"collections": [changed]})
    with pytest.raises(PlanError) as refused:
        await plan(project_dir)
    assert (
        "collection 'reviews' would be replaced, and it carries application entries this stack did not attach, "
        "which would be lost: reviews/taxonomy/product_hierarchy (attached by hand)"
    ) in str(refused.value)
    write(project_dir, {})
    with pytest.raises(PlanError, match="would be deleted, and it carries application entries"):
        await plan(project_dir, prune=True)
    p = await plan(project_dir, prune=True, allow_data_loss=True)
    assert actions(p) == {("collection", "reviews"): "delete"}
    assert any("lost with it (--allow-data-loss)" in w for w in p.warnings), p.warnings


async def test_applications_on_a_declared_collection_are_attached_after_both_exist(project_dir: Path) -> None:
    # The entry is a step of its own, after the collection and the taxonomy: an application
    # never makes the collection wait for what it applies (no create-order cycle).
    write(
        project_dir,
        {"collections": [reviews(taxonomy_applications=[{"taxonomy_id": "product_tags", "priority": 5}])]},
    )
    p = await plan(project_dir)
    step = next(s for s in p.changes if s.name == "reviews/taxonomy/product_tags")
    assert step.kind == "application"
    assert set(step.depends_on) == {("collection", "reviews"), ("taxonomy", "product_tags")}
    await apply(project_dir)
    [entry] = await entries(project_dir, "reviews")
    assert entry["priority"] == 5
    await assert_converged(project_dir)
    # An entry field changes in place; the collection itself is not touched.
    write(
        project_dir,
        {"collections": [reviews(taxonomy_applications=[{"taxonomy_id": "product_tags", "priority": 9}])]},
    )
    p = await plan(project_dir)
    assert actions(p) == {("application", "reviews/taxonomy/product_tags"): "update"}
    await apply(project_dir)
    [entry] = await entries(project_dir, "reviews")
    assert entry["priority"] == 9


async def test_an_extractor_change_of_a_collection_with_documents_needs_allow_data_loss(project_dir: Path) -> None:
    write(project_dir, {"collections": [REVIEWS]})
    await apply(project_dir)
    await add_document(project_dir, "reviews", body="great boots, fully waterproof")
    changed = reviews(feature_extractor={**REVIEWS["feature_extractor"], "input_mappings": {"text": ["title"]}})
    write(project_dir, {"collections": [changed]})
    with pytest.raises(PlanError) as refused:
        await plan(project_dir)
    assert "collection 'reviews' would be replaced (feature_extractor cannot change in place)" in str(refused.value)
    assert "holds 1 document, which would be lost" in str(refused.value)
    assert "--allow-data-loss" in str(refused.value)
    p = await plan(project_dir, allow_data_loss=True)
    step = next(s for s in p.changes if s.key == ("collection", "reviews"))
    assert (step.action, step.documents, step.replace_reasons) == ("replace", 1, ("feature_extractor",))
    before = (await live(project_dir)).resources[("collection", "reviews")].id
    await apply(project_dir, allow_data_loss=True)
    after = await assert_converged(project_dir)
    assert after.resources[("collection", "reviews")].id != before


async def test_a_new_extractor_and_the_retriever_s_new_feature_uri_plan_and_apply_together(project_dir: Path) -> None:
    # The retriever's new URI names an index only the replacement will have: the live
    # collection's indexes must not refuse the plan.
    write(project_dir, {"collections": [REVIEWS], "retrievers": [REVIEW_SEARCH]})
    await apply(project_dir)
    extractor = {**REVIEWS["feature_extractor"], "feature_extractor_name": "review_text_extractor", "version": "v2"}
    search = yaml.safe_load(yaml.safe_dump(REVIEW_SEARCH))
    search["stages"][0]["config"]["parameters"]["searches"][0]["feature_uri"] = (
        "mixpeek://review_text_extractor@v2/embedding"
    )
    write(project_dir, {"collections": [reviews(feature_extractor=extractor)], "retrievers": [search]})
    p = await plan(project_dir)
    assert actions(p) == {("collection", "reviews"): "replace", ("retriever", "review_search"): "update"}
    await apply(project_dir)
    await assert_converged(project_dir)
    # On a collection the plan keeps, a URI it has no index for is still refused at plan time.
    uris = search["stages"][0]["config"]["parameters"]["searches"][0]
    uris["feature_uri"] = "mixpeek://review_text_extractor@v2/other_output"
    write(project_dir, {"collections": [reviews(feature_extractor=extractor)], "retrievers": [search]})
    with pytest.raises(PlanError, match="which collection 'reviews' lacks"):
        await plan(project_dir)
    # One naming another extractor cannot exist on it at all: refused with the manifests, before any read.
    uris["feature_uri"] = "mixpeek://other@v9/embedding"
    write(project_dir, {"collections": [reviews(feature_extractor=extractor)], "retrievers": [search]})
    with pytest.raises(ManifestError, match="which collection 'reviews' cannot have: it is built by review_text"):
        await plan(project_dir)


async def test_an_empty_collection_is_replaced_without_the_flag(project_dir: Path) -> None:
    write(project_dir, {"collections": [REVIEWS]})
    await apply(project_dir)
    write(project_dir, {"collections": [reviews(source={"type": "direct_upsert"})]})
    p = await plan(project_dir)
    step = next(s for s in p.changes if s.key == ("collection", "reviews"))
    assert (step.action, step.documents, step.replace_reasons) == ("replace", 0, ("source",))


async def test_prune_refuses_to_delete_a_collection_with_documents(project_dir: Path) -> None:
    write(project_dir, {"collections": [REVIEWS]})
    await apply(project_dir)
    await add_document(project_dir, "reviews", body="soft and warm")
    write(project_dir, {})
    with pytest.raises(PlanError) as refused:
        await plan(project_dir, prune=True)
    assert "collection 'reviews' would be deleted, and it holds 1 document" in str(refused.value)
    await apply(project_dir, prune=True, allow_data_loss=True)
    assert ("collection", "reviews") not in (await live(project_dir)).resources


def test_the_cli_shows_the_document_count_and_refuses_without_the_flag(project_dir: Path) -> None:
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(cli, ["-C", str(project_dir), *args], catch_exceptions=False)

    write(project_dir, {"collections": [REVIEWS]})
    assert run("apply", "--auto-approve", "--no-tests").exit_code == 0
    import asyncio

    asyncio.run(add_document(project_dir, "reviews", body="runs small"))
    write(project_dir, {"collections": [reviews(features=["text_search"], feature_extractor=None)]})
    refused = run("plan", "--no-tests")
    assert refused.exit_code == 1
    assert "holds 1 document, which would be lost" in refused.output and "Traceback" not in refused.output
    shown = run("plan", "--no-tests", "--allow-data-loss")
    assert shown.exit_code == 0, shown.output
    assert '-/+ collection "reviews" must be replaced' in shown.output
    assert "# holds 1 document, lost with it (--allow-data-loss)" in shown.output


async def test_a_cluster_is_applied_to_the_collection_it_clusters(project_dir: Path) -> None:
    # The cluster reads `products` and the entry names the cluster: attached after the cluster.
    edit(
        project_dir,
        "collections.yaml",
        lambda data: resource(data, "collections", "products").update(
            cluster_applications=[{"cluster_id": "product_groups"}]
        ),
    )
    p = await plan(project_dir)
    step = next(s for s in p.changes if s.name == "products/cluster/product_groups")
    assert step.kind == "application" and ("cluster", "product_groups") in step.depends_on
    await apply(project_dir)
    cluster_id = (await live(project_dir)).resources[("cluster", "product_groups")].id
    [entry] = await entries(project_dir, "products", "cluster_applications")
    assert entry["cluster_id"] == cluster_id
    await assert_converged(project_dir)


async def test_a_test_of_a_retriever_reading_a_collection_not_created_yet_is_skipped_at_plan_time(
    project_dir: Path,
) -> None:
    from mixops.core.outcomes import Status
    from mixops.core.plan import PlanOptions
    from mixops.local.inprocess import local_transport
    from mixops.ports.project import load_project
    from mixops.ports.reconcile import plan_and_apply

    test = {
        "name": "reviews are found",
        "retriever": "review_search",
        "inputs": {"query": "boots"},
        "expect": {"min_results": 1},
    }
    write(project_dir, {"collections": [REVIEWS], "retrievers": [REVIEW_SEARCH], "tests": [test]})
    project = load_project(project_dir, local_backend=local_transport)
    planned, _ = await plan_and_apply(project, project.env_name(None), PlanOptions(), tests="all")
    [outcome] = [t for t in planned.plan.tests if t.name == "reviews are found"]
    assert outcome.status == Status.SKIPPED, outcome
    assert "collection 'reviews', which does not exist yet" in (outcome.reason or "")
