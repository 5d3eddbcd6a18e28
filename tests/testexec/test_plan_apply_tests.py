"""End to end on a copy of the catalog example: tests in plan, apply and `mixops test`."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import xmlschema
from tests.testexec.conftest import edit, mixops, named, outcomes_by_name, plan_json

SCHEMA = Path(__file__).with_name("junit.xsd")
RUNNING_JUDGED = {"doc_prod0019", "doc_prod0122", "doc_prod0157", "doc_prod0197", "doc_prod0214", "doc_prod0274",
                  "doc_prod0324", "doc_prod0066", "doc_prod0263", "doc_prod0290"}  # fmt: skip


def exclude_running(data: dict[str, Any]) -> None:
    search = named(data["retrievers"], "product_search")["stages"][0]["config"]
    search["pre_filters"]["AND"].append({"field": "category", "operator": "ne", "value": "running"})


def drop_style_search(data: dict[str, Any]) -> None:
    named(data["retrievers"], "hybrid_product_search")["stages"][0]["config"]["parameters"]["searches"].pop(1)


def test_a_filter_that_excludes_the_relevant_products_fails_the_plan(applied: Path) -> None:
    edit(applied, "manifests/retrievers.yaml", exclude_running)
    code, plan = plan_json(applied)
    assert code == 3
    tests = outcomes_by_name(plan)
    # Only tests of the changed retriever ran (the default, --tests changed).
    assert {t["target"] for t in plan["tests"]} == {"retriever/product_search"}
    shoes = tests["running shoes come first"]
    assert shoes["status"] == "failed" and shoes["live"]["status"] == "passed"
    assert any("must match {category: 'running'}" in f for f in shoes["desired"]["failures"])
    diff = shoes["diff"]
    assert set(diff["left"]) & RUNNING_JUDGED, diff["left"]  # the relevant shoes dropped out of the top k
    old, new = diff["metric_deltas"]["ndcg"]
    assert new < old and diff["rbo"] < 0.5
    text = mixops(applied, "plan")
    assert text.exit_code == 3
    assert "running shoes come first" in text.stdout and "left the top 10" in text.stdout


def test_dropping_one_of_two_fused_searches_fails_the_style_test(applied: Path) -> None:
    edit(applied, "manifests/retrievers.yaml", drop_style_search)
    code, plan = plan_json(applied)
    assert code == 3
    merino = outcomes_by_name(plan)["the style search surfaces merino running shirts"]
    assert merino["status"] == "failed" and merino["live"]["status"] == "passed"
    assert merino["diff"]["entered"] and merino["diff"]["left"]
    assert merino["desired"]["execution_id"].startswith("exec_")


def test_a_neutral_change_shows_unchanged_results(applied: Path) -> None:
    # The latency bound measures this machine, not the retriever: without it "passed" means
    # the results, and a loaded test machine cannot fail this test.
    edit(applied, "manifests/tests.yaml", lambda d: [t["expect"].pop("max_latency_ms", None) for t in d["tests"]])
    edit(
        applied,
        "manifests/retrievers.yaml",
        lambda d: named(d["retrievers"], "product_search").update(description="Storefront search, reworded."),
    )
    code, plan = plan_json(applied)
    assert code == 0
    ran = [t for t in plan["tests"] if t["target"] == "retriever/product_search"]
    assert len(ran) == 4
    assert all(t["status"] == "passed" and t["diff"]["unchanged"] for t in ran), [t["diff"] for t in ran]
    assert mixops(applied, "plan", "--detailed-exitcode").exit_code == 2
    assert plan_json(applied, "--no-tests")[1]["tests"] == []


def test_a_taxonomy_change_shows_label_changes_per_sample(applied: Path) -> None:
    edit(
        applied, "manifests/taxonomies.yaml", lambda d: named(d["taxonomies"], "product_tags")["config"].update(top_k=1)
    )
    code, plan = plan_json(applied)
    assert code == 3
    titles = outcomes_by_name(plan)["sample titles get their tags"]
    changes = {doc: (old, new) for doc, old, new in titles["diff"]["label_changes"]}
    assert changes[1] == (["Merino wool", "Hiking"], ["Merino wool"])
    assert any("document 1 expected ['Merino wool', 'Hiking']" in f for f in titles["desired"]["failures"])


def test_a_new_retriever_of_a_taxonomy_runs_inline(applied: Path) -> None:
    # The taxonomy's retriever changes: the desired retriever goes inline (the execute's override).
    def wider(d: dict[str, Any]) -> None:
        named(d["retrievers"], "tag_matcher")["stages"][0]["config"]["parameters"]["final_top_k"] = 1

    edit(applied, "manifests/retrievers.yaml", wider)
    code, plan = plan_json(applied)
    tests = outcomes_by_name(plan)
    assert "sample titles get their tags" in tests  # a dependent of the changed retriever
    assert tests["sample titles get their tags"]["status"] == "failed" and code == 3


def test_a_cluster_parameter_change_shows_metric_deltas(applied: Path) -> None:
    edit(applied, "mixops.yaml", lambda d: d["environments"]["local"]["parameters"].update(num_groups=9))
    code, plan = plan_json(applied)
    groups = outcomes_by_name(plan)["product groups stay coherent"]
    cluster = groups["diff"]["cluster"]
    assert cluster["num_clusters"] == [6, 9]
    assert cluster["silhouette"][0] != cluster["silhouette"][1]
    # Ad-hoc clustering (seed 003) documents no membership: no adjusted Rand index, and the
    # membership checks are skipped, saying why.
    assert cluster["documents_compared"] == 0 and cluster["ari"] is None
    assert {c["check"].split()[0] for c in groups["desired"]["skipped_checks"]} == {"same_cluster", "different_cluster"}
    assert code == (0 if groups["status"] == "passed" else 3)


def test_apply_runs_the_tests_after_applying_and_exits_3(applied: Path) -> None:
    edit(applied, "manifests/retrievers.yaml", drop_style_search)
    result = mixops(applied, "apply", "--auto-approve")
    assert result.exit_code == 3, result.output
    assert "Apply complete" in result.stdout
    assert "FAIL  the style search surfaces merino running shirts" in result.stdout
    # The change is applied: the next plan has nothing to do, and the failing test fails by id too.
    assert mixops(applied, "plan", "--detailed-exitcode", "--no-tests").exit_code == 0
    assert mixops(applied, "test", "-k", "merino").exit_code == 3


def test_mixops_test_passes_on_the_example_and_writes_valid_junit(applied: Path, tmp_path: Path) -> None:
    report = tmp_path / "reports" / "junit.xml"
    result = mixops(applied, "test", "--junit", str(report))
    assert result.exit_code == 0, result.output
    assert "0 failed, 0 skipped" in result.stdout
    xmlschema.XMLSchema(str(SCHEMA)).validate(str(report))
    suite = ET.parse(report).getroot().find("testsuite")
    assert suite is not None and suite.get("tests") == str(len(list(suite.iter("testcase"))))
    only = mixops(applied, "test", "-k", "tag matcher")
    assert only.exit_code == 0 and "2 passed" in only.stdout


def test_the_test_budget_stops_the_run_before_it_is_exceeded(applied: Path) -> None:
    edit(applied, "mixops.yaml", lambda d: d["environments"]["local"].update(test_budget={"max_credits": 0.2}))
    result = mixops(applied, "test", "-k", "product")
    # Skipped tests say why and do not change the exit code; only a failed expectation exits 3.
    assert result.exit_code == 0, result.output
    assert "SKIP" in result.stdout and "stopped before exceeding max_credits" in result.stdout


def test_a_fresh_namespace_skips_every_test_until_apply(fresh: Path) -> None:
    # Every test of the example reads a collection the same plan creates: they wait for apply.
    code, plan = plan_json(fresh)
    assert code == 0 and len(plan["tests"]) == 19
    for test in plan["tests"]:
        assert test["status"] == "skipped" and "which does not exist yet (apply first)" in test["reason"], test
        assert test["live"] is None and test["diff"] is None


def test_a_namespace_with_only_the_collections_skips_what_cannot_run_yet(collections_only: Path) -> None:
    code, plan = plan_json(collections_only)
    # A taxonomy that does not exist yet has no id for the on-demand execute: its tests wait for apply.
    taxonomy_tests = [t for t in plan["tests"] if t["kind"] == "taxonomy"]
    assert len(taxonomy_tests) == 4
    for test in taxonomy_tests:
        assert test["status"] == "skipped" and "does not exist yet" in test["reason"], test
    # Everything else ran against the desired config (nothing exists live) and passed.
    ran = [t for t in plan["tests"] if t["status"] != "skipped"]
    assert len(ran) == len(plan["tests"]) - 4 and all(t["status"] == "passed" for t in ran)
    assert all(t["live"] is None and t["diff"] is None for t in plan["tests"])
    assert code == 0


def test_a_taxonomy_with_several_changed_retrievers_says_which_in_plain_english(applied: Path) -> None:
    # Issue 13 item 7: `department_matcher, category_matcher is new or changes` read wrong.
    def narrower(d: dict[str, Any]) -> None:
        for name in ("department_matcher", "category_matcher"):
            named(d["retrievers"], name)["stages"][0]["config"]["parameters"]["final_top_k"] = 2

    edit(applied, "manifests/retrievers.yaml", narrower)
    _, plan = plan_json(applied)
    reason = outcomes_by_name(plan)["sample titles land in the right department and category"]["reason"]
    assert "it uses retrievers department_matcher and category_matcher; " in reason
    assert "department_matcher and category_matcher are new or changed, and a taxonomy execute" in reason


def test_a_budget_does_not_count_what_no_response_prices(applied: Path) -> None:
    """Taxonomy executes and clustering document no cost field: under test_budget.max_credits
    their tests carry a skipped check saying so (a warning), and still pass."""
    edit(applied, "mixops.yaml", lambda d: d["environments"]["local"].update(test_budget={"max_credits": 1000}))
    result = mixops(applied, "test", "-k", "sample titles get their tags")
    assert result.exit_code == 0, result.output
    assert (
        "skipped check test_budget.max_credits: the taxonomy execute response (JoinResponse) documents no cost field"
        in result.stdout
    )
    retriever = mixops(applied, "test", "-k", "running shoes come first")
    assert retriever.exit_code == 0 and "test_budget.max_credits" not in retriever.stdout
