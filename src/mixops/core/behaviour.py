"""The behavioural diff: how a change moves results, live -> desired (pure).

Retrievers: documents entering and leaving the top k, rank moves, overlap@k,
rank-biased overlap (Webber, Moffat & Zobel 2010, extrapolated, p = 0.9) and
metric deltas. Taxonomies: the labels each sample document gains or loses.
Clusters: count and quality metric deltas, and the adjusted Rand index
(Hubert & Arabie 1985) between the live and desired assignments of the
documents both runs clustered.

Inputs are the `observed` summaries `mixops.core.expectations` builds; output
is the plain-data `diff` entry of a plan test (see `Plan.tests`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

RBO_P = 0.9


def _dedupe(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(items))


def overlap_at_k(a: Sequence[str], b: Sequence[str], k: int) -> float:
    """Share of the top k both lists hold (denominator: k, or the longer list when both are shorter)."""
    top_a, top_b = set(a[:k]), set(b[:k])
    depth = min(k, max(len(top_a), len(top_b)))
    return 1.0 if depth == 0 else len(top_a & top_b) / depth


def rbo(a: Sequence[str], b: Sequence[str], p: float = RBO_P) -> float:
    """Extrapolated rank-biased overlap of two rankings (Webber et al. 2010, eq. 32).

    1.0 for identical rankings, 0.0 for disjoint ones; lists may differ in
    length (the shorter one is treated as complete, not truncated).
    """
    if not 0 < p < 1:
        raise ValueError("p must be in (0, 1)")
    a, b = _dedupe(a), _dedupe(b)
    if not a and not b:
        return 1.0
    if not a or not b:
        return 0.0
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    s, length = len(short), len(long_)
    seen_s: set[str] = set()
    seen_l: set[str] = set()
    overlap = 0
    x: list[int] = [0]  # x[d] = overlap at depth d
    for d in range(1, length + 1):
        item_l = long_[d - 1]
        if d <= s:
            item_s = short[d - 1]
            if item_s == item_l:
                overlap += 1
            else:
                overlap += (item_s in seen_l) + (item_l in seen_s)
            seen_s.add(item_s)
        elif item_l in seen_s:
            overlap += 1
        seen_l.add(item_l)
        x.append(overlap)
    x_s, x_l = x[s], x[length]
    total = sum(x[d] / d * p**d for d in range(1, length + 1))
    total += sum(x_s * (d - s) / (s * d) * p**d for d in range(s + 1, length + 1))
    return (1 - p) / p * total + ((x_l - x_s) / length + x_s / s) * p**length


def ranking_diff(live: Sequence[str], desired: Sequence[str], k: int) -> dict[str, Any]:
    """Top-k movement between two rankings of document ids (ranks are 1-based)."""
    old, new = _dedupe(live)[:k], _dedupe(desired)[:k]
    old_rank = {doc: i for i, doc in enumerate(old, start=1)}
    new_rank = {doc: i for i, doc in enumerate(new, start=1)}
    moved = [[doc, old_rank[doc], new_rank[doc]] for doc in new if doc in old_rank and old_rank[doc] != new_rank[doc]]
    return {
        "k": k,
        "entered": [doc for doc in new if doc not in old_rank],
        "left": [doc for doc in old if doc not in new_rank],
        "moved": moved,
        "overlap_at_k": round(overlap_at_k(old, new, k), 4),
        "rbo": round(rbo(old, new), 4),
    }


def metric_deltas(live: Mapping[str, Any], desired: Mapping[str, Any]) -> dict[str, list[Any]]:
    """[old, new] for each metric either side measured."""
    return {name: [live.get(name), desired.get(name)] for name in sorted(set(live) | set(desired))}


def retriever_diff(live: Mapping[str, Any], desired: Mapping[str, Any], k: int) -> dict[str, Any]:
    out = ranking_diff(live.get("ids") or [], desired.get("ids") or [], k)
    out["metric_deltas"] = metric_deltas(live.get("metrics") or {}, desired.get("metrics") or {})
    out["metric_deltas"]["results"] = [live.get("count"), desired.get("count")]
    same_metrics = all(old == new for old, new in out["metric_deltas"].values())
    out["unchanged"] = not out["entered"] and not out["left"] and not out["moved"] and same_metrics
    return out


def label_changes(live: Sequence[Sequence[str]], desired: Sequence[Sequence[str]]) -> list[list[Any]]:
    """[[doc_index, old labels, new labels]] for every sample document whose labels differ."""
    out: list[list[Any]] = []
    for i in range(max(len(live), len(desired))):
        old = list(live[i]) if i < len(live) else []
        new = list(desired[i]) if i < len(desired) else []
        if old != new:
            out.append([i, old, new])
    return out


def taxonomy_diff(live: Mapping[str, Any], desired: Mapping[str, Any]) -> dict[str, Any]:
    changes = label_changes(live.get("labels") or [], desired.get("labels") or [])
    field_changes = []
    old_docs, new_docs = live.get("fields") or [], desired.get("fields") or []
    for i in range(max(len(old_docs), len(new_docs))):
        old = old_docs[i] if i < len(old_docs) else {}
        new = new_docs[i] if i < len(new_docs) else {}
        for name in sorted(set(old) | set(new)):
            if old.get(name) != new.get(name):
                field_changes.append([i, name, old.get(name), new.get(name)])
    return {"label_changes": changes, "field_changes": field_changes, "unchanged": not changes and not field_changes}


def _pairs(n: int) -> float:
    return n * (n - 1) / 2


def adjusted_rand_index(a: Sequence[Any], b: Sequence[Any]) -> float:
    """Adjusted Rand index of two labelings of the same items (1.0: the same partition).

    Both partitions trivial (everything in one cluster, or every item alone) gives 1.0
    when they agree, as scikit-learn does.
    """
    if len(a) != len(b):
        raise ValueError(f"labelings differ in length ({len(a)} and {len(b)})")
    n = len(a)
    if n == 0:
        return 1.0
    index = sum(_pairs(c) for c in Counter(zip(a, b, strict=True)).values())
    rows = sum(_pairs(c) for c in Counter(a).values())
    cols = sum(_pairs(c) for c in Counter(b).values())
    expected = rows * cols / _pairs(n) if n > 1 else 0.0
    maximum = (rows + cols) / 2
    if maximum == expected:
        return 1.0
    return (index - expected) / (maximum - expected)


def cluster_diff(live: Mapping[str, Any], desired: Mapping[str, Any]) -> dict[str, Any]:
    old_members: Mapping[str, Any] = live.get("members") or {}
    new_members: Mapping[str, Any] = desired.get("members") or {}
    common = sorted(set(old_members) & set(new_members))
    ari = (
        round(adjusted_rand_index([old_members[d] for d in common], [new_members[d] for d in common]), 4)
        if common
        else None
    )
    cluster = {
        "num_clusters": [live.get("num_clusters"), desired.get("num_clusters")],
        "silhouette": [live.get("silhouette"), desired.get("silhouette")],
        "davies_bouldin": [live.get("davies_bouldin"), desired.get("davies_bouldin")],
        "ari": ari,
        "documents_compared": len(common),
    }
    same = all(pair[0] == pair[1] for key, pair in cluster.items() if isinstance(pair, list))
    return {"cluster": cluster, "unchanged": same and ari in (None, 1.0)}


__all__ = [
    "RBO_P",
    "adjusted_rand_index",
    "cluster_diff",
    "label_changes",
    "metric_deltas",
    "overlap_at_k",
    "ranking_diff",
    "rbo",
    "retriever_diff",
    "taxonomy_diff",
]
