"""An application entry whose applied resource is replaced follows it, and only it remains.

The entry is named by the taxonomy's NAME, so the plan has one `update` step for it
(re-pointed at the replacement). On the wire the entry is keyed by the taxonomy's ID,
which changes: the entry for the old id must go with the old taxonomy, or the collection
keeps an entry (and an ownership record) naming a taxonomy that no longer exists.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.reconcile.conftest import actions, apply, assert_converged, edit, live, plan, resource
from tests.reconcile.test_collections import entries, reviews, write
from tests.reconcile.test_shared_collection import applied

from mixops.local.app import VERSIONS_ENV

ENTRY = ("application", "reviews/taxonomy/product_tags")


async def test_a_replaced_taxonomy_leaves_one_entry_pointing_at_the_replacement(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(VERSIONS_ENV, "off")  # a config change is then a replacement
    write(project_dir, {"collections": [reviews(taxonomy_applications=[{"taxonomy_id": "product_tags"}])]})
    await apply(project_dir)
    before = (await live(project_dir)).resources[("taxonomy", "product_tags")].id
    edit(project_dir, "taxonomies.yaml", lambda d: resource(d, "taxonomies", "product_tags")["config"].update(top_k=3))
    p = await plan(project_dir)
    assert actions(p)[("taxonomy", "product_tags")] == "replace" and actions(p)[ENTRY] == "update"
    _, report = await apply(project_dir)
    assert report is not None and not report.failed
    after = (await live(project_dir)).resources[("taxonomy", "product_tags")].id
    assert after != before
    assert [e["taxonomy_id"] for e in await entries(project_dir, "reviews")] == [after]
    records, _ = await applied(project_dir)
    assert records == {f"taxonomy:{after}": "catalog"}
    await assert_converged(project_dir)
