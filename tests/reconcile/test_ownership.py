"""Ownership, prune, adoption, saved plans and drift, through the library.

What mixops may touch is decided by the ownership marker alone: resources
created by hand or by another stack are never deleted or overwritten unless
the user says so (--adopt).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.reconcile.conftest import (
    actions,
    api,
    apply,
    apply_collections_only,
    assert_converged,
    edit,
    live,
    plan,
    resource,
    retriever_body,
)

from mixops.core.plan import Plan
from mixops.errors import PlanError, StalePlanError
from mixops.local.inprocess import local_transport
from mixops.ports.project import load_project
from mixops.ports.reconcile import load_saved_plan, plan_and_apply


def drop_cluster(name: str) -> Any:
    def change(data: dict[str, Any]) -> None:
        data["clusters"] = [c for c in data["clusters"] if c["name"] != name]

    return change


async def raw_rows(root: Path) -> dict[str, dict[str, Any]]:
    async with api(root) as client:
        return {r["retriever_name"]: r for r in await client.list_retrievers()}


async def test_prune_deletes_only_what_this_stack_owns(project_dir: Path) -> None:
    await apply(project_dir)
    async with api(project_dir) as client:
        await client.create_retriever(retriever_body("hand_made"))
        other = {"managed_by": "mixops", "mixops_stack": "someone_else"}
        await client.create_retriever(retriever_body("other_stacks", metadata=other))
    before = await raw_rows(project_dir)
    gone = {"brand_groups", "hybrid_product_search"}
    edit(
        project_dir,
        "tests.yaml",
        lambda d: d.update(tests=[t for t in d["tests"] if not gone & {t.get("retriever"), t.get("cluster")}]),
    )
    edit(project_dir, "clusters.yaml", drop_cluster("brand_groups"))
    edit(
        project_dir,
        "retrievers.yaml",
        lambda d: d.update(retrievers=[r for r in d["retrievers"] if r["name"] != "hybrid_product_search"]),
    )

    without = await plan(project_dir)
    assert not without.has_changes
    assert any("brand_groups" in w and "--prune" in w for w in without.warnings), without.warnings

    pruning = await plan(project_dir, prune=True)
    assert actions(pruning) == {("cluster", "brand_groups"): "delete", ("retriever", "hybrid_product_search"): "delete"}
    await apply(project_dir, prune=True)
    await assert_converged(project_dir)
    after = await raw_rows(project_dir)
    assert "hybrid_product_search" not in after
    assert ("cluster", "brand_groups") not in (await live(project_dir)).resources
    for name in ("hand_made", "other_stacks"):
        assert after[name] == before[name], f"{name} was touched"


async def test_unowned_same_name_is_refused_then_adopted(project_dir: Path) -> None:
    await apply_collections_only(project_dir)
    async with api(project_dir) as client:
        created = await client.create_retriever(retriever_body("tag_matcher", collection="tag_catalog"))
    with pytest.raises(PlanError) as err:
        await plan(project_dir)
    message = str(err.value)
    assert "retriever 'tag_matcher'" in message and "not managed by mixops" in message and "--adopt" in message
    with pytest.raises(PlanError, match="tag_matcher"):
        await apply(project_dir)
    assert (await raw_rows(project_dir))["tag_matcher"].get("metadata") in (None, {})

    adopting = await plan(project_dir, adopt=True)
    step = next(s for s in adopting.steps if s.key == ("retriever", "tag_matcher"))
    assert step.adopt and step.action == "update" and step.live_id == created["retriever_id"]
    await apply(project_dir, adopt=True)
    await assert_converged(project_dir)
    row = (await raw_rows(project_dir))["tag_matcher"]
    assert row["retriever_id"] == created["retriever_id"]  # taken over, not recreated
    assert row["metadata"]["managed_by"] == "mixops" and row["metadata"]["mixops_stack"] == "catalog"


async def test_resource_of_another_stack_is_refused_naming_the_owner(project_dir: Path) -> None:
    await apply_collections_only(project_dir)
    async with api(project_dir) as client:
        meta = {"managed_by": "mixops", "mixops_stack": "search_team"}
        await client.create_retriever(retriever_body("product_search", metadata=meta))
    with pytest.raises(PlanError, match="owned by stack 'search_team'"):
        await plan(project_dir)


async def saved_plan(root: Path, tmp_path: Path) -> Path:
    project = load_project(root, local_backend=local_transport)
    planned, _ = await plan_and_apply(project, "local", _opts())
    out = tmp_path / "plan.json"
    out.write_text(planned.plan.dumps(), encoding="utf-8")
    return out


def _opts() -> Any:
    from mixops.core.plan import PlanOptions

    return PlanOptions()


async def apply_saved(root: Path, path: Path) -> None:
    project = load_project(root, local_backend=local_transport)
    await plan_and_apply(project, "local", _opts(), apply=True, saved=load_saved_plan(path))


async def test_stale_saved_plan_is_refused_naming_the_change(project_dir: Path, tmp_path: Path) -> None:
    await apply(project_dir)
    edit(project_dir, "retrievers.yaml", lambda d: resource(d, "retrievers", "tag_matcher").update(description="x"))
    path = await saved_plan(project_dir, tmp_path)
    assert Plan.from_json(json.loads(path.read_text())).changes[0].name == "tag_matcher"
    state = await live(project_dir)
    async with api(project_dir) as client:
        await client.patch_retriever(state.resources[("retriever", "product_search")].id, {"description": "by hand"})
    with pytest.raises(StalePlanError) as err:
        await apply_saved(project_dir, path)
    assert "retriever/product_search changed" in str(err.value)
    assert "tag_matcher" not in str(err.value)
    assert (await raw_rows(project_dir))["tag_matcher"]["description"] != "x"  # nothing applied

    # A fresh saved plan applies; a manifest edit after saving makes it stale too.
    path = await saved_plan(project_dir, tmp_path)
    edit(project_dir, "taxonomies.yaml", lambda d: resource(d, "taxonomies", "product_tags").update(description="y"))
    with pytest.raises(StalePlanError, match="manifests changed"):
        await apply_saved(project_dir, path)


async def test_saved_plan_applies_when_nothing_moved(project_dir: Path, tmp_path: Path) -> None:
    await apply(project_dir)
    edit(project_dir, "retrievers.yaml", lambda d: resource(d, "retrievers", "tag_matcher").update(description="x"))
    path = await saved_plan(project_dir, tmp_path)
    await apply_saved(project_dir, path)
    assert (await raw_rows(project_dir))["tag_matcher"]["description"] == "x"
    await assert_converged(project_dir)


async def test_changes_made_through_the_api_show_in_the_next_plan(project_dir: Path) -> None:
    await apply(project_dir)
    state = await live(project_dir)
    async with api(project_dir) as client:
        await client.patch_retriever(state.resources[("retriever", "product_search")].id, {"description": "by hand"})
        await client.delete_cluster(state.resources[("cluster", "brand_groups")].id)
        tax = state.resources[("taxonomy", "product_tags")]
        await client.create_taxonomy_version(tax.id, {"config": {**_api_config(state), "top_k": 4}})
    p = await plan(project_dir)
    assert actions(p) == {
        ("retriever", "product_search"): "update",
        ("cluster", "brand_groups"): "create",
        ("taxonomy", "product_tags"): "version",
    }
    change = next(s for s in p.changes if s.name == "product_search").changes
    assert [(c.path, c.old) for c in change] == [("description", "by hand")]
    top_k = next(s for s in p.changes if s.name == "product_tags").changes
    assert [(c.path, c.old, c.new) for c in top_k] == [("config.top_k", 4, 2)]
    await apply(project_dir)
    await assert_converged(project_dir)


def _api_config(state: Any) -> dict[str, Any]:
    """product_tags' live config with ids, as the API wants it in a version body."""
    spec = state.resources[("taxonomy", "product_tags")].spec["config"]
    ids = {("retriever", n): r.id for (k, n), r in state.resources.items() if k == "retriever"}
    out = json.loads(json.dumps(spec))
    out["retriever_id"] = ids[("retriever", out["retriever_id"])]
    out["source_collection"]["collection_id"] = state.collections[out["source_collection"]["collection_id"]].id
    return out  # type: ignore[no-any-return]
