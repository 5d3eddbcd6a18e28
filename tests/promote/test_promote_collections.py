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
from mixops.core.normalise import APPLICATIONS_KEY
from mixops.core.plan import PlanOptions
from mixops.errors import PlanError
from mixops.local.inprocess import local_transport
from mixops.ports.live_reader import read_live
from mixops.ports.project import load_project
from mixops.ports.promote import PromotionRefused, promote, refusal, run_and_record, source_records
from mixops.ports.reconcile import plan_and_apply
from mixops.ports.stamps import Records
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


async def _recorded_for(root: Path, stack: str) -> None:
    """The ownership records on `reviews` rewritten to name `stack` (as another stack's apply would)."""
    async with api(root) as client:
        found = await client.get_collection("reviews")
        metadata = dict(found.get("metadata") or {})
        metadata[APPLICATIONS_KEY] = {key: stack for key in metadata[APPLICATIONS_KEY]}
        await client.patch_collection(found["collection_id"], {"metadata": metadata})


async def test_a_source_entry_owned_by_another_stack_is_refused_saying_whose_it_is(project_dir: Path) -> None:
    project = load_project(project_dir, local_backend=local_transport)
    await plan_and_apply(project, "local", PlanOptions(), apply=True)
    await run_and_record(project, "local")
    await _recorded_for(project_dir, "team_b")
    with pytest.raises(PromotionRefused) as err:
        await promote(project, "local", "next", PlanOptions(), mixops="mixops -C proj")
    message = str(err.value)
    assert "not applied" not in message  # it is attached: applying again would refuse it too
    assert f"in 'local', application {ENTRY!r} is attached but owned by stack 'team_b'" in message
    assert "(take it over there: mixops -C proj apply --env local --adopt --tests all; or rename it" in message
    # What the refusal says is so: a plain apply refuses the entry as another stack's ...
    with pytest.raises(PlanError, match="owned by stack 'team_b'"):
        await plan_and_apply(project, "local", PlanOptions(), apply=True)
    # ... and the command it names takes it over, after which promotion goes ahead.
    await plan_and_apply(project, "local", PlanOptions(adopt=True), apply=True, tests="all")
    result = await promote(project, "local", "next", PlanOptions())
    assert result.report is not None and not result.report.failed


async def test_a_source_entry_of_no_stack_is_refused_as_not_managed(project_dir: Path) -> None:
    project = load_project(project_dir, local_backend=local_transport)
    await plan_and_apply(project, "local", PlanOptions(), apply=True)
    await run_and_record(project, "local")
    async with api(project_dir) as client:  # the record is gone: attached by hand, as far as mixops knows
        found = await client.get_collection("reviews")
        metadata = {k: v for k, v in (found.get("metadata") or {}).items() if k != APPLICATIONS_KEY}
        await client.patch_collection(found["collection_id"], {"metadata": metadata})
    with pytest.raises(PromotionRefused, match=f"application {ENTRY!r} is attached but not managed by mixops"):
        await promote(project, "local", "next", PlanOptions())


@pytest.mark.parametrize(
    "records",
    [
        Records("d1", ("retriever 'a'",), (), (), (), 1),
        Records("d1", (), (), ("retriever 'a'",), (), 1),
        Records("d1", (), (), (), (("retriever 'a'", "2026-12-02T05:00:00+00:00"),), 1),
        Records("d1", (), (), (), (), 1, foreign=(("application 'c/taxonomy/t'", "b\x1b[0m"),)),
    ],
)
def test_names_in_a_refusal_never_reach_the_terminal_raw(records: Records) -> None:
    reason = refusal(records, "st\x1b[31mage")  # an environment name written with YAML's \e
    assert reason is not None and "\x1b" not in reason
    assert "--env $'st\\x1b[31mage'" in reason  # the command still pastes as it is


def test_what_the_gate_reads_from_the_source_reaches_the_terminal_escaped() -> None:
    title = "\x1b]0;pwned\x07"  # written into the source's metadata by anything with the API key
    other = Records("d1", (), (("retriever 'a'", f"d0{title}"),), (), (), 1)
    failed = Records("d1", (), (), (), (("retriever 'a'", f"2026{title}"),), 1)
    for records in (other, failed):
        reason = refusal(records, "staging")
        assert reason is not None and "\x1b" not in reason and "\x07" not in reason
        assert "\\x1b]0;pwned\\x07" in reason
    tested = Records("d1", (), (), (), (), 1, tested_at=f"2026{title}", counts=(("passed", 1),))
    assert (
        gate_line("staging", tested)
        == "'staging' runs digest d1, tested and passing (1 passed at 2026\\x1b]0;pwned\\x07)."
    )
