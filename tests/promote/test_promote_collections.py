"""Promotion carries collections and their application entries (issue 15 item 7).

The gate in the source environment checks the application entries the manifests
declare as it checks resources: each must be attached there and recorded as this
stack's; the records name them, and the gate line says how many were checked. The
target is planned and applied with the same path, so it gets the collection and
its entries.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from tests.reconcile.conftest import api, copy_example
from tests.reconcile.test_collections import reviews, write

from mixops.cli.promote_cmd import gate_line
from mixops.core.plan import PlanOptions
from mixops.local.inprocess import local_transport
from mixops.ports.live_reader import read_live
from mixops.ports.project import load_project
from mixops.ports.promote import PromotionRefused, promote, run_and_record, source_records
from mixops.ports.reconcile import plan_and_apply
from mixops.ports.target import connect, describe

ENTRY = "reviews/taxonomy/product_tags"
EXAMPLE_ENTRY = "products/taxonomy/product_tags"  # the example's own: products applies product_tags


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    root = copy_example(tmp_path / "catalog")
    path = root / "mixops.yaml"
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config["environments"]["next"] = {**config["environments"]["local"], "namespace": "catalog-next"}
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    write(root, {"collections": [reviews(taxonomy_applications=[{"taxonomy_id": "product_tags"}])]})
    return root


async def test_promotion_carries_the_collection_and_its_entries_and_the_records_name_them(project_dir: Path) -> None:
    project = load_project(project_dir, local_backend=local_transport)
    await plan_and_apply(project, "local", PlanOptions(), apply=True)
    await run_and_record(project, "local")

    records = await source_records(project, "local")
    assert records.entries == (EXAMPLE_ENTRY, ENTRY)
    assert gate_line("local", records).endswith(f", with 2 application entries ({EXAMPLE_ENTRY}, {ENTRY}).")

    result = await promote(project, "local", "next", PlanOptions())
    steps = {s.key: s.action for s in result.plan.changes}
    assert steps[("collection", "reviews")] == "create" and steps[("application", ENTRY)] == "create"
    async with connect(project, "next") as client:
        live = await read_live(client, describe(project, "next").namespace)
    assert live.resources[("application", ENTRY)].owner_stack == "catalog"
    assert (await source_records(project, "next")).entries == (EXAMPLE_ENTRY, ENTRY)


async def test_a_source_missing_a_declared_entry_is_refused_naming_it(project_dir: Path) -> None:
    project = load_project(project_dir, local_backend=local_transport)
    await plan_and_apply(project, "local", PlanOptions(), apply=True)
    await run_and_record(project, "local")
    async with api(project_dir) as client:  # detached by hand in the source
        found = await client.get_collection("reviews")
        await client.patch_collection(found["collection_id"], {"taxonomy_applications": []})
    with pytest.raises(PromotionRefused) as err:
        await promote(project, "local", "next", PlanOptions())
    assert f"not applied in 'local': application {ENTRY!r}" in str(err.value)
