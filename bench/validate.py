"""Benchmark: load and validate generated manifests (issue 2).

Prints the median wall time and the peak memory (RSS of a fresh child
process) to load and validate N resources, for N = 1,000 and 10,000.
Goal: 10,000 resources in under 5 s and 500 MB.

    python bench/validate.py [--runs 3] [--sizes 1000 10000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

RETRIEVER = """\
  - name: search_{i}
    description: generated retriever {i}
    collection_identifiers: [products]
    input_schema:
      query: {{type: text, required: true}}
      category: {{type: string}}
    budget_limits: {{max_credits: 10, max_time_ms: 5000}}
    stages:
      - stage_name: search
        stage_type: filter
        config:
          stage_id: feature_search
          pre_filters: {{AND: [{{field: in_stock, operator: eq, value: true}}]}}
          parameters:
            searches:
              - feature_uri: "mixpeek://text_extractor@v1/embedding"
                query: {{input_mode: text, value: "{{{{INPUT.query}}}}"}}
                top_k: 100
            final_top_k: "${{{{ params.top_k }}}}"
      - stage_name: sort
        config:
          stage_id: sort_attribute
          parameters: {{field: price, direction: asc}}
"""
TAXONOMY = """\
  - name: tags_{i}
    config:
      taxonomy_type: flat
      retriever_id: search_{i}
      input_mappings: [{{input_key: query, source_type: payload, path: title}}]
      source_collection: {{collection_id: tags, enrichment_fields: [{{field_path: tag, merge_mode: append}}]}}
"""
CLUSTER = """\
  - name: groups_{i}
    collection_ids: [products]
    vector_config:
      clustering_method: kmeans
      algorithm_params: {{n_clusters: 5}}
      feature_uris: ["mixpeek://text_extractor@v1/embedding"]
"""


def generate(root: Path, n: int, per_file: int = 100) -> None:
    (root / "mixops.yaml").write_text("stack: bench\nmanifests: [manifests/]\n")
    manifests = root / "manifests"
    manifests.mkdir()
    third = n // 3
    header = 'version: "1.0"\n'
    (manifests / "params.yaml").write_text(header + "parameters:\n  - {name: top_k, type: integer, default: 20}\n")
    for start in range(0, third, per_file):
        idx = range(start, min(start + per_file, third))
        body = header + "retrievers:\n" + "".join(RETRIEVER.format(i=i) for i in idx)
        body += "taxonomies:\n" + "".join(TAXONOMY.format(i=i) for i in idx)
        body += "clusters:\n" + "".join(CLUSTER.format(i=i) for i in idx)
        (manifests / f"part_{start:06d}.yaml").write_text(body)


CHILD = textwrap.dedent(
    """
    import json, resource, sys, time
    from pathlib import Path
    t0 = time.perf_counter()
    from mixops.ports.project import load_project, load_stack
    project = load_project(Path(sys.argv[1]))
    stack = load_stack(project, env_vars={})
    elapsed = time.perf_counter() - t0
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": elapsed, "rss_mb": rss_mb, "counts": stack.count()}))
    """
)


def measure(root: Path) -> dict[str, Any]:
    """seconds, rss_mb and the resource counts (a dict) of one validation in a fresh interpreter."""
    out = subprocess.run([sys.executable, "-c", CHILD, str(root)], check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    args = parser.parse_args()
    print(f"{'resources':>10} {'median s':>9} {'peak RSS MB':>12}  (runs: {args.runs}; includes interpreter import)")
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            generate(root, n)
            runs = [measure(root) for _ in range(args.runs)]
        secs = statistics.median(r["seconds"] for r in runs)
        rss = max(r["rss_mb"] for r in runs)
        counts = runs[0]["counts"]
        total = sum(v for k, v in counts.items() if k != "tests")
        print(f"{total:>10} {secs:>9.2f} {rss:>12.0f}")


if __name__ == "__main__":
    main()
