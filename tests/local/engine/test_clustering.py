from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from mixops.local.engine import BadRequest, cluster_attributes, cluster_vectors, load_vectors
from mixops.local.engine.memory_store import InMemoryStore
from mixops.local.engine.store import VectorIndex


def blobs(n_per: int = 60, k: int = 4, dims: int = 32) -> tuple[list[str], np.ndarray, list[int]]:
    rng = np.random.default_rng(7)
    centers = rng.normal(size=(k, dims)) * 5
    truth = [c for c in range(k) for _ in range(n_per)]
    x = np.array([centers[c] + rng.normal(scale=0.3, size=dims) for c in truth], dtype=np.float32)
    return [f"doc_{i}" for i in range(len(truth))], x, truth


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("kmeans", {"n_clusters": 4}),
        ("agglomerative", {"n_clusters": 4}),
        ("gaussian_mixture", {"n_components": 4}),
        ("spectral", {"n_clusters": 4}),
        ("hdbscan", {"min_cluster_size": 10}),
        ("dbscan", {"eps": 0.5, "min_samples": 5}),
        ("optics", {"min_samples": 10}),
        ("mean_shift", {"bandwidth": 0.6}),
    ],
)
def test_methods_separate_well_separated_blobs(method: str, params: dict[str, object]) -> None:
    ids, x, truth = blobs()
    result = cluster_vectors(ids, x, method, params)
    assert result.num_clusters == 4
    assert result.metrics["silhouette_score"] > 0.5
    assert adjusted_rand_score(truth, result.labels) > 0.95
    sizes = {c.cluster_id: c.num_members for c in result.centroids}
    assert sum(sizes.values()) == len(ids)
    assert set(result.members.values()) <= set(sizes)


def test_deterministic_and_degenerate() -> None:
    ids, x, _ = blobs()
    a = cluster_vectors(ids, x, "kmeans", {"n_clusters": 4})
    b = cluster_vectors(ids, x, "kmeans", {"n_clusters": 4})
    assert a.members == b.members and a.metrics == b.metrics
    one = cluster_vectors(ids, x, "kmeans", {"n_clusters": 1})
    assert one.metrics["silhouette_score"] is None and one.metrics["degenerate"]
    sampled = cluster_vectors(ids, x, "kmeans", {"n_clusters": 4}, sample_size=50)
    assert sampled.num_points == 50


def test_noise_is_reported() -> None:
    ids, x, _ = blobs()
    far = np.full((1, x.shape[1]), 100.0, dtype=np.float32)
    result = cluster_vectors([*ids, "lonely"], np.vstack([x, far]), "dbscan", {"eps": 0.5}, normalize_features=False)
    assert result.members["lonely"] == "cl_cluster_noise"
    assert result.metrics["noise_ratio"] > 0


def test_unknown_params_and_methods_are_rejected() -> None:
    ids, x, _ = blobs()
    with pytest.raises(BadRequest, match="n_cluster"):
        cluster_vectors(ids, x, "kmeans", {"n_cluster": 3})
    with pytest.raises(BadRequest, match="unknown clustering method"):
        cluster_vectors(ids, x, "kmedoids", {})


def test_attribute_based_grouping() -> None:
    docs = [{"document_id": f"d{i}", "category": c, "brand": b}
            for i, (c, b) in enumerate([("shoes", "acme")] * 3 + [("shoes", "zeta")] * 2 + [("hats", "acme")])]  # fmt: skip
    flat = cluster_attributes(docs, ["category"])
    assert {c.label: c.num_members for c in flat.centroids} == {"shoes": 5, "hats": 1}
    tree = cluster_attributes(docs, ["category", "brand"], hierarchical_grouping=True)
    labels = {c.label: c.num_members for c in tree.centroids}
    assert labels["shoes"] == 5 and labels["shoes > zeta"] == 2 and labels["hats > acme"] == 1


def test_load_vectors_from_store() -> None:
    s = InMemoryStore()
    ids, x, truth = blobs(n_per=10, k=2, dims=8)
    col = s.add_collection("c", [VectorIndex("emb", "mixpeek://e@v1/emb", 8)])
    s.add_documents(
        col.collection_id,
        [{"document_id": i, "g": t} for i, t in zip(ids, truth, strict=True)],
        vectors=[{"emb": v} for v in x],
    )
    got_ids, matrix = load_vectors(s, ["c"], "mixpeek://e@v1/emb")
    assert got_ids == ids and matrix.shape == (20, 8)
    with pytest.raises(BadRequest, match="not a vector index"):
        load_vectors(s, ["c"], "mixpeek://other@v1/x")
