"""Apply interrupted at each step of a replacement, then re-run: it converges.

A request of the replacement sequence (create the temporary, re-point the
dependent taxonomy, delete the old, rename) fails; the next apply must finish
the job from whatever the namespace holds: no duplicates, no temporaries, the
taxonomy on the live retriever. The SIGKILL version is scripts/kill_test.py.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.reconcile.conftest import api, apply, assert_converged, edit, live, plan, resource

from mixops.errors import ApiError, ApiErrorInfo, ApplyError
from mixops.ports.client import MixpeekClient

Match = Callable[[str, str, Any], bool]


def is_rename(method: str, path: str, body: Any) -> bool:
    return method == "PATCH" and isinstance(body, dict) and set(body) in ({"retriever_name"}, {"cluster_name"})


def deletes_retriever(method: str, path: str, body: Any) -> bool:
    return method == "DELETE" and path.startswith("/v1/retrievers/")


def creates_version(method: str, path: str, body: Any) -> bool:
    return method == "POST" and path.endswith("/versions")


def creates_temporary(method: str, path: str, body: Any) -> bool:
    return method == "POST" and isinstance(body, dict) and str(body.get("retriever_name", "")).endswith("--mixops-new")


def fail_first(monkeypatch: pytest.MonkeyPatch, match: Match, *, after: bool = False) -> None:
    """Fail the first request that matches; with `after`, once it reached the server (a lost reply)."""
    original = MixpeekClient.request
    fired = False

    async def request(self: MixpeekClient, method: str, path: str, **kw: Any) -> Any:
        nonlocal fired
        if not fired and match(method, path, kw.get("json")):
            fired = True
            if after:
                await original(self, method, path, **kw)
            raise ApiError(method, path, ApiErrorInfo(400, "injected", message="injected failure"))
        return await original(self, method, path, **kw)

    monkeypatch.setattr(MixpeekClient, "request", request)


@pytest.mark.parametrize(
    ("match", "after"),
    [
        (creates_temporary, True),
        (creates_version, False),
        (creates_version, True),
        (deletes_retriever, False),
        (deletes_retriever, True),
        (is_rename, False),
        (is_rename, True),
    ],
    ids=["temp-created", "before-repoint", "repointed", "before-delete", "old-deleted", "before-rename", "renamed"],
)
async def test_interrupted_replacement_converges(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch, match: Match, after: bool
) -> None:
    await apply(project_dir)
    old = (await live(project_dir)).resources[("retriever", "tag_matcher")].id

    def change(data: dict[str, Any]) -> None:
        resource(data, "retrievers", "tag_matcher")["budget_limits"] = {"max_credits": 5}
        resource(data, "retrievers", "product_search")["description"] = "edited"

    edit(project_dir, "retrievers.yaml", change)
    fail_first(monkeypatch, match, after=after)
    with pytest.raises(ApplyError, match="injected failure"):
        await apply(project_dir, parallelism=1)
    monkeypatch.undo()

    await apply(project_dir)
    state = await assert_converged(project_dir)
    new = state.resources[("retriever", "tag_matcher")].id
    assert new != old
    async with api(project_dir) as client:
        rows = {r["taxonomy_name"]: r for r in await client.list_taxonomies()}
        assert rows["product_tags"]["config"]["retriever_id"] == new
        row = rows["product_tags"]
        out = await client.execute_taxonomy(
            row["taxonomy_id"],
            {
                # ExecuteTaxonomyRequest requires `taxonomy`: the live one, as read back.
                "taxonomy": {"taxonomy_name": row["taxonomy_name"], "config": row["config"]},
                "source_documents": [{"document_id": "d", "title": "trail shoes"}],
            },
        )
    assert out["stats"]["errors"] == 0 and out["results"][0].get("tag")


@pytest.mark.parametrize(
    ("match", "after"), [(deletes_retriever, True), (is_rename, False)], ids=["old-deleted", "before-rename"]
)
async def test_recovery_adds_no_taxonomy_version(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch, match: Match, after: bool
) -> None:
    """The taxonomy already points at the replacement left under its temporary name.

    Recovering renames that replacement in place: the id the taxonomy holds stays
    right, so the taxonomy needs no new version (it got one when it was re-pointed).
    """
    await apply(project_dir)

    def change(data: dict[str, Any]) -> None:
        resource(data, "retrievers", "tag_matcher")["budget_limits"] = {"max_credits": 5}

    edit(project_dir, "retrievers.yaml", change)
    fail_first(monkeypatch, match, after=after)
    with pytest.raises(ApplyError, match="injected failure"):
        await apply(project_dir, parallelism=1)
    monkeypatch.undo()
    async with api(project_dir) as client:
        taxonomy = {r["taxonomy_name"]: r for r in await client.list_taxonomies()}["product_tags"]
        versions_before = len(await client.request("GET", f"/v1/taxonomies/{taxonomy['taxonomy_id']}/versions"))

    p = await plan(project_dir)
    steps = {s.key: s.action for s in p.steps}
    assert (
        steps[("retriever", "tag_matcher")] == "update"
    )  # renamed back to its own name  # the rename back to its own name
    assert steps[("taxonomy", "product_tags")] == "noop"

    await apply(project_dir)
    await assert_converged(project_dir)
    async with api(project_dir) as client:
        assert len(await client.request("GET", f"/v1/taxonomies/{taxonomy['taxonomy_id']}/versions")) == versions_before


async def test_recovered_replacement_replaced_again(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """After the interruption the user changes the replace-forcing field again: the
    temporary is replaced in turn, its taxonomy follows, and the namespace converges."""
    await apply(project_dir)
    edit(
        project_dir,
        "retrievers.yaml",
        lambda data: resource(data, "retrievers", "tag_matcher").update(budget_limits={"max_credits": 5}),
    )
    fail_first(monkeypatch, deletes_retriever, after=True)
    with pytest.raises(ApplyError, match="injected failure"):
        await apply(project_dir, parallelism=1)
    monkeypatch.undo()
    edit(
        project_dir,
        "retrievers.yaml",
        lambda data: resource(data, "retrievers", "tag_matcher").update(budget_limits={"max_credits": 7}),
    )

    p = await plan(project_dir)
    steps = {s.key: s for s in p.steps}
    assert steps[("retriever", "tag_matcher")].action == "replace"
    assert steps[("retriever", "tag_matcher")].recover_from == "tag_matcher--mixops-new"
    assert steps[("taxonomy", "product_tags")].repoint

    await apply(project_dir)
    state = await assert_converged(project_dir)
    async with api(project_dir) as client:
        rows = {r["taxonomy_name"]: r for r in await client.list_taxonomies()}
    assert rows["product_tags"]["config"]["retriever_id"] == state.resources[("retriever", "tag_matcher")].id
