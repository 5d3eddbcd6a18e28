"""Engine-level benchmark of the local backend (no HTTP): prints medians, asserts nothing.

    .venv/bin/python bench/backend_engine.py [--runs 5]

- median single-search latency of ``run_pipeline`` (one feature_search, vector query,
  final_top_k 25) over 10,000 and 100,000 random 384-d documents;
- median kmeans time (n_clusters 10) over 10,000 384-d documents, metrics included.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from mixops.local.engine import InMemoryStore, VectorIndex, cluster_vectors, run_pipeline

URI = "mixpeek://text_extractor@v1/embedding"
DIMS = 384


def build(n: int, rng: np.random.Generator) -> tuple[InMemoryStore, np.ndarray]:
    store = InMemoryStore()
    col = store.add_collection("bench", [VectorIndex("text_extractor_v1_embedding", URI, DIMS)])
    vectors = rng.normal(size=(n, DIMS)).astype(np.float32)
    store.add_documents(
        col.collection_id,
        [{"document_id": f"doc_{i}", "n": i} for i in range(n)],
        vectors=[{URI: v} for v in vectors],
    )
    return store, vectors


def search_latency(store: InMemoryStore, rng: np.random.Generator, runs: int) -> tuple[float, float]:
    timings = []
    for _ in range(runs * 5 + 1):
        query = rng.normal(size=DIMS).astype(np.float32).tolist()
        stage = {"stage_name": "search", "config": {"stage_id": "feature_search", "parameters": {
            "searches": [{"feature_uri": URI, "query": {"input_mode": "vector", "value": query}, "top_k": 100}],
            "final_top_k": 25}}}  # fmt: skip
        started = time.perf_counter()
        run_pipeline([stage], {}, {}, ["bench"], store)
        timings.append((time.perf_counter() - started) * 1000)
    timings = timings[1:]  # the first run fills the store's matrix cache
    return statistics.median(timings), statistics.quantiles(timings, n=20)[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    for n in (10_000, 100_000):
        store, _ = build(n, rng)
        p50, p95 = search_latency(store, rng, args.runs)
        print(f"single feature_search over {n:>7,} docs x {DIMS}d: p50 {p50:7.2f} ms  p95 {p95:7.2f} ms")
    ids = [f"doc_{i}" for i in range(10_000)]
    matrix = rng.normal(size=(10_000, DIMS)).astype(np.float32)
    timings = []
    for _ in range(args.runs):
        started = time.perf_counter()
        cluster_vectors(ids, matrix, "kmeans", {"n_clusters": 10})
        timings.append(time.perf_counter() - started)
    print(f"kmeans (10 clusters, metrics) over 10,000 docs x {DIMS}d: median {statistics.median(timings):.2f} s")


if __name__ == "__main__":
    main()
