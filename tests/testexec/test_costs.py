"""Credits are read only from fields the API documents (issue 12: no undocumented reads).

A retriever execute documents `budget.credits_used` and `stage_statistics.credits_used`
(ExecuteRetrieverResponse; seed 002). A response with neither, or only an undocumented
top-level `credits_used`, has no known cost: `max_credits` is then a skipped check with
the reason, never a silent pass at 0 credits. Taxonomy executes and clustering document
no cost at all: under a run's `test_budget.max_credits` they carry that skipped check.
"""

from __future__ import annotations

from typing import Any

from mixops.core.expectations import evaluate_retriever, observe_retriever, response_credits
from mixops.core.models.tests import RetrieverExpect
from mixops.core.outcomes import Status


def _response(**extra: Any) -> dict[str, Any]:
    docs = [{"document_id": "doc_1", "score": 0.9}]
    return {"execution_id": "exec_1", "status": "completed", "documents": docs, **extra}


def test_only_documented_cost_fields_are_read() -> None:
    assert response_credits(_response(budget={"credits_used": 0.5})) == 0.5
    assert response_credits(_response(stage_statistics={"credits_used": 0.25, "stages": {}})) == 0.25
    assert response_credits(_response(credits_used=3)) is None  # not a field of the response model
    assert response_credits(_response()) is None


def test_max_credits_without_a_cost_field_is_a_skipped_check() -> None:
    expect = RetrieverExpect.model_validate({"min_results": 1, "max_credits": 1})
    for resp in (_response(), _response(credits_used=9)):
        outcome = evaluate_retriever(expect, observe_retriever(expect, resp), "exec_1")
        assert outcome.status is Status.PASSED and not outcome.failures
        [skipped] = outcome.skipped_checks
        assert skipped.check == "max_credits" and "budget.credits_used" in skipped.reason


def test_max_credits_with_a_cost_field_is_checked() -> None:
    expect = RetrieverExpect.model_validate({"max_credits": 1})
    resp = _response(budget={"credits_used": 2.0})
    outcome = evaluate_retriever(expect, observe_retriever(expect, resp), "exec_1")
    assert outcome.status is Status.FAILED and not outcome.skipped_checks
    assert "at most 1 credits, observed 2" in outcome.failures[0]
