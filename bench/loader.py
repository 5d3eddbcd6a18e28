"""Micro-benchmark of the manifest loader (files -> SourceDocs with positions).

Generates projects of 1,000 and 10,000 retrievers (about 50 YAML lines each, 100
resources per file), loads each several times with ``load_paths`` and prints the
median wall and CPU time and the peak traced memory of one load.

    .venv/bin/python bench/loader.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from mixops.ports.yamlsource import load_paths

PER_FILE = 100

RETRIEVER = """\
  - name: search_{i}
    description: "Semantic product search #{i} with filters and a sort"
    collection_identifiers: [products, products_archive]
    tags: [catalog, search, team-{team}]
    metadata:
      owner: team-{team}
      tier: gold
    input_schema:
      query:
        type: text
        required: true
        description: what the shopper typed
      max_price:
        type: number
        required: false
    budget_limits:
      max_credits: 100
      max_time_ms: 2000
    stages:
      - stage_name: search
        stage_type: filter
        config:
          stage_id: feature_search
          parameters:
            searches:
              - feature_uri: "mixpeek://text_extractor@v1/embedding"
                query: {{input_mode: text, value: "{{{{INPUT.query}}}}"}}
                top_k: 100
              - feature_uri: "mixpeek://text_extractor@v1/sparse"
                query: {{input_mode: text, value: "{{{{INPUT.query}}}}"}}
                top_k: 50
            fusion: rrf
            final_top_k: 25
      - stage_name: in_budget
        stage_type: filter
        config:
          stage_id: attribute_filter
          parameters:
            field: price
            operator: lte
            value: "{{{{INPUT.max_price}}}}"
      - stage_name: by_rating
        stage_type: sort
        config:
          stage_id: sort_attribute
          parameters:
            sort_field: rating
            sort_direction: desc
            null_handling: last
"""


def write_project(directory: Path, resources: int) -> int:
    lines = 0
    for start in range(0, resources, PER_FILE):
        body = "".join(RETRIEVER.format(i=i, team=i % 7) for i in range(start, min(start + PER_FILE, resources)))
        text = f'version: "1.0"\nmetadata: {{name: bench_{start}}}\nretrievers:\n{body}'
        lines += text.count("\n")
        (directory / f"retrievers_{start // PER_FILE:04d}.yaml").write_text(text, encoding="utf-8")
    return lines


def measure(resources: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        lines = write_project(root, resources)
        times, cpu = [], []
        for _ in range(repeat):
            start, start_cpu = time.perf_counter(), time.process_time()
            docs, problems = load_paths([root], root=root)
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
            assert not problems, problems[:3]
            assert sum(len(d.data["retrievers"]) for d in docs) == resources
            del docs  # free the previous result outside the timed region
        tracemalloc.start()
        load_paths([root], root=root)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    # CPU time is printed too: on a shared machine it is the steadier figure.
    print(
        f"{resources:>6} resources, {lines:>7} lines: median {statistics.median(times):.3f} s wall, "
        f"{statistics.median(cpu):.3f} s CPU over {repeat} runs; peak traced memory {peak / 1e6:.0f} MB"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    for resources in (1_000, 10_000):
        measure(resources, args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
