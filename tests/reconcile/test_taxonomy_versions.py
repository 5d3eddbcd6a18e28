"""A taxonomy config change takes the path the API shows it has (issue 12 item 5).

With taxonomy versions (the local backend's default) the plan says `new version`
and apply posts to /versions: same id. Without them (the backend configured as an
API that lacks the routes) the plan says `replacement` and apply creates a new
taxonomy under a temporary name and swaps it in: never a /versions request. The
plan says which, in text, Markdown and JSON; the capability is asked read-only,
once per command, and only when a taxonomy's config changes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from tests.reconcile.conftest import actions, apply, assert_converged, edit, live, plan, resource

from mixops.local.app import VERSIONS_ENV
from mixops.ports.client import MixpeekClient
from mixops.render.render_markdown import render_markdown
from mixops.render.render_text import render_text

TAXONOMY = ("taxonomy", "product_tags")


@contextmanager
def requests(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, str]]]:
    """(method, path) of every request the client sends."""
    sent: list[tuple[str, str]] = []
    original = MixpeekClient.request

    async def request(self: MixpeekClient, method: str, path: str, **kw: Any) -> Any:
        sent.append((method, path))
        return await original(self, method, path, **kw)

    with monkeypatch.context() as m:
        m.setattr(MixpeekClient, "request", request)
        yield sent


def _top_k(data: dict[str, Any]) -> None:
    resource(data, "taxonomies", "product_tags")["config"]["top_k"] = 3


def _versions_asked(sent: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(m, p) for m, p in sent if p.endswith("/versions")]


def _without_versions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(VERSIONS_ENV, "off")


async def test_with_versions_a_config_change_is_a_new_version(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await apply(project_dir)
    before = (await live(project_dir)).resources[TAXONOMY].id
    edit(project_dir, "taxonomies.yaml", _top_k)
    with requests(monkeypatch) as sent:
        planned = await plan(project_dir)
    step = next(s for s in planned.steps if s.key == TAXONOMY)
    assert (step.action, step.taxonomy_config) == ("version", "new_version")
    assert planned.capabilities["taxonomy_versions"].present is True
    # The probe, once: a read of one live taxonomy's versions.
    taxonomy_ids = {r.id for (kind, _), r in (await live(project_dir)).resources.items() if kind == "taxonomy"}
    assert [(m, p.split("/")[3]) for m, p in _versions_asked(sent)] in ([("GET", t)] for t in taxonomy_ids)
    assert "config change: a new version (POST /v1/taxonomies/{id}/versions, same id)" in render_text(planned)
    with requests(monkeypatch) as sent:
        await apply(project_dir)
    assert ("POST", f"/v1/taxonomies/{before}/versions") in sent
    assert (await live(project_dir)).resources[TAXONOMY].id == before
    await assert_converged(project_dir)


async def test_without_versions_a_config_change_is_a_replacement(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _without_versions(monkeypatch)
    await apply(project_dir)
    before = (await live(project_dir)).resources[TAXONOMY].id
    edit(project_dir, "taxonomies.yaml", _top_k)
    planned = await plan(project_dir)
    step = next(s for s in planned.steps if s.key == TAXONOMY)
    assert (step.action, step.taxonomy_config) == ("replace", "replacement")
    assert step.replace_reasons == ("config (this API has no taxonomy versions)",)
    found = planned.capabilities["taxonomy_versions"]
    assert found.present is False and "answered HTTP 404" in found.evidence
    text = render_text(planned)
    assert '-/+ taxonomy "product_tags" must be replaced (config (this API has no taxonomy versions)' in text
    assert "config change: a replacement (this API has no taxonomy versions)" in text
    assert "config change: a replacement" in render_markdown(planned)
    saved = json.loads(planned.dumps())
    [as_json] = [s for s in saved["steps"] if s["name"] == "product_tags"]
    assert (as_json["action"], as_json["taxonomy_config"]) == ("replace", "replacement")
    assert saved["capabilities"]["taxonomy_versions"]["present"] is False
    with requests(monkeypatch) as sent:
        executed, report = await apply(project_dir)
    assert actions(executed)[TAXONOMY] == "replace" and report is not None and not report.failed
    assert not [r for r in _versions_asked(sent) if r[0] == "POST"]
    state = await live(project_dir)
    after = state.resources[TAXONOMY]
    assert after.id != before and after.name == "product_tags"
    # products applies product_tags: its one entry moved to the replacement (no entry left
    # naming the deleted taxonomy).
    collection = state.collections["products"].id
    applied = [r.id for (kind, _), r in state.resources.items() if kind == "application"]
    assert applied == [f"{collection}/taxonomy/{after.id}"]
    await assert_converged(project_dir)


async def test_without_versions_a_replaced_retriever_replaces_its_taxonomy(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A taxonomy's retriever_id is in its config: re-pointing it is a config change too."""
    _without_versions(monkeypatch)
    await apply(project_dir)
    before = (await live(project_dir)).resources[TAXONOMY].id

    def limits(data: dict[str, Any]) -> None:
        resource(data, "retrievers", "tag_matcher")["budget_limits"] = {"max_credits": 9.0}

    edit(project_dir, "retrievers.yaml", limits)
    planned = await plan(project_dir)
    step = next(s for s in planned.steps if s.key == TAXONOMY)
    assert (step.action, step.taxonomy_config) == ("replace", "replacement")
    assert step.repoint == ("retriever 'tag_matcher'",)
    _, report = await apply(project_dir)
    assert report is not None and not report.failed
    assert (await live(project_dir)).resources[TAXONOMY].id != before
    await assert_converged(project_dir)


async def test_the_capability_is_not_asked_without_a_taxonomy_config_change(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await apply(project_dir)

    def describe(data: dict[str, Any]) -> None:
        resource(data, "taxonomies", "product_tags")["description"] = "tags, described"

    edit(project_dir, "taxonomies.yaml", describe)
    with requests(monkeypatch) as sent:
        planned = await plan(project_dir)
    assert actions(planned) == {TAXONOMY: "update"}
    assert _versions_asked(sent) == [] and planned.capabilities == {}
