"""Benchmark of the local backend: retriever execute latency and kmeans time.

    .venv/bin/python bench/backend.py            # 10,000 and 100,000 documents (~1-2 minutes)
    .venv/bin/python bench/backend.py --sizes 10000

Documents get random 384-d vectors (bulk-loaded through the storage layer; HTTP
ingestion is not what is measured). Each execute goes through the full HTTP stack
in-process (httpx.ASGITransport -> FastAPI -> SQLite-backed store -> engine): a
feature_search with a text query embedded by the local embedder, final_top_k 25.
The first execute per size warms the per-process vector cache and is reported apart.
Goals (issue 3): p50 under 50 ms at 100,000 documents; kmeans over 10,000 under 3 s.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

from mixops.local.api.collections import create_collection
from mixops.local.api.namespaces import ensure_namespace
from mixops.local.app import create_app

DIMS = 384
NS = "bench"
HEADERS = {"Authorization": "Bearer sk_bench", "X-Namespace": NS}
WORDS = [
    "red",
    "blue",
    "green",
    "running",
    "trail",
    "hiking",
    "shoes",
    "boots",
    "jacket",
    "yoga",
    "mat",
    "book",
    "lamp",
    "chair",
    "desk",
]


def load(app: object, name: str, n: int, seed: int) -> None:
    state = app.state.local  # type: ignore[attr-defined]
    ns = ensure_namespace(state.db, NS)
    row = create_collection(
        state,
        ns,
        {
            "collection_name": name,
            "feature_extractor": {
                "feature_extractor_name": "text_extractor",
                "version": "v1",
                "input_mappings": {"text": "title"},
            },
        },
    )
    rng = np.random.default_rng(seed)
    for start in range(0, n, 10_000):
        size = min(10_000, n - start)
        vecs = rng.standard_normal((size, DIMS)).astype(np.float32)
        docs = []
        for i in range(size):
            k = start + i
            title = " ".join(WORDS[(k * 7 + j) % len(WORDS)] for j in range(3))
            docs.append(
                (
                    f"doc_{k:07d}",
                    {"document_id": f"doc_{k:07d}", "collection_id": row.id, "title": title, "price": k % 500},
                    {"text_extractor_v1_embedding": vecs[i]},
                )
            )
        state.db.put_documents(ns, row.id, docs)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def bench_execute(client: httpx.AsyncClient, collection: str, runs: int) -> tuple[float, list[float]]:
    body = {
        "collection_identifiers": [collection],
        "input_schema": {"query": {"type": "text", "required": True}},
        "stages": [{"stage_name": "search", "config": {"stage_id": "feature_search", "parameters": {
            "searches": [{"feature_uri": "mixpeek://text_extractor@v1/embedding",
                          "query": {"input_mode": "text", "value": "{{INPUT.query}}"}, "top_k": 100}],
            "final_top_k": 25}}}],
    }  # fmt: skip
    timings = []
    first = 0.0
    for i in range(runs + 1):
        query = f"{WORDS[i % len(WORDS)]} {WORDS[(i * 3) % len(WORDS)]}"
        t0 = time.perf_counter()
        r = await client.post("/v1/retrievers/execute", json={**body, "inputs": {"query": query}})
        elapsed = (time.perf_counter() - t0) * 1000
        assert r.status_code == 200 and r.json()["status"] == "completed", r.text[:300]
        if i == 0:
            first = elapsed
        else:
            timings.append(elapsed)
    return first, timings


async def main(sizes: list[int], runs: int) -> None:
    with tempfile.TemporaryDirectory(prefix="mixops-bench-") as tmp:
        app = create_app(Path(tmp) / "bench.db")
        try:
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://local", headers=HEADERS, timeout=120
            ) as client:
                for n in sizes:
                    t0 = time.perf_counter()
                    load(app, f"docs_{n}", n, seed=n)
                    print(f"loaded {n:>7,} documents x {DIMS}d in {time.perf_counter() - t0:6.1f} s")
                    first, timings = await bench_execute(client, f"docs_{n}", runs)
                    print(
                        f"retriever execute over {n:>7,} docs: p50 {statistics.median(timings):6.1f} ms  "
                        f"p95 {percentile(timings, 0.95):6.1f} ms  (first, cold cache: {first:.0f} ms; "
                        f"{runs} runs)"
                    )
                n = 10_000
                col = f"docs_{n}" if n in sizes else None
                if col is None:
                    load(app, "docs_kmeans", n, seed=1)
                    col = "docs_kmeans"
                t0 = time.perf_counter()
                r = await client.post(
                    "/v1/clusters/execute",
                    json={
                        "collection_ids": [col],
                        "config": {
                            "algorithm": "kmeans",
                            "algorithm_params": {"n_clusters": 10},
                            "feature_vector": {"vector_name": "text_extractor_v1_embedding"},
                        },
                    },
                )
                wall = time.perf_counter() - t0
                assert r.status_code == 200, r.text[:300]
                out = r.json()
                print(
                    f"kmeans (k=10) over {out['num_documents']:,} docs: {wall:.2f} s wall "
                    f"({out['execution_time_ms']} ms in the engine)"
                )
        finally:
            app.state.local.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    asyncio.run(main(args.sizes, args.runs))
