"""A collection replacement with application entries, interrupted at each of its writes, then
applied again: the next apply converges, the plan after it is empty and drift is clean.

The replacement of `products` (a new extractor input) replaces the two clusters that read it
(a cluster's `collection_ids` cannot change in place) and moves its three entries (two
taxonomies, one cluster) to the replacement. An interruption leaves the replacement under its
temporary name holding entries, one of them naming the temporary cluster: the next apply takes
both temporaries over, or detaches what it must before deleting one; it never writes an entry
list back with an id it deleted. `fail_first` stands in for the SIGKILL of scripts/kill_test.py:
the matching request lands, then the apply stops (its step fails), deterministically.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.reconcile.conftest import api, apply, assert_converged, edit, live, plan, resource
from tests.reconcile.test_interrupted import Match, fail_first

from mixops.core.live import TEMP_SUFFIX
from mixops.errors import ApplyError
from mixops.local.inprocess import local_transport
from mixops.ports.drift import detect_drift
from mixops.ports.project import load_project

# docs/collections.md: bindings declared beside the collection.
BINDINGS = """\
version: "1.0"
taxonomy_applications: [{collection: products, taxonomy_id: product_hierarchy, execution_phase: 1}]
cluster_applications: [{collection: products, cluster_id: product_groups}]
"""


def writes_entry(list_key: str) -> Match:
    def match(method: str, path: str, body: Any) -> bool:
        return method == "PATCH" and path.startswith("/v1/collections/") and isinstance(body, dict) and list_key in body

    return match


def deletes(kind_path: str) -> Match:
    def match(method: str, path: str, body: Any) -> bool:
        return method == "DELETE" and path.startswith(f"/v1/{kind_path}/")

    return match


def renames_collection(method: str, path: str, body: Any) -> bool:
    return method == "PATCH" and isinstance(body, dict) and set(body) == {"collection_name"}


def new_extractor_input(data: dict[str, Any]) -> None:
    resource(data, "collections", "products")["feature_extractor"]["input_mappings"] = {
        "text": ["title", "description", "brand"]
    }


async def interrupted(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch, match: Match, *, after: bool
) -> tuple[str, str]:
    """The example with the bindings applied, then the replacement of `products` interrupted
    where `match` says. Returns the old products collection's id and the apply's error."""
    (project_dir / "manifests" / "bindings.yaml").write_text(BINDINGS, encoding="utf-8")
    await apply(project_dir)
    old = (await live(project_dir)).collections["products"].id
    edit(project_dir, "collections.yaml", new_extractor_input)
    fail_first(monkeypatch, match, after=after)
    with pytest.raises(ApplyError, match="injected failure") as caught:
        await apply(project_dir, parallelism=1, allow_data_loss=True)
    monkeypatch.undo()
    return old, str(caught.value)


@pytest.mark.parametrize(
    ("match", "after"),
    [
        (writes_entry("cluster_applications"), True),
        (writes_entry("taxonomy_applications"), True),
        (deletes("clusters"), True),
        (deletes("collections"), True),
        (renames_collection, False),
    ],
    ids=["cluster-entry-on-temporary", "taxonomy-entry-on-temporary", "old-cluster-deleted", "old-deleted", "renamed"],
)
async def test_an_interrupted_collection_replacement_with_entries_converges(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch, match: Match, after: bool
) -> None:
    old, _ = await interrupted(project_dir, monkeypatch, match, after=after)
    _, report = await apply(project_dir, allow_data_loss=True)
    assert report is not None and not report.failed, report.lines()

    state = await assert_converged(project_dir)
    products = state.collections["products"]
    assert products.id != old
    async with api(project_dir) as client:
        row = await client.get_collection(products.id)
    clusters = {n: r.id for (k, n), r in state.resources.items() if k == "cluster"}
    taxonomies = {n: r.id for (k, n), r in state.resources.items() if k == "taxonomy"}
    assert [e["cluster_id"] for e in row.get("cluster_applications") or []] == [clusters["product_groups"]]
    assert sorted(e["taxonomy_id"] for e in row.get("taxonomy_applications") or []) == sorted(
        [taxonomies["product_tags"], taxonomies["product_hierarchy"]]
    )
    records = row["metadata"]["mixops_applications"]
    assert records == {
        f"cluster:{clusters['product_groups']}": "catalog",
        f"taxonomy:{taxonomies['product_tags']}": "catalog",
        f"taxonomy:{taxonomies['product_hierarchy']}": "catalog",
    }
    p = await plan(project_dir)
    assert not p.has_changes and not p.warnings, (p.changes, p.warnings)
    project = load_project(project_dir, local_backend=local_transport)
    drift = await detect_drift(project, project.env_name(None))
    assert not drift.drifted, drift.lines()


async def test_the_temporary_cluster_an_entry_names_is_taken_over_not_deleted(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reviewer's kill point: the cluster entry is on the temporary collection, naming the
    temporary cluster. That cluster reads the temporary collection, which this plan takes over
    as `products`: it is what the manifests ask for, so it is taken over too, and the entry with
    it (no step deletes or rewrites it)."""
    _, error = await interrupted(project_dir, monkeypatch, writes_entry("cluster_applications"), after=True)
    before = await live(project_dir)
    temp_collection = before.collections["products" + TEMP_SUFFIX].id
    temp_cluster = before.resources[("cluster", "product_groups" + TEMP_SUFFIX)].id
    # The summary tells the replacements created from those not started (it said "not started").
    assert "2 done, 1 failed, 3 unfinished, 2 not started" in error, error
    assert (
        f"  unfinished   -/+ collection products: replacement created (created {temp_collection} as "
        f"products{TEMP_SUFFIX}), not swapped in: the old one is still there and the replacement keeps its "
        "temporary name (the next apply finishes it)"
    ) in error.splitlines(), error

    p = await plan(project_dir, allow_data_loss=True)
    steps = {s.key: s for s in p.steps}
    assert steps[("collection", "products")].reuse_temporary == temp_collection
    assert steps[("cluster", "product_groups")].reuse_temporary == temp_cluster
    assert not [s for s in p.steps if s.action == "delete"], [s.name for s in p.steps if s.action == "delete"]
    assert not p.warnings, p.warnings

    await apply(project_dir, allow_data_loss=True)
    assert (await live(project_dir)).resources[("cluster", "product_groups")].id == temp_cluster
    await assert_converged(project_dir)


async def test_a_recovered_cluster_that_must_be_replaced_is_not_taken_over_as_its_own_replacement(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cluster replacement interrupted after its old cluster was deleted leaves the replacement
    under its temporary name; then `products` gets a new extractor, so that cluster (reading the
    old products) must be replaced again. Its temporary is its own live copy: the plan took it
    over as its own replacement, and the swap deleted it (`404 cluster_not_found` on the rename)."""
    await apply(project_dir)
    edit(
        project_dir,
        "clusters.yaml",
        lambda data: resource(data, "clusters", "brand_groups")["attribute_config"].update(attributes=["brand"]),
    )
    fail_first(monkeypatch, deletes("clusters"), after=True)
    with pytest.raises(ApplyError, match="injected failure"):
        await apply(project_dir, parallelism=1)
    monkeypatch.undo()
    edit(project_dir, "collections.yaml", new_extractor_input)

    step = {s.key: s for s in (await plan(project_dir, allow_data_loss=True)).steps}[("cluster", "brand_groups")]
    assert step.action == "replace" and step.recover_from == "brand_groups" + TEMP_SUFFIX
    assert step.clear_temporary == step.live_id and step.reuse_temporary is None
    _, report = await apply(project_dir, allow_data_loss=True)
    assert report is not None and not report.failed, report.lines()
    await assert_converged(project_dir)
