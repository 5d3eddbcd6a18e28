"""The text plan reads like terraform's: markers, changed fields only, one summary line."""

from __future__ import annotations

import re

from tests.render.golden import check_golden
from tests.render.plans import full_plan, header, noop_plan

from mixops.core.plan import Plan, Step
from mixops.render import render

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_golden_full_and_noop() -> None:
    check_golden("full.txt", render(full_plan(), "text"))
    check_golden("noop.txt", render(noop_plan(), "text"))


def test_headline_per_action_and_hidden_unchanged() -> None:
    out = render(full_plan(), "text")
    for line in (
        '  + retriever "product_search" will be created',
        '  ~ retriever "tag_matcher" will be updated in place',
        '  ~ taxonomy "product_tags" will get a new version',
        '-/+ cluster "product_groups" must be replaced (vector_config.clustering_method forces replacement)',
        '  - cluster "old_groups" will be deleted',
        "  * backfill products with product_tags: 358 documents",
    ):
        assert line in out.splitlines(), line
    assert "unchanged_tags" not in out and "steady_groups" not in out
    assert out.rstrip().splitlines()[-2] == (
        "Plan: 1 to create, 2 to update, 1 new version, 1 to replace, 1 to delete, 1 backfill (2 unchanged)."
    )


def test_header_names_where_the_plan_applies() -> None:
    head = render(full_plan(), "text").split("\n\n")[0]
    for value in ("catalog", "staging", "catalog-staging", "https://api.mixpeek.com"):
        assert value in head


def test_field_lines_with_surface_only_when_not_the_default() -> None:
    lines = render(full_plan(), "text").splitlines()
    assert "      ~ stages[0].config.parameters.final_top_k: 20 -> 25 (params.search_top_k)" in lines
    assert '      + description: "Matches tags"' in lines  # added: old side unset
    assert '      - tags: ["old"]' in lines  # removed: new side unset
    assert '      ~ vector_config.clustering_method: "kmeans" -> "hdbscan"  # forces replacement' in lines
    assert '      ~ description: "old" -> "new"  # in place' in lines  # in a new-version step
    # A value from parameters names them (issue 13 item 8), before the surface note.
    assert '      ~ metadata.team: "search" -> "search-eu" (params.region, params.team)  # in place' in lines
    assert '      ~ config.input_mappings[0].path: "title" -> "name"' in lines


def test_long_values_are_compact_json_cut_at_120() -> None:
    line = next(x for x in render(full_plan(), "text").splitlines() if "algorithm_params" in x)
    old = line.split(": ", 1)[1].split(" -> ")[0]
    assert old.startswith('{"init": "k-means++') and old.endswith("...") and len(old) == 120


def test_create_shows_the_desired_spec_flat_and_masked() -> None:
    lines = render(full_plan(), "text").splitlines()
    assert "      + stages[0].config.parameters.final_top_k: 25 (params.search_top_k)" in lines
    assert '      + stages[0].config.parameters.searches[0].query.value: "{{INPUT.query}}"' in lines
    # A list shown whole names the parameters inside it.
    assert '      + collection_identifiers: ["products"] (params.shop)' in lines
    assert '      + metadata.api_key: "***"' in lines


def test_create_spec_is_capped() -> None:
    spec = {f"field_{i:03d}": i for i in range(100)}
    out = render(
        Plan(steps=(Step(kind="retriever", name="wide", action="create", desired=spec),), fingerprints={}, **header()),
        "text",
    )
    assert sum(1 for line in out.splitlines() if line.startswith("      + field_")) == 40
    assert "        ... 60 more" in out.splitlines()


def test_adoption_and_warnings_are_said() -> None:
    out = render(full_plan(), "text")
    assert "# adopted: it exists but this stack did not own it (--adopt)" in out
    assert "Warnings:\n  ! retriever 'orphan' is owned by this stack" in out


def test_no_changes() -> None:
    out = render(noop_plan(), "text")
    assert out.rstrip().endswith("No changes. Live state matches the manifests.")
    assert "product_search" not in out


def test_tests_and_behavioural_diff() -> None:
    lines = render(full_plan(), "text").splitlines()
    for line in (
        "  failed  running shoes come first  [retriever/product_search; live: passed]",
        "      x expected a document with category=running in the top 3; none",
        "      x execution: exec_42",
        "        top 3, live -> desired: overlap@3 0.667, RBO 0.512",
        "      + entered the top 3: doc_9",
        "      - left the top 3: doc_1",
        "      ~ moved: doc_2 3 -> 2",
        "      ~ ndcg@10: 0.910 -> 0.640 (-0.270)",
        '      ~ document 0 labels: ["footwear"] -> ["footwear", "sale"]',
        '      ~ document 0 category: "shoes" -> "footwear"',
        "      ~ clusters: 5 -> 4 (-1)",
        "        adjusted Rand index, live vs desired: 0.820 over 40 documents",
        "        results unchanged",
        "  passed  new retriever answers  [retriever/brand_new; live: not live]",
        "  skipped stays within budget  [retriever/product_search; live: not live]",
        "      ! skipped: the run's test_budget (50 credits) would be exceeded",
        "  passed  groups stay well separated | strict  [cluster/product_groups; live: passed]",
        "      ! skipped check same_cluster: the API returned no cluster membership",
        "  error   the matcher answers  [retriever/tag_matcher; live: not live]",
        "      x error: HTTP 503 service_unavailable: try again later",
        "      x execution: exec_7",
    ):
        assert line in lines, line
    assert not any("Davies-Bouldin" in line for line in lines)  # measured on neither side
    assert lines[-1] == "Tests: 4 passed, 1 failed, 1 skipped, 1 error against the desired config."


def test_skipped_is_a_warning_not_a_failure_and_scores_head_the_ranking_block() -> None:
    # Issue 13 item 7: a skipped test was marked `x` like a failure, and the scores of the
    # whole top k came right after `- left the top 3: ...`, as if they described that document.
    lines = render(full_plan(), "text").splitlines()
    skipped = lines.index("  skipped stays within budget  [retriever/product_search; live: not live]")
    assert lines[skipped + 1].startswith("      ! skipped: ")
    assert not any(line.startswith("      x skipped") for line in lines)
    left = lines.index("      - left the top 3: doc_1")
    scores = next(i for i, line in enumerate(lines) if "overlap@3" in line)
    assert scores < lines.index("      + entered the top 3: doc_9") < left
    assert lines[scores] == "        top 3, live -> desired: overlap@3 0.667, RBO 0.512"
    # A metric equal on both sides is no change: not shown as one (it stays in the JSON).
    assert not any("results: 10 -> 10" in line for line in lines)


def test_colour_only_when_asked() -> None:
    for plan in (full_plan(), noop_plan()):
        assert not ANSI.search(render(plan, "text"))
        assert not ANSI.search(render(plan, "markdown")) and not ANSI.search(render(plan, "json"))
    coloured = render(full_plan(), "text", color=True)
    assert "\x1b[32m  +\x1b[0m retriever" in coloured  # green create
    assert "\x1b[33m  ~\x1b[0m taxonomy" in coloured  # yellow update / version
    assert "\x1b[35m-/+\x1b[0m cluster" in coloured  # magenta replace
    assert "\x1b[31m  -\x1b[0m cluster" in coloured  # red delete
    assert ANSI.sub("", coloured) == render(full_plan(), "text")
