"""Clustering with scikit-learn (mixpeek-api.md 6.2, 6.5, 6.6).

``cluster_vectors(ids, matrix, method, params, ...)`` clusters an ``(n, d)`` matrix;
``cluster_attributes(docs, attributes, ...)`` groups documents by attribute values;
``load_vectors(store, collection_ids, feature_uri)`` gathers the input matrix
(every collection must carry the feature). All return a ``ClusterResult``.

Methods and the parameters passed through to scikit-learn (anything else is a
``BadRequest`` naming the unknown keys):

- kmeans: n_clusters (8), max_iter, random_state (42), n_init (1; 10 is the API
  default but 1 (k-means++ seeding) keeps 10,000 x 384 well under 3 s), tol, init, algorithm
- dbscan: eps (0.5), min_samples (5), metric, leaf_size, p, algorithm
- hdbscan: min_cluster_size (5), min_samples, cluster_selection_epsilon, max_cluster_size,
  metric, cluster_selection_method, allow_single_cluster, alpha, leaf_size
- agglomerative: n_clusters (2), linkage (ward), distance_threshold, metric
- spectral: n_clusters (8), affinity (rbf), n_neighbors, gamma, random_state (42),
  assign_labels, n_init
- gaussian_mixture: n_components (1), covariance_type, max_iter, random_state (42),
  n_init, tol, reg_covar, init_params
- mean_shift: bandwidth, bin_seeding, min_bin_freq, cluster_all
- optics: min_samples (5), xi, max_eps, metric, cluster_method, min_cluster_size, eps

``normalize_features`` L2-normalises rows first (default true). ``sample_size``
draws a deterministic sample (seeded by ``random_state``). Metrics (silhouette,
Davies-Bouldin, Calinski-Harabasz) are computed over non-noise points when there
are at least 2 clusters and fewer clusters than points; otherwise they are None
and ``degenerate`` says why. Silhouette uses at most 2,000 points (seeded sample).
Cluster ids are ``cl_0``, ``cl_1``... (largest first); noise is ``cl_cluster_noise``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from mixops.local.engine.errors import BadRequest, Unsupported
from mixops.local.engine.feature_uris import find_index
from mixops.local.engine.filters import Predicate, always, get_path
from mixops.local.engine.store import DocumentStore

NOISE_ID = "cl_cluster_noise"
SILHOUETTE_SAMPLE = 2000

_ALLOWED: dict[str, set[str]] = {
    "kmeans": {"n_clusters", "max_iter", "random_state", "n_init", "tol", "init", "algorithm"},
    "dbscan": {"eps", "min_samples", "metric", "leaf_size", "p", "algorithm"},
    "hdbscan": {
        "min_cluster_size", "min_samples", "cluster_selection_epsilon", "max_cluster_size", "metric",
        "cluster_selection_method", "allow_single_cluster", "alpha", "leaf_size",
    },
    "agglomerative": {"n_clusters", "linkage", "distance_threshold", "metric"},
    "spectral": {"n_clusters", "affinity", "n_neighbors", "gamma", "random_state", "assign_labels", "n_init"},
    "gaussian_mixture": {
        "n_components", "covariance_type", "max_iter", "random_state", "n_init", "tol", "reg_covar", "init_params",
    },
    "mean_shift": {"bandwidth", "bin_seeding", "min_bin_freq", "cluster_all"},
    "optics": {"min_samples", "xi", "max_eps", "metric", "cluster_method", "min_cluster_size", "eps"},
}  # fmt: skip
VECTOR_METHODS = tuple(_ALLOWED)
METHODS = (*VECTOR_METHODS, "attribute_based")
_UNSUPPORTED = ("leiden", "evoc", "auto")


@dataclass
class Centroid:
    cluster_id: str
    num_members: int
    centroid_vector: list[float] | None = None
    label: str | None = None
    mean_cosine_similarity: float | None = None

    def to_dict(self, include_vector: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {"cluster_id": self.cluster_id, "num_members": self.num_members}
        if self.label is not None:
            out["label"] = self.label
        if self.mean_cosine_similarity is not None:
            out["mean_cosine_similarity"] = self.mean_cosine_similarity
        if include_vector and self.centroid_vector is not None:
            out["centroid_vector"] = self.centroid_vector
        return out


@dataclass
class ClusterResult:
    algorithm: str
    num_clusters: int
    num_points: int
    centroids: list[Centroid]
    metrics: dict[str, Any]
    members: dict[str, str]  # document_id -> cluster id
    execution_time_ms: float
    dimensions: int = 0
    labels: list[int] = field(default_factory=list)  # raw labels, row order (-1 = noise)


def load_vectors(
    store: DocumentStore,
    collection_identifiers: Sequence[str],
    feature_uri: str,
    predicate: Predicate = always,
) -> tuple[list[str], npt.NDArray[np.float32]]:
    """Document ids and vectors of ``feature_uri`` across collections (optionally filtered)."""
    ids: list[str] = []
    blocks: list[npt.NDArray[np.float32]] = []
    for info in store.resolve_collections(list(collection_identifiers)):
        index = find_index(info, feature_uri)
        if index is None:
            raise BadRequest(
                f"feature {feature_uri!r} is not a vector index of collection {info.collection_name!r}",
                {"collection_id": info.collection_id, "feature_uri": feature_uri},
            )
        col_ids, matrix = store.vectors(info.collection_id, index.name)
        if predicate is not always:
            keep_ids = {d["document_id"] for d in store.documents([info.collection_id]) if predicate(d)}
            rows = [i for i, d in enumerate(col_ids) if d in keep_ids]
            col_ids, matrix = [col_ids[i] for i in rows], matrix[rows]
        ids.extend(col_ids)
        blocks.append(matrix)
    dims = {b.shape[1] for b in blocks if b.size}
    if len(dims) > 1:
        raise BadRequest(f"feature {feature_uri!r} has different dimensions across collections: {sorted(dims)}")
    matrix = np.vstack(blocks).astype(np.float32) if blocks else np.zeros((0, 0), dtype=np.float32)
    return ids, matrix


def cluster_vectors(
    ids: Sequence[str],
    matrix: npt.NDArray[np.float32],
    method: str,
    params: Mapping[str, Any] | None = None,
    *,
    normalize_features: bool = True,
    sample_size: int | None = None,
    compute_metrics: bool = True,
) -> ClusterResult:
    """Cluster the rows of ``matrix`` (row i is document ``ids[i]``)."""
    started = time.perf_counter()
    method = (method or "").lower()
    if method in _UNSUPPORTED:
        raise Unsupported(f"clustering method {method!r} is not supported by the local backend")
    if method not in _ALLOWED:
        raise BadRequest(f"unknown clustering method {method!r}; expected one of {', '.join(METHODS)}")
    params = dict(params or {})
    unknown = sorted(set(params) - _ALLOWED[method])
    if unknown:
        raise BadRequest(
            f"algorithm_params for {method}: unknown parameter(s) {', '.join(unknown)}; "
            f"accepted: {', '.join(sorted(_ALLOWED[method]))}",
            {"unknown": unknown},
        )
    if matrix.ndim != 2 or matrix.shape[0] != len(ids):
        raise BadRequest("vectors and document ids do not line up")
    seed = int(params.get("random_state", 42))
    ids = list(ids)
    x = matrix.astype(np.float32)
    if sample_size is not None:
        if isinstance(sample_size, bool) or not isinstance(sample_size, int) or sample_size < 1:
            raise BadRequest("sample_size: must be an integer >= 1")
        if sample_size < len(ids):
            rows = np.sort(np.random.default_rng(seed).choice(len(ids), sample_size, replace=False))
            x, ids = x[rows], [ids[i] for i in rows]
    n = len(ids)
    if n == 0:
        raise BadRequest("no documents with vectors to cluster")
    if normalize_features:
        norms = np.linalg.norm(x, axis=1, keepdims=True)
        x = np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)
    try:
        labels, centers = _fit(method, params, x, seed)
    except ValueError as exc:  # sklearn's own validation (e.g. n_clusters > n_samples)
        raise BadRequest(f"{method}: {exc}") from exc
    return _result(method, ids, x, labels, centers, compute_metrics, started)


def cluster_attributes(
    docs: Sequence[Mapping[str, Any]],
    attributes: Sequence[str],
    *,
    hierarchical_grouping: bool = False,
) -> ClusterResult:
    """Group documents by the values of ``attributes`` (dot paths).

    Flat: one cluster per distinct value tuple. Hierarchical: one cluster per value of
    the first attribute, labelled with it, then one per (first, second) prefix, and so
    on; members belong to their deepest group. Missing values group as "unknown".
    """
    started = time.perf_counter()
    if not attributes or not all(isinstance(a, str) and a for a in attributes):
        raise BadRequest("attribute_config.attributes: needs at least one field path")
    groups: dict[tuple[str, ...], list[str]] = {}
    for doc in docs:
        key = tuple(_label(get_path(doc, a)) for a in attributes)
        groups.setdefault(key, []).append(str(doc.get("document_id")))
    order = sorted(groups, key=lambda k: (-len(groups[k]), k))
    centroids: list[Centroid] = []
    members: dict[str, str] = {}
    if hierarchical_grouping and len(attributes) > 1:
        prefixes: dict[tuple[str, ...], int] = {}
        for key in order:
            for depth in range(1, len(key)):
                prefixes[key[:depth]] = prefixes.get(key[:depth], 0) + len(groups[key])
        for prefix in sorted(prefixes, key=lambda p: (len(p), -prefixes[p], p)):
            centroids.append(Centroid(f"cl_{len(centroids)}", prefixes[prefix], label=" > ".join(prefix)))
    for key in order:
        cid = f"cl_{len(centroids)}"
        centroids.append(Centroid(cid, len(groups[key]), label=" > ".join(key)))
        for doc_id in groups[key]:
            members[doc_id] = cid
    leaf = len(groups)
    n = len(docs)
    metrics: dict[str, Any] = {
        "silhouette_score": None, "davies_bouldin_index": None, "calinski_harabasz_score": None,
        "degenerate": False if leaf >= 2 else "fewer than 2 groups",
        "noise_ratio": 0.0, "avg_cluster_size": round(n / leaf, 6) if leaf else 0.0,
    }  # fmt: skip
    elapsed = (time.perf_counter() - started) * 1000.0
    return ClusterResult("attribute_based", len(centroids), n, centroids, metrics, members, elapsed)


def _label(value: Any) -> str:
    if value is None:
        return "unknown"
    if isinstance(value, list):
        return ",".join(str(v) for v in value) or "unknown"
    return str(value)


def _fit(
    method: str, params: dict[str, Any], x: npt.NDArray[np.float32], seed: int
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float32] | None]:
    # scikit-learn costs over a second to import: only pay for it when clustering.
    from sklearn import cluster as skc
    from sklearn.mixture import GaussianMixture

    if method == "kmeans":
        kw = {"n_clusters": 8, "n_init": 1, "random_state": seed, **params}
        model = skc.KMeans(**kw).fit(x)
        return model.labels_, model.cluster_centers_.astype(np.float32)
    if method == "dbscan":
        return skc.DBSCAN(**params).fit(x).labels_, None
    if method == "hdbscan":
        # copy=True: HDBSCAN may otherwise modify x in place (and warns about its default changing).
        return skc.HDBSCAN(**{"copy": True, **params}).fit(x).labels_, None
    if method == "agglomerative":
        kw = dict(params)
        if kw.get("distance_threshold") is not None:
            kw.setdefault("n_clusters", None)
        return skc.AgglomerativeClustering(**kw).fit(x).labels_, None
    if method == "spectral":
        kw = {"random_state": seed, **params}
        return skc.SpectralClustering(**kw).fit(x).labels_, None
    if method == "gaussian_mixture":
        kw = {"random_state": seed, **params}
        gm = GaussianMixture(**kw).fit(x)
        return gm.predict(x), gm.means_.astype(np.float32)
    if method == "mean_shift":
        model = skc.MeanShift(**params).fit(x)
        return model.labels_, model.cluster_centers_.astype(np.float32)
    return skc.OPTICS(**params).fit(x).labels_, None


def _result(
    method: str,
    ids: list[str],
    x: npt.NDArray[np.float32],
    labels: npt.NDArray[np.intp],
    centers: npt.NDArray[np.float32] | None,
    compute_metrics: bool,
    started: float,
) -> ClusterResult:
    labels = np.asarray(labels)
    raw = sorted({int(v) for v in labels if v >= 0}, key=lambda v: (-int((labels == v).sum()), v))
    rename = {old: f"cl_{i}" for i, old in enumerate(raw)}
    centroids: list[Centroid] = []
    for old in raw:
        mask = labels == old
        center = centers[old] if centers is not None and old < len(centers) else x[mask].mean(axis=0)
        unit = center / (np.linalg.norm(center) or 1.0)
        rows = x[mask]
        row_norms = np.linalg.norm(rows, axis=1)
        cos = (rows @ unit) / np.where(row_norms > 0, row_norms, 1.0)
        centroids.append(
            Centroid(rename[old], int(mask.sum()), [float(v) for v in center], None, round(float(cos.mean()), 6))
        )
    noise = int((labels < 0).sum())
    if noise:
        centroids.append(Centroid(NOISE_ID, noise))
    members = {doc_id: rename.get(int(v), NOISE_ID) for doc_id, v in zip(ids, labels, strict=True)}
    n = len(ids)
    k = len(raw)
    metrics: dict[str, Any] = {
        "silhouette_score": None, "davies_bouldin_index": None, "calinski_harabasz_score": None,
        "degenerate": False, "noise_ratio": round(noise / n, 6) if n else 0.0,
        "avg_cluster_size": round((n - noise) / k, 6) if k else 0.0,
    }  # fmt: skip
    from sklearn import metrics as skm

    clustered = labels >= 0
    m = int(clustered.sum())
    if k < 2:
        metrics["degenerate"] = f"{k} cluster(s) found; metrics need at least 2"
    elif k >= m:
        metrics["degenerate"] = "every clustered point is its own cluster; metrics need fewer clusters than points"
    elif compute_metrics:
        xc, lc = x[clustered], labels[clustered]
        sample = min(SILHOUETTE_SAMPLE, m)
        metrics["silhouette_score"] = round(float(skm.silhouette_score(xc, lc, sample_size=sample, random_state=42)), 6)
        metrics["davies_bouldin_index"] = round(float(skm.davies_bouldin_score(xc, lc)), 6)
        metrics["calinski_harabasz_score"] = round(float(skm.calinski_harabasz_score(xc, lc)), 6)
    elapsed = (time.perf_counter() - started) * 1000.0
    return ClusterResult(method, k, n, centroids, metrics, members, elapsed, int(x.shape[1]), [int(v) for v in labels])
