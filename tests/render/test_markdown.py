"""The Markdown plan: a PR comment that is found again, readable first, and always fits."""

from __future__ import annotations

import pytest
from tests.render.golden import check_golden
from tests.render.markdown_check import structure_problems
from tests.render.plans import TESTS, big_plan, full_plan, header, noop_plan

from mixops.core.outcomes import Execution, TestOutcome
from mixops.core.plan import FieldChange, Plan, Step
from mixops.render import render
from mixops.render.render_markdown import size

NOTE = "Plan truncated: {} resources not shown; the full plan is in the job's artifacts"


def test_golden_full_and_noop() -> None:
    check_golden("full.md", render(full_plan(), "markdown"))
    check_golden("noop.md", render(noop_plan(), "markdown"))


def test_marker_first_then_summary_then_details_then_tests() -> None:
    md = render(full_plan(), "markdown")
    assert md.splitlines()[0] == "<!-- mixops-plan: stack=catalog env=staging -->"
    verdict = md.index(
        "**Plan: 1 to create, 2 to update, 1 new version, 1 to replace, 1 to delete, 1 backfill (2 unchanged).**"
    )
    table = md.index("| create | update | new version | replace | delete | backfill | unchanged |")
    assert verdict < table < md.index("<details>") < md.index("### Tests")
    assert "| 1 | 2 | 1 | 1 | 1 | 1 | 2 |" in md
    assert md.count("<details><summary><code>") == 7  # one per changed resource and backfill, none for unchanged
    assert "unchanged_tags" not in md
    assert not structure_problems(md)


def test_field_changes_are_diff_lines_github_colours() -> None:
    md = render(full_plan(), "markdown")
    assert (
        "- stages[0].config.parameters.final_top_k: 20\n+ stages[0].config.parameters.final_top_k: 25 (params.search_top_k)\n"
        in md
    )
    assert '+ vector_config.clustering_method: "hdbscan"  # forces replacement' in md
    block = md.split("must be replaced (vector_config.clustering_method forces replacement)</summary>")[1]
    assert block.startswith("\n\n```diff\n")
    fenced = [line for chunk in md.split("```diff\n")[1:] for line in chunk.split("\n```")[0].splitlines()]
    assert all(line[:1] in "+-!# " for line in fenced), fenced


def test_tests_table_and_behavioural_diff() -> None:
    md = render(full_plan(), "markdown")
    assert "| ❌ | running shoes come first | <code>retriever/product_search</code> | failed | passed |" in md
    assert "| ✅ | groups stay well separated \\| strict |" in md  # a pipe cannot break the table
    assert "| ✅ | new retriever answers | <code>retriever/brand_new</code> | passed | not live |" in md
    assert "❌ running shoes come first: behavioural diff, live → desired</summary>" in md
    assert (
        "  top 3, live -> desired: overlap@3 0.667, RBO 0.512\n"
        "+ entered the top 3: doc_9\n- left the top 3: doc_1\n! moved: doc_2 3 -> 2\n! ndcg@10"
    ) in md
    # The text plan's marks: `x` a failure or an error, `!` what was skipped.
    assert "Against the desired config:\n\n```text\nx expected a document" in md
    assert "```text\n! skipped: the run's test_budget (50 credits) would be exceeded\n```" in md
    assert "| ⏭️ | stays within budget | <code>retriever/product_search</code> | skipped | not live |" in md
    assert "| ⛔ | the matcher answers | <code>retriever/tag_matcher</code> | error | not live |" in md
    assert "error: HTTP 503 service_unavailable: try again later" in md
    assert "! skipped check same_cluster: the API returned no cluster membership" in md
    assert md.splitlines()[1].startswith("## ") and "❌ **Plan:" in md  # a failing test turns the verdict red


def test_no_changes_verdict() -> None:
    md = render(noop_plan(), "markdown")
    assert "✅ **No changes. Live state matches the manifests.**" in md
    assert "<details>" not in md and "### Changes" not in md
    assert md.splitlines()[0] == "<!-- mixops-plan: stack=catalog env=prod -->"


def test_values_with_backticks_or_html_cannot_break_the_comment() -> None:
    nasty = "```\n</details> <b>"
    step = Step(
        kind="retriever",
        name="r<x>",
        action="update",
        live_id="ret_1",
        changes=(FieldChange(path="description", old="plain", new=nasty, surface="in_place"),),
    )
    tests = (TestOutcome.ran("</summary>", "retriever", "r", "plan", Execution.verdict([nasty], {})),)
    md = render(Plan(steps=(step,), fingerprints={}, tests=tests, **header()), "markdown")
    assert not structure_problems(md), md
    assert "&lt;/summary&gt;" in md and 'retriever "r&lt;x&gt;"' in md


def test_two_thousand_resources_stay_under_the_limit_and_well_formed() -> None:
    md = render(big_plan(2000), "markdown")
    assert len(md) <= 60_000
    assert not structure_problems(md)
    shown = md.count("<details><summary><code>+</code>")
    assert 0 < shown < 2000
    assert NOTE.format(2000 - shown) in md
    assert "(`mixops plan --format markdown --out-markdown FILE`)" in md
    assert "| 2000 | 0 | 0 | 0 | 0 | 0 |" in md  # the summary survives
    assert "| ❌ | running shoes come first |" in md and "behavioural diff" in md  # and the tests
    assert "- ... 40 more in the full plan" in md  # warnings are capped
    assert md.index("Plan truncated") < md.index("<details>")
    kept = [line for line in md.splitlines() if line.startswith("<details><summary><code>+")]
    assert kept[-1].endswith(f'"search_{shown - 1:05d}" will be created</summary>')  # dropped from the end


def test_full_plan_is_never_cut_when_it_fits() -> None:
    md = render(big_plan(5), "markdown")
    assert "Plan truncated" not in md and md.count("<details><summary><code>+</code>") == 5


@pytest.mark.parametrize("max_chars", [2_500, 4_000, 9_000, 30_000])
def test_any_budget_gives_well_formed_markdown_within_it(max_chars: int) -> None:
    plan = big_plan(40)
    plan = Plan(**{**plan.__dict__, "tests": TESTS * 20})
    md = render(plan, "markdown", max_chars=max_chars)
    assert len(md) <= max_chars
    assert not structure_problems(md)
    assert "Plan truncated:" in md and "| 40 | 0 |" in md


def test_the_structure_checker_catches_breakage() -> None:
    assert structure_problems("<details><summary>x</summary>\n\n```diff\n+ a\n```\n")
    assert structure_problems("<details><summary>x</summary>\n\n```diff\n+ a\n</details>\n")
    assert not structure_problems("<details><summary>x</summary>\n\n````diff\n```\n````\n</details>\n")


def test_limit_counts_like_github_utf16_units() -> None:
    """GitHub measures UTF-16 units: emoji in values take two, which the budget must see."""
    spec = {"description": "🚀" * 100, "tags": ["🧭"] * 30}
    steps = tuple(Step(kind="retriever", name=f"r{i}", action="create", desired=spec) for i in range(200))
    md = render(Plan(steps=steps, fingerprints={}, **header()), "markdown", max_chars=20_000)
    assert size(md) <= 20_000 < len(md) * 2
    assert "Plan truncated:" in md and not structure_problems(md)
