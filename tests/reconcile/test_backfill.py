"""Backfill: the apply-taxonomy task over a collection's existing documents is a planned step.

Attaching a taxonomy application enriches the documents ingested afterwards; those
already in the collection are enriched only by `POST /v1/collections/{id}/apply-taxonomy`,
which mixops runs only as a `backfill` step of the plan: due when an entry declared
with `backfill: true` is attached or changed, or its taxonomy gets a new config, or
asked for with `--backfill COLLECTION/TAXONOMY`. Apply runs the step the plan made and
waits for the task; an API without the route makes it SKIPPED, never a crash.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from tests.reconcile.conftest import actions, api, apply, edit, plan, resource
from tests.reconcile.test_collections import REVIEW_SEARCH, REVIEWS, add_document, reviews, write

from mixops.cli.main import cli
from mixops.errors import ApiError, ApiErrorInfo, ApplyError, PlanError
from mixops.ports.client import MixpeekClient
from mixops.render.render_markdown import render_markdown
from mixops.render.render_text import render_text

ENTRY = "reviews/taxonomy/product_tags"
BACKFILL = ("backfill", ENTRY)


async def _reviews_with_documents(root: Path) -> list[str]:
    """`reviews` applied without any application, then three documents ingested into it."""
    write(root, {"collections": [REVIEWS]})
    await apply(root)
    return [await add_document(root, "reviews", title=t) for t in ("trail running shoes", "leather boots", "yoga mat")]


async def _tags(root: Path, document_ids: list[str]) -> list[Any]:
    async with api(root) as client:
        found = await client.get_collection("reviews")
        out = []
        for doc in document_ids:
            body = await client.request("GET", f"/v1/collections/{found['collection_id']}/documents/{doc}")
            out.append(body.get("tag"))
        return out


def _with_entry(**entry: Any) -> dict[str, Any]:
    return {"collections": [reviews(taxonomy_applications=[{"taxonomy_id": "product_tags", **entry}])]}


async def test_attaching_an_entry_with_backfill_enriches_the_documents_already_there(project_dir: Path) -> None:
    docs = await _reviews_with_documents(project_dir)
    write(project_dir, _with_entry(backfill=True))
    p = await plan(project_dir)
    assert actions(p) == {("application", ENTRY): "create", BACKFILL: "backfill"}
    step = next(s for s in p.steps if s.key == BACKFILL)
    assert step.documents == 3  # counted exactly for this plan
    assert step.backfill_due == ("the entry is attached",)
    assert step.depends_on == (("application", ENTRY),)
    assert p.steps[-1].key == BACKFILL  # after every other step
    text = render_text(p)
    assert "  * backfill reviews with product_tags: 3 documents" in text
    assert "# due: the entry is attached" in text
    assert "1 backfill (" in text
    assert "| backfill |" in render_markdown(p)
    assert p.to_json()["counts"]["backfill"] == 1

    _, report = await apply(project_dir)
    assert report is not None and report.summary() == "2 done, 0 failed, 0 not started"
    done = next(r for r in report.results if r.step.key == BACKFILL)
    assert "task" in done.detail and "COMPLETED" in done.detail and "3 documents estimated" in done.detail
    tags = await _tags(project_dir, docs)
    assert all(tags), tags  # every document got the taxonomy's `tag`
    # Done once: a manifest flag does not run it again on the next apply.
    assert not (await plan(project_dir)).has_changes


async def test_without_backfill_only_documents_ingested_afterwards_are_enriched(project_dir: Path) -> None:
    docs = await _reviews_with_documents(project_dir)
    write(project_dir, _with_entry())
    p = await plan(project_dir)
    assert actions(p) == {("application", ENTRY): "create"}
    await apply(project_dir)
    later = await add_document(project_dir, "reviews", title="running shoes")
    assert await _tags(project_dir, docs) == [None, None, None]
    assert (await _tags(project_dir, [later]))[0]
    # On demand: the CLI option plans it (and only while asked).
    asked = await plan(project_dir, backfill=("reviews/product_tags",))
    assert actions(asked) == {BACKFILL: "backfill"}
    assert asked.changes[0].backfill_due == ("asked for with --backfill",)
    await apply(project_dir, backfill=("reviews/product_tags",))
    assert all(await _tags(project_dir, docs))
    assert not (await plan(project_dir)).has_changes


async def test_a_new_taxonomy_config_makes_the_backfill_due_again(project_dir: Path) -> None:
    await _reviews_with_documents(project_dir)
    write(project_dir, _with_entry(backfill=True))
    await apply(project_dir)
    edit(project_dir, "taxonomies.yaml", lambda d: resource(d, "taxonomies", "product_tags")["config"].update(top_k=1))
    p = await plan(project_dir)
    assert actions(p)[("taxonomy", "product_tags")] == "version"
    step = next(s for s in p.steps if s.key == BACKFILL)
    assert step.backfill_due == ("taxonomy 'product_tags' gets a new version",)
    # An entry field changing in place makes it due too.
    write(project_dir, _with_entry(backfill=True, priority=7))
    assert next(s for s in (await plan(project_dir)).steps if s.key == BACKFILL).backfill_due == (
        "the entry changes",
        "taxonomy 'product_tags' gets a new version",
    )


async def test_the_backfill_flag_is_never_sent_nor_compared(project_dir: Path) -> None:
    write(project_dir, _with_entry(backfill=True))
    await apply(project_dir)
    async with api(project_dir) as client:
        [entry] = (await client.get_collection("reviews"))["taxonomy_applications"]
    assert "backfill" not in entry
    write(project_dir, _with_entry(backfill=False))
    assert not (await plan(project_dir)).has_changes


async def test_backfill_names_a_declared_taxonomy_application(project_dir: Path) -> None:
    write(project_dir, _with_entry())
    with pytest.raises(PlanError) as err:
        await plan(project_dir, backfill=("reviews/product_hierarchy",))
    text = str(err.value)
    assert "--backfill 'reviews/product_hierarchy'" in text and "reviews/product_tags" in text


async def test_backfill_refuses_the_name_of_an_entry_that_is_not_a_taxonomy_application(project_dir: Path) -> None:
    enrichment = {
        "retriever_id": "review_search",
        "input_mappings": [{"input_key": "query", "source": {"source_type": "document_field", "path": "body"}}],
        "write_back_fields": [{"source_field": "title", "target_field": "similar_title"}],
    }
    write(project_dir, {"collections": [reviews(retriever_enrichments=[enrichment])], "retrievers": [REVIEW_SEARCH]})
    assert ("application", "reviews/retriever/review_search") in actions(await plan(project_dir))
    with pytest.raises(PlanError, match="--backfill 'reviews/retriever/review_search': the manifests declare no"):
        await plan(project_dir, backfill=("reviews/retriever/review_search",))


async def test_an_api_without_the_route_skips_the_backfill_with_a_warning(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _reviews_with_documents(project_dir)
    write(project_dir, _with_entry(backfill=True))
    original = MixpeekClient.request

    async def request(self: MixpeekClient, method: str, path: str, **kw: Any) -> Any:
        if path.endswith("/apply-taxonomy"):
            raise ApiError(method, path, ApiErrorInfo(404, "not_found", None, "Not Found"))
        return await original(self, method, path, **kw)

    monkeypatch.setattr(MixpeekClient, "request", request)
    _, report = await apply(project_dir)
    assert report is not None and report.summary() == "1 done, 0 failed, 1 skipped, 0 not started"
    [skipped] = report.skipped
    assert skipped.step.key == BACKFILL
    assert "does not offer the backfill" in skipped.detail and "HTTP 404" in skipped.detail


async def test_a_backfill_that_ends_with_errors_is_a_failed_step_with_the_task_figures(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _reviews_with_documents(project_dir)
    await add_document(project_dir, "reviews", body="no title: the taxonomy's input is missing")
    write(project_dir, _with_entry(backfill=True))
    with pytest.raises(ApplyError) as err:
        await apply(project_dir)
    report = err.value.report
    [failed] = report.failed
    assert failed.step.key == BACKFILL
    assert "ended COMPLETED_WITH_ERRORS" in failed.detail, failed.detail
    assert "outputs: " in failed.detail
    # The retry names the project directory the project was loaded from (as `-C DIR` would).
    assert f"mixops -C {project_dir.as_posix()} apply --env local --backfill reviews/product_tags" in failed.detail
    # The entry itself was attached: the failure is the backfill's alone.
    assert next(r for r in report.results if r.step.kind == "application").status == "done"


def test_a_failed_backfill_retry_is_the_command_the_user_would_type(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asyncio.run(_reviews_with_documents(project_dir))
    asyncio.run(add_document(project_dir, "reviews", body="no title: the taxonomy's input is missing"))
    write(project_dir, _with_entry(backfill=True))
    runner = CliRunner()
    failed = runner.invoke(cli, ["-C", str(project_dir), "apply", "--auto-approve", "--no-tests"])
    assert failed.exit_code == 1, failed.output
    retry = f"Run it again with: mixops -C {project_dir.as_posix()} apply --env local --backfill reviews/product_tags"
    assert retry in failed.output
    # The retry, run from the project directory itself without -C: its own retry has none either.
    monkeypatch.chdir(project_dir)
    again = runner.invoke(cli, ["apply", "--env", "local", "--backfill", "reviews/product_tags", "--auto-approve"])
    assert again.exit_code == 1, again.output
    assert "Run it again with: mixops apply --env local --backfill reviews/product_tags" in again.output


def test_the_cli_plans_a_backfill_on_demand(project_dir: Path) -> None:
    write(project_dir, _with_entry())
    runner = CliRunner()
    applied = runner.invoke(cli, ["-C", str(project_dir), "apply", "--auto-approve", "--no-tests"])
    assert applied.exit_code == 0, applied.output
    out = runner.invoke(
        cli, ["-C", str(project_dir), "plan", "--no-tests", "--backfill", "reviews/product_tags", "--format", "json"]
    )
    assert out.exit_code == 0, out.output
    [step] = [s for s in json.loads(out.output)["steps"] if s["action"] != "noop"]
    assert (step["kind"], step["name"], step["documents"]) == ("backfill", ENTRY, 0)


def test_a_saved_plan_with_a_backfill_applies_after_documents_were_ingested(project_dir: Path) -> None:
    docs = asyncio.run(_reviews_with_documents(project_dir))
    write(project_dir, _with_entry(backfill=True))
    saved = project_dir / "plan.json"
    runner = CliRunner()
    out = runner.invoke(cli, ["-C", str(project_dir), "plan", "--no-tests", "--out", str(saved)])
    assert out.exit_code == 0, out.output
    docs.append(asyncio.run(add_document(project_dir, "reviews", title="merino running shirt")))  # live traffic
    applied = runner.invoke(cli, ["-C", str(project_dir), "apply", str(saved), "--auto-approve", "--no-tests"])
    assert applied.exit_code == 0, applied.output
    assert all(asyncio.run(_tags(project_dir, docs)))  # the document ingested after the plan is enriched too


def _mixops(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env={"NO_COLOR": "1"})


def test_a_saved_plan_asked_with_backfill_says_to_ask_again_when_applying(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(project_dir, _with_entry())
    monkeypatch.chdir(project_dir.parent)  # the project is `-C catalog` from here
    assert _mixops("-C", "catalog", "apply", "--auto-approve", "--no-tests").exit_code == 0
    planned = _mixops("-C", "catalog", "plan", "--no-tests", "--backfill", "reviews/product_tags", "--out", "plan.json")
    assert planned.exit_code == 0, planned.output
    command = "mixops -C catalog apply plan.json --env local --backfill reviews/product_tags"
    assert f"Saved the plan to plan.json; apply it with: {command}" in planned.output

    refused = _mixops("-C", "catalog", "apply", "plan.json", "--auto-approve", "--no-tests")
    assert refused.exit_code == 1
    assert "edited" not in refused.output  # nothing accuses the user of editing the file
    assert "planned with other --backfill flags than this apply was given" in refused.output
    assert (
        f"backfill {ENTRY!r}: the file has this step (--backfill reviews/product_tags when planning), "
        "this apply does not ask for it"
    ) in refused.output
    assert f"give the --backfill flags it was planned with (and only those) when applying it: {command}" in (
        refused.output
    )
    applied = _mixops(*command.split()[1:], "--auto-approve", "--no-tests")
    assert applied.exit_code == 0, applied.output
    assert "Apply complete: 1 done" in applied.output


def test_a_saved_plan_applied_with_a_backfill_it_was_not_planned_with_is_refused_without_accusing(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(project_dir, _with_entry())
    monkeypatch.chdir(project_dir.parent)
    assert _mixops("-C", "catalog", "apply", "--auto-approve", "--no-tests").exit_code == 0
    assert _mixops("-C", "catalog", "plan", "--no-tests", "--out", "plan.json").exit_code == 0
    asked = ["--backfill", "reviews/product_tags", "--auto-approve", "--no-tests"]
    refused = _mixops("-C", "catalog", "apply", "plan.json", *asked)
    assert refused.exit_code == 1  # a backfill is never added to a saved plan silently
    assert "edited" not in refused.output
    assert (
        f"backfill {ENTRY!r}: this apply asks for it (--backfill reviews/product_tags), the file has no such step"
    ) in refused.output
    assert (
        "when applying it: mixops -C catalog apply plan.json --env local; or, to apply with the flags given now, "
        in (refused.output)
    )
    replan = "plan again with them: mixops -C catalog plan --env local --backfill reviews/product_tags --out plan.json"
    assert replan in refused.output
    assert _mixops("-C", "catalog", "apply", "plan.json", "--auto-approve", "--no-tests").exit_code == 0


# Not a colour sequence: click drops those itself when output is not a terminal (as in these tests),
# but sends this one (a terminal title change) through as it is.
@pytest.mark.parametrize("name", ["reviews/taxonomy/product_tags\x1b]0;pwned\x07", "no-slashes\x07"])
def test_a_backfill_step_name_from_a_plan_file_reaches_the_terminal_escaped(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    write(project_dir, _with_entry())
    monkeypatch.chdir(project_dir.parent)
    assert _mixops("-C", "catalog", "apply", "--auto-approve", "--no-tests").exit_code == 0
    args = ["-C", "catalog", "plan", "--no-tests", "--backfill", "reviews/product_tags", "--out", "plan.json"]
    assert _mixops(*args).exit_code == 0
    saved = project_dir.parent / "plan.json"
    data = json.loads(saved.read_text(encoding="utf-8"))
    [step] = [s for s in data["steps"] if s["kind"] == "backfill"]
    step["name"] = name  # the file edited by hand (or by a tool) to hold a control character
    step["depends_on"] = []
    saved.write_text(json.dumps(data), encoding="utf-8")
    refused = _mixops("-C", "catalog", "apply", "plan.json", "--auto-approve", "--no-tests")
    assert refused.exit_code == 1, refused.output
    assert "internal error" not in refused.output
    assert "\x1b" not in refused.output and "\x07" not in refused.output
    assert f"backfill {name!r}: the file has this step" in refused.output
