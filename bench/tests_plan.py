"""Time `plan` spends running 50 tests of the catalog example: sequential vs concurrent.

The example's 19 tests are cycled (with distinct names) to 50 in a copy of the
project, applied once; then `plan --tests all` runs them against the desired
and live configs with one test at a time (parallelism 1) and concurrently.
Prints the median of a few runs of each. Run: .venv/bin/python bench/tests_plan.py
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

from mixops.core.plan import PlanOptions
from mixops.local.inprocess import local_transport
from mixops.ports.project import load_project
from mixops.ports.reconcile import plan_and_apply

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "catalog"
TESTS = 50
RUNS = 3


def make_project(root: Path) -> Path:
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".mixops", "__pycache__"))
    path = root / "manifests" / "tests.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    base = data["tests"]
    data["tests"] = [{**base[i % len(base)], "name": f"{base[i % len(base)]['name']} #{i}"} for i in range(TESTS)]
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return root


def touch_descriptions(root: Path) -> None:
    """A neutral change to every resource: each test then runs on both sides (desired and live)."""
    for name in ("retrievers", "taxonomies", "clusters"):
        path = root / "manifests" / f"{name}.yaml"
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for res in data[name]:
            res["description"] = (res.get("description") or "") + " (edited)"
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


async def timed_plan(root: Path, parallelism: int) -> tuple[float, int]:
    project = load_project(root, local_backend=local_transport)
    started = time.perf_counter()
    planned, _ = await plan_and_apply(project, "local", PlanOptions(), parallelism=parallelism, tests="all")
    return time.perf_counter() - started, len(planned.plan.tests)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = make_project(Path(tmp) / "catalog")
        # Applied, then one config change per kind so every test also runs against the live config.
        asyncio.run(
            plan_and_apply(load_project(root, local_backend=local_transport), "local", PlanOptions(), apply=True)
        )
        touch_descriptions(root)
        results = {}
        for label, parallelism in (("sequential (parallelism 1)", 1), ("concurrent (parallelism 8)", 8)):
            times = []
            for _ in range(RUNS):
                seconds, count = asyncio.run(timed_plan(root, parallelism))
                assert count == TESTS, count
                times.append(seconds)
            results[label] = statistics.median(times)
            print(f"plan with {TESTS} tests, {label}: median {results[label]:.2f} s over {RUNS} runs")
        seq, conc = results.values()
        print(f"speed-up: {seq / conc:.2f}x on {sys.platform} (CPU-bound local backend; a remote API gains more)")


if __name__ == "__main__":
    main()
