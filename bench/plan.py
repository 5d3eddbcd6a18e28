"""Plan and apply at scale against the local backend over loopback.

    .venv/bin/python bench/plan.py                   # 1,000 and 10,000 resources; apply of 1,000
    .venv/bin/python bench/plan.py --sizes 1000 --runs 5 --skip-apply
    .venv/bin/python bench/plan.py --skip-apply --plan-latency-ms 50   # a distant API

Plan: a `mixops serve` (loopback) holds N resources owned by the stack (half
retrievers, a quarter taxonomies, a quarter clusters), created directly through
the HTTP API with concurrency from the same specs as the generated manifests,
so the plan must show N unchanged. Printed per N: plan wall time (manifests
loaded, live read, plan built), the plan's HTTP requests, and the bare minimum:
listing every resource with raw httpx (pages of 1,000, kinds concurrently).
Goals: plan <= 1.5x the bare listing; requests <= ceil(N/1000) per kind + a
constant.

Apply: 1,000 retriever creates against the local backend with 20 ms added to
every response, at --parallelism 1 (once) and 16 (median of --runs), each into
a fresh namespace. Goal: 8x.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import math
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "catalog"
KEY = "sk_bench"
KEY_VAR = "MIXOPS_BENCH_KEY"
STACK = "bench"
FEATURE = "mixpeek://text_extractor@v1/embedding"
PATHS = {"retriever": "retrievers", "taxonomy": "taxonomies", "cluster": "clusters"}


# --- generated resources --------------------------------------------------------------


def retriever(i: int) -> dict[str, Any]:
    return {
        "name": f"r{i:05d}",
        "description": f"generated retriever {i}",
        "collection_identifiers": ["products"],
        "input_schema": {"query": {"type": "text", "required": True}},
        "tags": ["bench", f"t{i % 7}"],
        "stages": [
            {"stage_name": "search", "stage_type": "filter", "config": {"stage_id": "feature_search", "parameters": {
                "searches": [{"feature_uri": FEATURE, "query": {"input_mode": "text", "value": "{{INPUT.query}}"},
                              "top_k": 10 + i % 50}],
                "final_top_k": 5}}},
            {"stage_name": "sort", "stage_type": "sort",
             "config": {"stage_id": "sort_relevance", "parameters": {"score_field": "score", "direction": "desc"}}},
        ],
    }  # fmt: skip


def taxonomy(i: int, matcher: str) -> dict[str, Any]:
    return {
        "name": f"t{i:05d}",
        "config": {
            "taxonomy_type": "flat",
            "retriever_id": matcher,
            "input_mappings": [{"input_key": "query", "source_type": "payload", "path": "title"}],
            "source_collection": {
                "collection_id": "tag_catalog",
                "enrichment_fields": [{"field_path": "tag", "merge_mode": "append"}],
            },
            "top_k": 1 + i % 5,
        },
    }


def cluster(i: int) -> dict[str, Any]:
    return {
        "name": f"c{i:05d}",
        "collection_ids": ["products"],
        "cluster_type": "vector",
        "vector_config": {
            "clustering_method": "kmeans",
            "algorithm_params": {"n_clusters": 2 + i % 10},
            "feature_uris": [FEATURE],
        },
    }


def generate(n: int) -> dict[str, list[dict[str, Any]]]:
    r, t = n // 2, n // 4
    retrievers = [retriever(i) for i in range(r)]
    return {
        "retrievers": retrievers,
        "taxonomies": [taxonomy(i, retrievers[i % r]["name"]) for i in range(t)],
        "clusters": [cluster(i) for i in range(n - r - t)],
    }


def write_project(root: Path, url: str, namespace: str, resources: dict[str, list[dict[str, Any]]]) -> Path:
    (root / "manifests").mkdir(parents=True)
    for key, items in resources.items():
        doc = {"version": "1.0", key: items}
        (root / "manifests" / f"{key}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    env = {"api_url": url, "namespace": namespace, "api_key_env": KEY_VAR}
    config = {"stack": STACK, "manifests": ["manifests/"], "environments": {"bench": env}}
    (root / "mixops.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return root


# --- the server -----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def seed_db(db_path: Path, namespaces: list[str]) -> None:
    from mixops.local.db import Database
    from mixops.local.seed import load_seed

    db = Database(db_path)
    for ns in namespaces:
        load_seed(db, EXAMPLE / "data" / "seed.yaml", ns)
    db.close()


def start_server(db_path: Path, latency_ms: float = 0.0) -> tuple[subprocess.Popen[bytes], str]:
    """`mixops serve` itself, or (with latency) the same app behind a delay."""
    port = _free_port()
    if latency_ms:
        cmd = [sys.executable, __file__, "--serve-with-latency", str(latency_ms), "--db", str(db_path),
               "--port", str(port)]  # fmt: skip
    else:
        cmd = [sys.executable, "-m", "mixops", "serve", "--db", str(db_path), "--port", str(port), "--api-key", KEY]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"{url}/openapi.json", timeout=5)
            return proc, url
        except httpx.TransportError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server did not start") from None
            time.sleep(0.05)


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def serve_with_latency(db_path: Path, port: int, latency_ms: float) -> None:
    """The local backend with every response delayed, as a distant API would be."""
    import uvicorn

    from mixops.local.app import create_app

    app = create_app(db_path, api_keys=[KEY])

    async def delayed(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await asyncio.sleep(latency_ms / 1000)
        await app(scope, receive, send)

    uvicorn.run(delayed, host="127.0.0.1", port=port, log_level="warning")


# --- populate, list, plan ---------------------------------------------------------------


def headers(namespace: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {KEY}", "X-Namespace": namespace}


async def populate(url: str, namespace: str, resources: dict[str, list[dict[str, Any]]]) -> None:
    """Create every resource as apply would (same bodies, ownership included), 32 at a time."""
    from mixops.core.bodies import create_body

    async with httpx.AsyncClient(base_url=url, headers=headers(namespace), timeout=120) as client:
        cols = (await client.post("/v1/collections/list", params={"limit": 1000}, json={})).json()["results"]
        ids = {("collection", c["collection_name"]): c["collection_id"] for c in cols}
        gate = asyncio.Semaphore(32)

        async def create(kind: str, spec: dict[str, Any]) -> None:
            body = create_body(kind, spec, spec["name"], STACK, lambda k, v: ids[(k, v)])
            async with gate:
                response = await client.post(f"/v1/{PATHS[kind]}", json=body)
            response.raise_for_status()
            ids[(kind, spec["name"])] = response.json()[f"{kind}_id"]

        for kind, key in (("retriever", "retrievers"), ("taxonomy", "taxonomies"), ("cluster", "clusters")):
            await asyncio.gather(*(create(kind, spec) for spec in resources[key]))


async def bare_listing(url: str, namespace: str) -> int:
    """The least any plan must do: every page of every kind (and the collections), raw."""
    async with httpx.AsyncClient(base_url=url, headers=headers(namespace), timeout=120) as client:

        async def every(path: str) -> int:
            rows, cursor = 0, None
            while True:
                params: dict[str, Any] = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
                body = (await client.post(f"{path}/list", params=params, json={})).raise_for_status().json()
                rows += len(body["results"])
                cursor = (body.get("pagination") or {}).get("next_cursor")
                if not cursor or not body["results"]:
                    return rows

        counts = await asyncio.gather(*(every(f"/v1/{p}") for p in (*PATHS.values(), "collections")))
    return sum(counts)


async def timed_plan(root: Path) -> tuple[float, float, int, dict[str, int]]:
    """`mixops plan` as the CLI runs it, minus interpreter start-up: project and manifests
    loaded, live state read (the two overlap), plan built.

    Returns (wall seconds, CPU seconds of this process, requests, counts). The server runs
    in another process, so the CPU time is mixops' own work: when it is close to the wall
    time, the plan is bound by that work, not by waiting for the server.
    """
    from mixops.core.plan import PlanOptions
    from mixops.local.inprocess import local_transport
    from mixops.ports.gcpause import freeze_on_resume
    from mixops.ports.project import load_project
    from mixops.ports.reconcile import plan_and_apply

    # As `mixops` itself does (cli/main.py). Off again afterwards and the frozen heap handed
    # back, untimed: this process runs many plans, which a `mixops plan` process never does.
    freeze_on_resume()
    try:
        started, cpu = time.perf_counter(), time.process_time()
        planned, _ = await plan_and_apply(load_project(root, local_backend=local_transport), "bench", PlanOptions())
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        freeze_on_resume(False)
        gc.unfreeze()
        gc.collect()
    return wall, cpu, planned.live.requests, planned.plan.counts()


def bench_plan(work: Path, sizes: list[int], runs: int, latency_ms: float = 0.0) -> bool:
    ok = True
    namespaces = [f"plan-{n}" for n in sizes]
    db = work / "plan.db"
    seed_db(db, namespaces)
    proc, url = start_server(db, latency_ms)
    if latency_ms:
        print(f"(every response of the server delayed by {latency_ms:.0f} ms, as a distant API's would be)")
    try:
        for n, ns in zip(sizes, namespaces, strict=True):
            resources = generate(n)
            started = time.perf_counter()
            asyncio.run(populate(url, ns, resources))
            print(f"N={n}: created {n} resources through the API in {time.perf_counter() - started:.1f}s")
            root = write_project(work / f"plan-{n}", url, ns, resources)
            os.environ[KEY_VAR] = KEY
            plans, cpus, bares = [], [], []
            for _ in range(runs):
                seconds, cpu, requests, counts = asyncio.run(timed_plan(root))
                plans.append(seconds)
                cpus.append(cpu)
                t = time.perf_counter()
                rows = asyncio.run(bare_listing(url, ns))
                bares.append(time.perf_counter() - t)
            if counts["noop"] != n:
                print(f"  UNEXPECTED plan: {counts}")
                ok = False
            plan_s, bare_s = statistics.median(plans), statistics.median(bares)
            budget = sum(math.ceil(k / 1000) for k in (n // 2, n // 4, n - n // 2 - n // 4)) + 3
            ratio = plan_s / bare_s
            print(
                f"  plan {plan_s:.2f}s (median of {runs}; mixops' own CPU {statistics.median(cpus):.2f}s), "
                f"{requests} HTTP requests (goal <= {budget}); "
                f"bare listing of {rows} rows {bare_s:.2f}s (median of {runs}); ratio {ratio:.2f} (goal <= 1.5)"
            )
            ok = ok and requests <= budget and ratio <= 1.5
    finally:
        stop(proc)
    return ok


def bench_apply(work: Path, n: int, latency_ms: float, runs: int) -> bool:
    """--parallelism 1 once (about 25 s, little variance); --parallelism 16 `runs` times, median."""
    from mixops.core.plan import PlanOptions
    from mixops.local.inprocess import local_transport
    from mixops.ports.project import load_project
    from mixops.ports.reconcile import plan_and_apply

    os.environ[KEY_VAR] = KEY
    db = work / "apply.db"
    trials = [(1, "apply-1")] + [(16, f"apply-16-{k}") for k in range(runs)]
    seed_db(db, [ns for _, ns in trials])
    proc, url = start_server(db, latency_ms)
    times: dict[int, list[float]] = {1: [], 16: []}
    try:
        resources = {"retrievers": [retriever(i) for i in range(n)], "taxonomies": [], "clusters": []}
        for parallelism, ns in trials:
            root = write_project(work / ns, url, ns, resources)
            project = load_project(root, local_backend=local_transport)
            started = time.perf_counter()
            planned, report = asyncio.run(
                plan_and_apply(project, "bench", PlanOptions(), apply=True, parallelism=parallelism)
            )
            times[parallelism].append(time.perf_counter() - started)
            assert report is not None and not report.failed and planned.plan.counts()["create"] == n
    finally:
        stop(proc)
    p1, p16 = statistics.median(times[1]), statistics.median(times[16])
    print(
        f"apply of {n} creates (a fresh namespace each time), {latency_ms:.0f} ms latency: "
        f"--parallelism 1 {p1:.1f}s; --parallelism 16 {p16:.1f}s (median of {len(times[16])}: "
        f"{', '.join(f'{t:.1f}' for t in times[16])})"
    )
    speedup = p1 / p16
    print(f"  speed-up {speedup:.1f}x (goal 8x)")
    return speedup >= 8


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--apply-creates", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=20.0, help="added to every response in the apply run")
    parser.add_argument(
        "--plan-latency-ms",
        type=float,
        default=0.0,
        help="added to every response in the plan runs (the goal is for 0: loopback)",
    )
    parser.add_argument("--skip-apply", action="store_true")
    parser.add_argument("--skip-plan", action="store_true")
    parser.add_argument("--serve-with-latency", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_with_latency is not None:
        serve_with_latency(args.db, args.port, args.serve_with_latency)
        return 0
    ok = True
    work = Path(tempfile.mkdtemp(prefix="mixops-bench-plan-"))
    try:
        if not args.skip_plan:
            ok = bench_plan(work, args.sizes, args.runs, args.plan_latency_ms) and ok
        if not args.skip_apply:
            ok = bench_apply(work, args.apply_creates, args.latency_ms, args.runs) and ok
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("all goals met" if ok else "some goals missed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
