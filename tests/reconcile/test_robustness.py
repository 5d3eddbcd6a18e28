"""Apply under odd failures: bugs in a step, writes that fail, leases that go away.

Each test drives the library (or the CLI) against the embedded backend and
checks what a user would see: the report of what was and was not done, a clean
error message, and a namespace left in a state the next apply converges from.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from tests.reconcile.conftest import api, apply, edit, live, resource

from mixops.errors import ApplyError, MixopsError
from mixops.ports.client import MixpeekClient


def _describe(*names: str) -> Any:
    def change(data: dict[str, Any]) -> None:
        for name in names:
            resource(data, "retrievers", name)["description"] = f"{name} edited"

    return change


async def test_an_unexpected_error_in_a_step_ends_as_a_failed_step_with_the_report(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await apply(project_dir)
    edit(project_dir, "retrievers.yaml", _describe("product_search", "hybrid_product_search", "tag_matcher"))
    edit(project_dir, "taxonomies.yaml", lambda d: resource(d, "taxonomies", "product_tags").update(
        description="tags, edited"))  # fmt: skip
    ids = {k: r.id for k, r in (await live(project_dir)).resources.items()}
    original = MixpeekClient.patch_retriever

    async def patch_retriever(self: MixpeekClient, retriever_id: str, body: dict[str, Any]) -> dict[str, Any]:
        if retriever_id == ids[("retriever", "product_search")]:
            await asyncio.sleep(0.05)  # the siblings are in flight by now
            raise KeyError("retriever_id")  # an odd response shape, as a bug would meet it
        return await original(self, retriever_id, body)

    monkeypatch.setattr(MixpeekClient, "patch_retriever", patch_retriever)
    with pytest.raises(ApplyError) as caught:
        await apply(project_dir, parallelism=4)
    report = caught.value.report
    status = {r.step.name: r.status for r in report.results}
    detail = {r.step.name: r.detail for r in report.results}
    assert status["product_search"] == "failed"
    assert "internal error: KeyError" in detail["product_search"]
    # The siblings of the same wave finished; the next wave never started.
    assert status["hybrid_product_search"] == "done" and status["tag_matcher"] == "done"
    assert status["product_tags"] == "not_started"
    assert "product_search" in str(caught.value) and "not started" in str(caught.value)
    monkeypatch.undo()
    _, again = await apply(project_dir)
    assert again is not None and not again.failed


async def test_a_failing_stamp_lets_the_others_finish_and_names_the_failure(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mixops.ports.project import load_project, load_stack
    from mixops.ports.stamps import APPLIED_KEY, stamp_applied

    await apply(project_dir)
    state = await live(project_dir)
    # A new digest: every declared resource needs a new stamp.
    edit(project_dir, "retrievers.yaml", _describe("product_search"))
    project = load_project(project_dir)
    stack = load_stack(project, "local")
    broken = state.resources[("retriever", "tag_matcher")].id
    original = MixpeekClient.patch_retriever

    async def patch_retriever(self: MixpeekClient, retriever_id: str, body: dict[str, Any]) -> dict[str, Any]:
        if retriever_id == broken:
            raise KeyError("metadata")
        await asyncio.sleep(0.01)  # the others are still in flight when the broken one fails
        return await original(self, retriever_id, body)

    monkeypatch.setattr(MixpeekClient, "patch_retriever", patch_retriever)
    async with api(project_dir) as client:
        with pytest.raises(MixopsError, match=r"failed on 1 of \d+ resources .*tag_matcher.*KeyError"):
            await stamp_applied(client, stack, state.namespace, state)
    after = await live(project_dir)
    stamped = {k[1] for k, r in after.resources.items() if r.metadata.get(APPLIED_KEY) == stack.digest()}
    assert "tag_matcher" not in stamped
    assert {"product_search", "hybrid_product_search", "product_tags", "product_groups"} <= stamped
