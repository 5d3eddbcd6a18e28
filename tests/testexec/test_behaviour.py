"""The behavioural diff: rank movement, RBO, label changes, ARI (checked against scikit-learn)."""

from __future__ import annotations

import random

import pytest
from sklearn.metrics import adjusted_rand_score

from mixops.core.behaviour import (
    adjusted_rand_index,
    cluster_diff,
    label_changes,
    overlap_at_k,
    ranking_diff,
    rbo,
    retriever_diff,
)


def test_rbo_identical_disjoint_and_by_hand() -> None:
    assert rbo(["a", "b", "c"], ["a", "b", "c"]) == pytest.approx(1.0)
    assert rbo(["a", "b"], ["c", "d"]) == 0.0
    # X1 = 1, X2 = 1, X3 = 3: (0.1/0.9) * (0.9 + 0.5 * 0.81 + 0.729) + 0.729
    assert rbo(["a", "b", "c"], ["a", "c", "b"]) == pytest.approx(0.1 / 0.9 * (0.9 + 0.405 + 0.729) + 0.729)
    # Extrapolation: a list that is a prefix of the other is taken to keep agreeing.
    assert rbo(["a", "b"], ["a", "b", "c"]) == pytest.approx(1.0)
    assert rbo([], []) == 1.0 and rbo(["a"], []) == 0.0


def test_rbo_weighs_the_top_more_than_the_tail() -> None:
    base = list("abcdefghij")
    swapped_top = ["b", "a", *base[2:]]
    swapped_tail = [*base[:8], "j", "i"]
    assert rbo(base, swapped_tail) > rbo(base, swapped_top)
    assert rbo(base, swapped_top) == pytest.approx(rbo(swapped_top, base))


def test_ranking_diff_names_entered_left_and_moved() -> None:
    diff = ranking_diff(["a", "b", "c", "d"], ["b", "a", "e", "c"], k=3)
    assert diff["entered"] == ["e"]
    assert diff["left"] == ["c"]
    assert diff["moved"] == [["b", 2, 1], ["a", 1, 2]]
    assert diff["overlap_at_k"] == pytest.approx(2 / 3, abs=1e-4)
    assert overlap_at_k(["a"], ["a"], 10) == 1.0


def test_retriever_diff_unchanged_only_when_nothing_moves() -> None:
    side = {"ids": ["a", "b"], "count": 2, "metrics": {"ndcg": 0.5}}
    assert retriever_diff(side, dict(side), 10)["unchanged"] is True
    worse = {"ids": ["b", "a"], "count": 2, "metrics": {"ndcg": 0.4}}
    diff = retriever_diff(side, worse, 10)
    assert diff["unchanged"] is False
    assert diff["metric_deltas"]["ndcg"] == [0.5, 0.4]


def test_label_changes_per_document() -> None:
    assert label_changes([["x"], ["y"]], [["x"], ["z"]]) == [[1, ["y"], ["z"]]]
    assert label_changes([["x"]], [["x"], ["new"]]) == [[1, [], ["new"]]]


def test_ari_known_values() -> None:
    assert adjusted_rand_index([0, 0, 1, 1], [1, 1, 0, 0]) == 1.0  # same partition, other names
    # scikit-learn's documented example: 0.57...
    assert adjusted_rand_index([0, 0, 1, 2], [0, 0, 1, 1]) == pytest.approx(0.5714, abs=1e-4)
    assert adjusted_rand_index([0, 0, 0, 0], [0, 1, 2, 3]) == pytest.approx(0.0)


@pytest.mark.parametrize("seed", range(10))
def test_ari_agrees_with_scikit_learn(seed: int) -> None:
    rng = random.Random(seed)
    n = rng.randint(2, 60)
    a = [rng.randint(0, 4) for _ in range(n)]
    b = [rng.randint(0, 3) for _ in range(n)]
    assert adjusted_rand_index(a, b) == pytest.approx(adjusted_rand_score(a, b))


def test_cluster_diff_compares_common_documents() -> None:
    live = {"num_clusters": 2, "silhouette": 0.3, "davies_bouldin": 1.0, "members": {"a": "x", "b": "x", "c": "y"}}
    desired = {"num_clusters": 3, "silhouette": 0.2, "davies_bouldin": 1.4,
               "members": {"a": "1", "b": "2", "c": "3", "d": "3"}}  # fmt: skip
    diff = cluster_diff(live, desired)
    assert diff["cluster"]["num_clusters"] == [2, 3]
    assert diff["cluster"]["silhouette"] == [0.3, 0.2]
    assert diff["cluster"]["documents_compared"] == 3
    assert diff["cluster"]["ari"] == pytest.approx(0.0)
    assert diff["unchanged"] is False
    assert cluster_diff(live, dict(live))["unchanged"] is True
