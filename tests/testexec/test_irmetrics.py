"""IR metrics against values computed by hand, a textbook example and scikit-learn."""

from __future__ import annotations

import math
import random

import pytest
from sklearn.metrics import ndcg_score

from mixops.core.irmetrics import (
    all_metrics,
    dcg_at_k,
    ndcg_at_k,
    precision_at_k,
    recall_at_k,
    reciprocal_rank,
)


def test_dcg_and_ndcg_match_the_wikipedia_example() -> None:
    # en.wikipedia.org/wiki/Discounted_cumulative_gain: grades 3,2,3,0,1,2 in ranked order,
    # DCG6 = 6.861; with two more judged documents (3, 2) the ideal DCG6 is 8.740, nDCG6 = 0.785.
    assert dcg_at_k([3, 2, 3, 0, 1, 2], 6) == pytest.approx(6.861, abs=1e-3)
    ranked = ["d1", "d2", "d3", "d4", "d5", "d6"]
    judgments = {"d1": 3, "d2": 2, "d3": 3, "d4": 0, "d5": 1, "d6": 2, "d7": 3, "d8": 2}
    assert ndcg_at_k(ranked, judgments, 6) == pytest.approx(0.785, abs=1e-3)


def test_exponential_gain_by_hand() -> None:
    # gains 2^g - 1: [7, 3] at ranks 1, 2 -> 7 + 3/log2(3); ideal [7, 7] -> 7 + 7/log2(3)
    judgments = {"a": 3, "b": 2, "c": 3}
    expected = (7 + 3 / math.log2(3)) / (7 + 7 / math.log2(3))
    assert ndcg_at_k(["a", "b"], judgments, 2, gain="exponential") == pytest.approx(expected)


@pytest.mark.parametrize("seed", range(8))
def test_ndcg_agrees_with_scikit_learn(seed: int) -> None:
    rng = random.Random(seed)
    docs = [f"d{i}" for i in range(15)]
    judgments = {d: rng.choice([0, 0, 1, 2, 3]) for d in docs}
    if not any(judgments.values()):
        judgments["d0"] = 1
    ranked = rng.sample(docs, len(docs))
    scores = [len(docs) - ranked.index(d) for d in docs]  # distinct scores: no tie averaging
    for k in (1, 3, 5, 10):
        expected = ndcg_score([[judgments[d] for d in docs]], [scores], k=k)
        assert ndcg_at_k(ranked, judgments, k) == pytest.approx(expected)


def test_recall_precision_and_reciprocal_rank_by_hand() -> None:
    judgments = {"a": 2, "c": 1, "f": 3, "z": 0}
    ranked = ["a", "b", "c", "d", "e"]
    assert precision_at_k(ranked, judgments, 5) == pytest.approx(2 / 5)
    assert recall_at_k(ranked, judgments, 5) == pytest.approx(2 / 3)
    assert recall_at_k(ranked, judgments, 1) == pytest.approx(1 / 3)
    assert reciprocal_rank(ranked, judgments) == 1.0
    assert reciprocal_rank(["b", "z", "c"], judgments) == pytest.approx(1 / 3)
    assert reciprocal_rank(["b", "z", "c"], judgments, k=2) == 0.0
    # A grade of 0 is a judgment of NOT relevant.
    assert precision_at_k(["z"], judgments, 1) == 0.0


def test_fewer_results_than_k_count_as_misses() -> None:
    judgments = {"a": 1, "b": 1}
    assert precision_at_k(["a"], judgments, 4) == 0.25
    assert all_metrics([], judgments, 3) == {"ndcg": 0.0, "recall": 0.0, "precision": 0.0, "mrr": 0.0}


def test_k_must_be_positive() -> None:
    with pytest.raises(ValueError):
        precision_at_k(["a"], {"a": 1}, 0)
