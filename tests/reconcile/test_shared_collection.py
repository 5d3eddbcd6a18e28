"""Two stacks, one collection: each owns one application entry of it (issue 15 item 4).

An entry is a read-modify-write of the collection's list. Two applies (two stacks, so
two leases: they do not exclude each other) can both read the list before either
writes it; the second write then drops the first stack's entry. Apply re-reads the
collection right before each entry PATCH, reads it again after, and writes again
while its own entry (or its ownership record) is missing. These tests force that
interleaving; the documented remainder is in docs/collections.md.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.reconcile.conftest import EXAMPLE, api, apply, edit, live, plan, resource
from tests.reconcile.test_collections import REVIEWS, reviews, write

from mixops.core.normalise import APPLICATIONS_KEY
from mixops.core.plan import PlanOptions
from mixops.local.inprocess import local_transport
from mixops.ports.client import MixpeekClient
from mixops.ports.project import load_project
from mixops.ports.reconcile import plan_and_apply

OTHER = "team_b"


def other_stack(tmp_path: Path, shared: Path, *, binding: bool) -> Path:
    """Stack `team_b` on the same namespace and database as `shared`: its own matcher and
    taxonomy, and (with `binding`) an entry applying that taxonomy to `reviews`, which
    the catalog stack owns."""
    root = tmp_path / "team_b"
    (root / "manifests").mkdir(parents=True, exist_ok=True)
    catalog = yaml.safe_load((shared / "mixops.yaml").read_text(encoding="utf-8"))
    local = catalog["environments"]["local"]
    config = {
        "stack": OTHER,
        "manifests": ["manifests/"],
        "environments": {
            "local": {"target": "local", "namespace": local["namespace"], "db": str(shared / ".mixops" / "local.db")}
        },
    }
    (root / "mixops.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    retrievers = yaml.safe_load((EXAMPLE / "manifests" / "retrievers.yaml").read_text(encoding="utf-8"))
    taxonomies = yaml.safe_load((EXAMPLE / "manifests" / "taxonomies.yaml").read_text(encoding="utf-8"))
    matcher = {**resource(retrievers, "retrievers", "tag_matcher"), "name": "b_matcher"}
    tags = resource(taxonomies, "taxonomies", "product_tags")
    tags = {**tags, "name": "b_tags", "config": {**tags["config"], "retriever_id": "b_matcher"}}
    data: dict[str, Any] = {"version": "1.0", "retrievers": [matcher], "taxonomies": [tags]}
    if binding:
        data["taxonomy_applications"] = [{"collection": "reviews", "taxonomy_id": "b_tags"}]
    (root / "manifests" / "b.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return root


async def apply_other(root: Path) -> None:
    project = load_project(root, local_backend=local_transport)
    await plan_and_apply(project, "local", PlanOptions(), apply=True)


async def plan_other(root: Path) -> bool:
    project = load_project(root, local_backend=local_transport)
    planned, _ = await plan_and_apply(project, "local", PlanOptions())
    return planned.plan.has_changes


async def applied(root: Path) -> tuple[dict[str, str], set[str]]:
    """The ownership records on `reviews`, and the taxonomy ids of its entries."""
    async with api(root) as client:
        found = await client.get_collection("reviews")
    records = dict((found.get("metadata") or {}).get(APPLICATIONS_KEY) or {})
    return records, {e["taxonomy_id"] for e in found.get("taxonomy_applications") or []}


async def test_two_stacks_attaching_at_once_both_keep_their_entry(
    project_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(project_dir, {"collections": [REVIEWS]})
    await apply(project_dir)
    b = other_stack(tmp_path, project_dir, binding=False)
    await apply_other(b)
    write(project_dir, {"collections": [reviews(taxonomy_applications=[{"taxonomy_id": "product_tags"}])]})
    other_stack(tmp_path, project_dir, binding=True)

    # Both read the list, then both write it: the first writer's entry is overwritten by the
    # second, and the first reads the collection again only after that second write.
    original = MixpeekClient.patch_collection
    writers: list[MixpeekClient] = []
    both_read, first_wrote, second_wrote = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def patch(self: MixpeekClient, collection_id: str, body: dict[str, Any]) -> dict[str, Any]:
        if "taxonomy_applications" not in body or self in writers:
            return await original(self, collection_id, body)
        writers.append(self)
        if len(writers) == 1:
            await both_read.wait()
            out = await original(self, collection_id, body)
            first_wrote.set()
            await second_wrote.wait()
            return out
        both_read.set()
        await first_wrote.wait()
        out = await original(self, collection_id, body)
        second_wrote.set()
        return out

    monkeypatch.setattr(MixpeekClient, "patch_collection", patch)
    await asyncio.wait_for(asyncio.gather(apply(project_dir), apply_other(b)), timeout=120)
    monkeypatch.undo()
    assert len(writers) == 2  # the interleaving happened

    state = await live(project_dir)
    ours, theirs = state.resources[("taxonomy", "product_tags")].id, state.resources[("taxonomy", "b_tags")].id
    records, entries = await applied(project_dir)
    assert entries == {ours, theirs}
    assert records == {f"taxonomy:{ours}": "catalog", f"taxonomy:{theirs}": OTHER}
    assert not (await plan(project_dir)).has_changes
    assert not await plan_other(b)


async def test_a_collection_metadata_write_keeps_an_entry_record_written_since_the_plan(
    project_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(project_dir, {"collections": [REVIEWS]})
    await apply(project_dir)
    b = other_stack(tmp_path, project_dir, binding=True)
    write(project_dir, {"collections": [reviews(metadata={"team": "catalog"})]})

    # The catalog stack planned its metadata change; team_b attaches its entry after that plan,
    # before the catalog stack writes (its first read of the collection during the apply).
    original = MixpeekClient.get_collection
    interleaved: list[bool] = []

    async def get_collection(self: MixpeekClient, identifier: str) -> dict[str, Any]:
        if not interleaved:
            interleaved.append(True)
            await apply_other(b)
        return await original(self, identifier)

    monkeypatch.setattr(MixpeekClient, "get_collection", get_collection)
    await apply(project_dir)
    monkeypatch.undo()
    assert interleaved

    records, entries = await applied(project_dir)
    theirs = (await live(project_dir)).resources[("taxonomy", "b_tags")].id
    assert entries == {theirs}
    assert records == {f"taxonomy:{theirs}": OTHER}  # not wiped by the catalog stack's metadata
    assert not await plan_other(b)
    assert not (await plan(project_dir)).has_changes


async def test_stamping_the_applied_digest_keeps_an_entry_record_written_since_its_read(
    project_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mixops.ports.stamps as stamps

    write(project_dir, {"collections": [REVIEWS]})
    await apply(project_dir)
    b = other_stack(tmp_path, project_dir, binding=True)
    # A change elsewhere: the new digest is stamped on `reviews` after the apply.
    edit(project_dir, "retrievers.yaml", lambda d: resource(d, "retrievers", "product_search").update(description="x"))
    original = stamps.read_live
    interleaved: list[bool] = []

    async def read_live(client: MixpeekClient, namespace: str) -> Any:
        state = await original(client, namespace)
        if not interleaved:  # team_b attaches between the stamp's read and its writes
            interleaved.append(True)
            await apply_other(b)
        return state

    monkeypatch.setattr(stamps, "read_live", read_live)
    await apply(project_dir)
    monkeypatch.undo()
    assert interleaved
    records, _ = await applied(project_dir)
    theirs = (await live(project_dir)).resources[("taxonomy", "b_tags")].id
    assert records == {f"taxonomy:{theirs}": OTHER}
    assert not await plan_other(b)
