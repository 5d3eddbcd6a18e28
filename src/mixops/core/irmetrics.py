"""Information-retrieval metrics for one ranked list against graded judgments (pure).

`ranked` is the result list (document ids, best first); `judgments` maps a
document id to a grade (0 = not relevant, higher = more relevant). Documents
without a judgment count as not relevant (the usual TREC convention).

Definitions (as in trec_eval and scikit-learn):

* recall@k    = relevant documents in the top k / all relevant documents
* precision@k = relevant documents in the top k / k
* reciprocal rank (MRR of one query) = 1 / rank of the first relevant document
  within the top k, 0 when there is none
* nDCG@k = DCG@k / IDCG@k with DCG@k = sum_i gain(grade_i) / log2(i + 1), i = 1..k,
  linear gains by default (Jarvelin & Kekalainen 2002; scikit-learn's ndcg_score),
  exponential gains 2^grade - 1 optionally (Burges et al. 2005). The ideal
  ranking is built from EVERY judged document, retrieved or not.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Literal

Gain = Literal["linear", "exponential"]


def _relevant(judgments: Mapping[str, int]) -> set[str]:
    return {doc for doc, grade in judgments.items() if grade > 0}


def _top(ranked: Sequence[str], k: int) -> Sequence[str]:
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    return ranked[:k]


def recall_at_k(ranked: Sequence[str], judgments: Mapping[str, int], k: int) -> float:
    relevant = _relevant(judgments)
    if not relevant:
        return 0.0
    return len(relevant.intersection(_top(ranked, k))) / len(relevant)


def precision_at_k(ranked: Sequence[str], judgments: Mapping[str, int], k: int) -> float:
    relevant = _relevant(judgments)
    return sum(1 for doc in _top(ranked, k) if doc in relevant) / k


def reciprocal_rank(ranked: Sequence[str], judgments: Mapping[str, int], k: int | None = None) -> float:
    relevant = _relevant(judgments)
    for i, doc in enumerate(ranked if k is None else _top(ranked, k), start=1):
        if doc in relevant:
            return 1.0 / i
    return 0.0


def _gain(grade: int, gain: Gain) -> float:
    return float(2**grade - 1) if gain == "exponential" else float(grade)


def dcg_at_k(grades: Sequence[int], k: int, gain: Gain = "linear") -> float:
    return sum(_gain(g, gain) / math.log2(i + 1) for i, g in enumerate(grades[:k], start=1))


def ndcg_at_k(ranked: Sequence[str], judgments: Mapping[str, int], k: int, gain: Gain = "linear") -> float:
    top = _top(ranked, k)
    actual = dcg_at_k([max(judgments.get(doc, 0), 0) for doc in top], k, gain)
    ideal = dcg_at_k(sorted((g for g in judgments.values() if g > 0), reverse=True), k, gain)
    return actual / ideal if ideal > 0 else 0.0


def all_metrics(ranked: Sequence[str], judgments: Mapping[str, int], k: int) -> dict[str, float]:
    """The four metrics a relevance expectation can set thresholds on, rounded for display."""
    return {
        "ndcg": round(ndcg_at_k(ranked, judgments, k), 4),
        "recall": round(recall_at_k(ranked, judgments, k), 4),
        "precision": round(precision_at_k(ranked, judgments, k), 4),
        "mrr": round(reciprocal_rank(ranked, judgments, k), 4),
    }


__all__ = [
    "all_metrics",
    "dcg_at_k",
    "ndcg_at_k",
    "precision_at_k",
    "recall_at_k",
    "reciprocal_rank",
]
