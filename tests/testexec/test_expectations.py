"""Expectations against observed executions; failures say expected, observed and where to look."""

from __future__ import annotations

from typing import Any

from mixops.core.expectations import (
    evaluate_cluster,
    evaluate_retriever,
    evaluate_taxonomy,
    observe_cluster,
    observe_retriever,
    observe_taxonomy,
)
from mixops.core.models.tests import ClusterExpect, RetrieverExpect, TaxonomyExpect
from mixops.core.outcomes import Status


def response(*docs: tuple[str, float, dict[str, Any]], credits: float = 0.5, ms: float = 40.0) -> dict[str, Any]:
    return {
        "execution_id": "exec_abc",
        "status": "completed",
        "documents": [{"document_id": d, "score": s, "payload": fields} for d, s, fields in docs],
        "budget": {"credits_used": credits, "time_used_ms": ms},
    }


SHOES = response(
    ("doc_1", 0.9, {"category": "running", "tags": ["light", "road"]}),
    ("doc_2", 0.8, {"category": "trail"}),
    ("doc_3", 0.7, {"category": "running"}),
    ("doc_4", 0.6, {"category": "socks"}),
)


def run(expect: dict[str, Any], resp: dict[str, Any] = SHOES) -> tuple[bool, list[str]]:
    model = RetrieverExpect.model_validate(expect)
    outcome = evaluate_retriever(model, observe_retriever(model, resp), resp.get("execution_id"))
    return outcome.passed, list(outcome.failures)


def test_all_match_failure_names_the_document_its_rank_and_field() -> None:
    passed, failures = run({"top_k": {"k": 3, "all_match": {"category": "running"}}})
    assert not passed
    assert "doc_2 at rank 2 with category='trail'" in failures[0]
    assert "(execution exec_abc)" in failures[0]
    # The top results observed, with the field the test looked at.
    assert failures[-1].startswith("observed top results: 1. doc_1 (score 0.9 category='running')")


def test_passing_expectations() -> None:
    passed, failures = run(
        {
            "min_results": 3,
            "max_results": 10,
            "top_k": {"k": 3, "contains": ["doc_1", "doc_3"], "any_match": {"tags": "road"}},
            "absent": {"k": 3, "ids": ["doc_4"], "match": {"category": "socks"}},
            "order": [{"before": "doc_1", "after": "doc_3"}, {"before": "doc_3", "after": "doc_missing"}],
            "min_score": 0.85,
            "max_latency_ms": 100,
            "max_credits": 1,
        }
    )
    assert passed, failures


def test_each_expectation_fails_with_expected_and_observed() -> None:
    passed, failures = run(
        {
            "min_results": 5,
            "top_k": {"k": 2, "contains": ["doc_4", "doc_9"]},
            "absent": {"k": 4, "ids": ["doc_3"], "match": {"category": "socks"}},
            "order": [{"before": "doc_4", "after": "doc_1"}],
            "min_score": 0.95,
            "max_latency_ms": 10,
            "max_credits": 0.1,
        }
    )
    text = "\n".join(failures)
    assert not passed
    for expected in (
        "expected at least 5 results, observed 4",
        "doc_4 must be in the top 2, observed at rank 4",
        "doc_9 must be in the top 2, observed not returned",
        "doc_3 must not be in the top 4, observed at rank 3",
        "observed doc_4 at rank 4 (category='socks')",
        "doc_4 must rank above doc_1; observed doc_4 at rank 4, doc_1 at rank 1",
        "first result to score at least 0.95, observed 0.9",
        "at most 10 ms, observed 40 ms",
        "at most 0.1 credits, observed 0.5",
    ):
        assert expected in text, expected


def test_relevance_thresholds_use_the_graded_metrics() -> None:
    judgments = {"doc_1": 3, "doc_3": 3, "doc_9": 2}
    ok, _ = run({"relevance": {"judgments": judgments, "k": 3, "min": {"recall": 0.6, "mrr": 1.0}}})
    assert ok
    bad, failures = run({"relevance": {"judgments": judgments, "k": 3, "min": {"precision": 0.9}}})
    assert not bad and "precision@3 expected at least 0.9, observed 0.6667" in failures[0]


def test_failed_execution_is_an_error_not_a_verdict() -> None:
    resp = {"execution_id": "exec_x", "status": "failed", "error": "Budget exceeded", "documents": []}
    model = RetrieverExpect.model_validate({"min_results": 0})
    outcome = evaluate_retriever(model, observe_retriever(model, resp), "exec_x")
    assert outcome.status is Status.ERROR and outcome.reason is not None and "Budget exceeded" in outcome.reason
    assert outcome.execution_id == "exec_x" and not outcome.failures


def test_taxonomy_labels_and_fields_per_sample() -> None:
    expect = TaxonomyExpect.model_validate(
        {"labels": {"0": ["Casual"], "1": ["Hiking"]}, "fields": {"1": {"tag": ["hiking", "merino"]}}, "unlabeled": [2]}
    )
    resp = {
        "stats": {"errors": 0},
        "results": [{"tag": ["casual"]}, {"tag": ["merino", "wool"]}, {}],
        "matches": [
            {"document_id": "sample_0", "label": "Casual", "enriched_fields": ["tag"]},
            {"document_id": "sample_1", "label": "Merino wool", "enriched_fields": ["tag"]},
        ],
    }
    observed = observe_taxonomy(expect, resp, ["sample_0", "sample_1", "sample_2"])
    assert observed["labels"] == [["Casual"], ["Merino wool"], []]
    outcome = evaluate_taxonomy(expect, observed)
    assert not outcome.passed
    assert any("document 1 expected ['Hiking'], observed ['Merino wool']" in f for f in outcome.failures)
    assert any(
        "document 1 expected tag=['hiking', 'merino'], observed ['merino', 'wool']" in f for f in outcome.failures
    )


def _centroid(cid: str, n: int, reps: list[str]) -> dict[str, Any]:
    return {"cluster_id": cid, "num_members": n, "representative_ids": [{"document_id": d} for d in reps]}


def test_cluster_expectations_read_representative_ids_of_a_stored_run() -> None:
    resp = {
        "run_id": "run_1", "num_clusters": 2, "num_points": 5,
        "metrics": {"silhouette_score": 0.4, "davies_bouldin_index": 0.9},
        "centroids": [_centroid("cl_0", 2, ["a", "b"]), _centroid("cl_1", 3, ["c", "d", "e"])],
    }  # fmt: skip
    observed = observe_cluster(resp)
    assert observed["sizes"] == {"cl_0": 2, "cl_1": 3}
    good = ClusterExpect.model_validate(
        {
            "num_clusters": {"min": 2, "max": 3},
            "min_silhouette": 0.3,
            "max_davies_bouldin": 1.0,
            "min_cluster_size": 2,
            "same_cluster": [["c", "d", "e"]],
            "different_cluster": [["a", "c"]],
        }
    )
    assert evaluate_cluster(good, observed).passed
    bad = ClusterExpect.model_validate(
        {
            "num_clusters": {"min": 3},
            "min_cluster_size": 3,
            "same_cluster": [["a", "c"]],
            "different_cluster": [["a", "b"]],
        }
    )
    failures = "\n".join(evaluate_cluster(bad, observed).failures)
    assert "expected between 3 and any, observed 2 (run run_1)" in failures
    assert "{'cl_0': 2}" in failures
    assert "['a', 'c'] must share a cluster, observed {'a': 'cl_0', 'c': 'cl_1'}" in failures
    assert "['a', 'b'] must be in different clusters" in failures


def test_membership_that_is_not_documented_is_skipped_with_the_reason() -> None:
    # Seed 003's ad-hoc response documents no membership: an undocumented `members` is not read.
    adhoc = {"success": True, "algorithm": "kmeans", "num_clusters": 1, "num_documents": 2, "execution_time_ms": 1,
             "centroids": [{"cluster_id": "cluster_001", "num_members": 2}],
             "members": [{"document_id": "a", "cluster_id": "cluster_001"}]}  # fmt: skip
    expect = ClusterExpect.model_validate({"same_cluster": [["a", "b"]], "num_clusters": {"min": 1}})
    outcome = evaluate_cluster(expect, observe_cluster(adhoc, stored=False))
    assert outcome.status is Status.PASSED and not outcome.failures
    [skipped] = outcome.skipped_checks
    assert skipped.check == "same_cluster ['a', 'b']" and "documents no membership field" in skipped.reason
    # A stored run whose representatives miss one document of a pair: that pair is skipped, the rest checked.
    stored = {"run_id": "run_2", "num_clusters": 2, "num_points": 40,
              "centroids": [_centroid("cl_0", 20, ["a", "b"]), _centroid("cl_1", 20, ["c"])]}  # fmt: skip
    expect = ClusterExpect.model_validate({"same_cluster": [["a", "b"], ["a", "z"]], "different_cluster": [["a", "c"]]})
    outcome = evaluate_cluster(expect, observe_cluster(stored))
    assert outcome.passed and [c.check for c in outcome.skipped_checks] == ["same_cluster ['a', 'z']"]
    assert "z not among the run's representative_ids" in outcome.skipped_checks[0].reason
