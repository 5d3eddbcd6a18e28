"""Kill test: SIGKILL `mixops apply` at random moments, re-run it, check convergence.

    .venv/bin/python scripts/kill_test.py                 # 20 trials
    .venv/bin/python scripts/kill_test.py --trials 50 --seed 7

One `mixops serve` on loopback holds one namespace per trial (given the catalog
example's seed documents for each, loaded when an apply creates their collection).
Each trial:

1. applies the catalog example as it is (the baseline: its collections with their
   documents, then what reads them, then `product_tags` attached to `products`),
   and creates an unowned retriever `hand_made` directly through the API;
2. starts `mixops apply --auto-approve` of a changed copy (creates, in-place
   updates, a new taxonomy version, a retriever replace whose taxonomy must
   follow, a cluster replace; a new collection `reviews` with its seed documents
   and a taxonomy applied to it, a collection description changed in place) and
   SIGKILLs it after a random delay (the first trial: as soon as the plan is
   printed, so every run holds a kill);
3. deletes the dead apply's lease (as its error message tells an operator to;
   it would otherwise expire by itself after two minutes);
4. re-runs the apply to completion, then checks that the namespace equals the
   manifests: `mixops plan --detailed-exitcode` exits 0, one resource per
   name (collections included), no `--mixops-new` temporaries, nothing owned
   and undeclared, the taxonomy points at the live retriever, each applied
   collection holds exactly one entry for product_tags (its live id) and its
   seed documents once, and `hand_made` is untouched.

Exit status 0 when every trial converged.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "catalog"
KEY_VAR = "MIXOPS_KILL_TEST_KEY"
KEY = "sk_kill_test"
STACK = "catalog"
TEMP_SUFFIX = "--mixops-new"
KINDS = ("collection", "retriever", "taxonomy", "cluster")
PATHS = {"collection": "collections", "retriever": "retrievers", "taxonomy": "taxonomies", "cluster": "clusters"}
# A collection the changed manifests add, with product_tags applied: created, its seed documents
# loaded inside the create, then the entry attached by a PATCH (a kill can land in between).
REVIEWS = {
    "name": "reviews",
    "description": "Product reviews (kill test).",
    "source": {"type": "none"},
    "feature_extractor": {
        "feature_extractor_name": "text_extractor",
        "version": "v1",
        "input_mappings": {"text": ["title", "body"]},
    },
    "taxonomy_applications": [{"taxonomy_id": "product_tags"}],
}
REVIEW_DOCUMENTS = [
    {"document_id": f"doc_review{i}", "title": title, "body": body}
    for i, (title, body) in enumerate(
        [
            ("Great trail runners", "Light and grippy running shoes for muddy trails."),
            ("Warm merino beanie", "Soft wool hat for winter commutes."),
            ("Waterproof boots", "Kept my feet dry on a rainy hike."),
        ]
    )
]
# Every collection that applies product_tags in the changed manifests, and its seed documents.
APPLIED = {"products": 358, "reviews": len(REVIEW_DOCUMENTS)}


# --- the changed manifests ---------------------------------------------------------


def _named(items: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(i for i in items if i["name"] == name)


def change_manifests(manifests: Path) -> None:
    """Creates, in-place updates, a new version and two replacements, in one apply."""
    path = manifests / "retrievers.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    retrievers = data["retrievers"]
    _named(retrievers, "product_search")["description"] = "Storefront search (kill test edit)."
    _named(retrievers, "tag_matcher")["budget_limits"] = {"max_credits": 5}  # replace; product_tags follows
    for i in range(3):
        extra = yaml.safe_load(yaml.safe_dump(_named(retrievers, "department_matcher")))
        extra["name"] = f"extra_matcher_{i}"
        extra["description"] = f"Created by the kill test ({i})."
        retrievers.append(extra)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")

    path = manifests / "taxonomies.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    _named(data["taxonomies"], "product_hierarchy")["config"]["hierarchical_nodes"][0]["label"] = "Dept"  # version
    extra = yaml.safe_load(yaml.safe_dump(_named(data["taxonomies"], "product_tags")))
    extra.update(name="extra_tags", description="Uses a retriever created in the same apply.")
    extra["config"]["retriever_id"] = "extra_matcher_0"
    data["taxonomies"].append(extra)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")

    path = manifests / "collections.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    _named(data["collections"], "categories")["description"] = "Category nodes (kill test edit)."  # in place
    data["collections"].append(REVIEWS)  # create, then attach product_tags
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")

    path = manifests / "clusters.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    _named(data["clusters"], "product_groups")["vector_config"]["algorithm_params"]["n_init"] = 4  # in place
    _named(data["clusters"], "brand_groups")["attribute_config"]["attributes"] = ["brand"]  # replace
    data["clusters"].append(
        {
            "name": "extra_groups",
            "collection_ids": ["products"],
            "cluster_type": "attribute",
            "attribute_config": {"attributes": ["department"]},
        }
    )
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def make_projects(work: Path, url: str, namespaces: list[str]) -> tuple[Path, Path]:
    """`base` (the example) and `changed`; one environment per trial namespace."""
    # `lock: lease`: a killed apply leaves its lease behind, which the re-run must deal with.
    envs = {ns: {"api_url": url, "namespace": ns, "api_key_env": KEY_VAR, "lock": "lease"} for ns in namespaces}
    config = {"stack": STACK, "manifests": ["manifests/"], "environments": envs}
    out = []
    for name in ("base", "changed"):
        root = work / name
        shutil.copytree(EXAMPLE / "manifests", root / "manifests")
        # The behavioural tests are not the subject here; a later apply that runs them must not
        # fail a trial because an edit above moved a ranking.
        (root / "manifests" / "tests.yaml").unlink()
        (root / "mixops.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        out.append(root)
    change_manifests(out[1] / "manifests")
    return out[0], out[1]


# --- the server --------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_seeds(work: Path, namespaces: list[str]) -> list[str]:
    """The example's seed (documents only) once per namespace, plus the documents of `reviews`:
    `--seed` arguments for `mixops serve`, which loads each when an apply creates its collection."""
    data = work / "data"
    shutil.copytree(EXAMPLE / "data", data, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    seed = yaml.safe_load((data / "seed.yaml").read_text(encoding="utf-8"))
    seed["collections"].append({"collection_name": "reviews", "documents": REVIEW_DOCUMENTS})
    args = []
    for ns in namespaces:
        path = data / f"seed-{ns}.yaml"
        path.write_text(yaml.safe_dump({**seed, "namespace": ns}, sort_keys=False), encoding="utf-8")
        args += ["--seed", str(path)]
    return args


class Server:
    """`mixops serve` on a free loopback port, given the seed documents of every namespace."""

    def __init__(self, work: Path, namespaces: list[str], fault_rate: float = 0.0) -> None:
        db_path = work / "backend.db"
        seeds = write_seeds(work, namespaces)
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "mixops", "serve", "--db", str(db_path), "--port", str(self.port),
               "--api-key", KEY, "--fault-rate", str(fault_rate), *seeds]  # fmt: skip
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{self.url}/openapi.json", timeout=2)
                break
            except httpx.TransportError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("mixops serve did not start") from None
                time.sleep(0.05)

    def client(self, namespace: str) -> httpx.Client:
        headers = {"Authorization": f"Bearer {KEY}", "X-Namespace": namespace}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# --- running mixops ----------------------------------------------------------------


def mixops(root: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "mixops", "--no-color", "-C", str(root), *args]


def cli_env() -> dict[str, str]:
    return {**os.environ, KEY_VAR: KEY, "NO_COLOR": "1", "PYTHONUNBUFFERED": "1"}


def run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(mixops(root, *args), env=cli_env(), capture_output=True, text=True, timeout=300)


@dataclass
class Killed:
    delay: float
    killed: bool
    lines: list[str] = field(default_factory=list)


def apply_and_kill(
    root: Path, env: str, delay: float, parallelism: int, *, from_plan: bool, after: str | None = None
) -> Killed:
    """Start an apply and SIGKILL it `delay` seconds later (if it is still running).

    With `from_plan`, the delay counts from the moment the plan is printed (the
    steps start right after), so the kill lands among the API writes; otherwise
    from the start of the process (start-up, lease, live read, plan, steps). With
    `after`, from the moment a line starting with it is printed.
    """
    proc = subprocess.Popen(
        mixops(root, "apply", "--env", env, "--auto-approve", "--parallelism", str(parallelism)),
        env=cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    planned = threading.Event()

    mark = after or "Plan:"

    def read() -> None:
        for line in proc.stdout or []:
            lines.append(line)
            if line.startswith(mark):
                planned.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    if from_plan or after:
        planned.wait(timeout=120)
    try:
        proc.wait(timeout=delay)
        killed = False
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        killed = True
    reader.join(timeout=5)
    assert proc.stdout is not None
    proc.stdout.close()
    return Killed(delay, killed, [ln.rstrip() for ln in lines])


def timed_apply(root: Path, env: str) -> tuple[float, float, list[str]]:
    """An uninterrupted apply: seconds from the plan to its last step line, whole run, step lines."""
    start = time.monotonic()
    proc = subprocess.Popen(
        mixops(root, "apply", "--env", env, "--auto-approve"),
        env=cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    planned = last = 0.0
    steps: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("Plan:"):
            planned = time.monotonic()
        elif is_step_line(line):
            last = time.monotonic()
            steps.append(line.rstrip())
    proc.wait()
    proc.stdout.close()
    if proc.returncode != 0:
        raise RuntimeError(f"calibration apply failed with exit {proc.returncode}")
    return max(last - planned, 0.0), time.monotonic() - start, steps


def is_step_line(line: str) -> bool:
    return line[:1] in "+~-" and ": " in line


# --- checks ------------------------------------------------------------------------


def declared(root: Path, env: str) -> dict[str, set[str]]:
    from mixops.ports.project import load_project, load_stack

    stack = load_stack(load_project(root), env)
    return {kind: set(stack.resources(kind)) for kind in KINDS}  # type: ignore[arg-type]


def listing(server: Server, namespace: str) -> dict[str, list[dict[str, Any]]]:
    with server.client(namespace) as client:
        out = {}
        for kind in KINDS:
            body = client.post(f"/v1/{PATHS[kind]}/list", params={"limit": 1000}, json={}).raise_for_status().json()
            out[kind] = body["results"]
    return out


def document_count(server: Server, namespace: str, collection_id: str) -> int:
    with server.client(namespace) as client:
        body = {"limit": 1, "include_total": True}
        found = client.post(f"/v1/collections/{collection_id}/documents/list", json=body).raise_for_status()
    return int(found.json()["total_documents"])


def application_problems(server: Server, env: str, rows: dict[str, list[dict[str, Any]]]) -> list[str]:
    """Each collection applying product_tags holds one entry, naming its live id, recorded as this
    stack's, and its seed documents exactly once (loaded inside the create, never twice)."""
    problems = []
    tags = next((t for t in rows["taxonomy"] if t["taxonomy_name"] == "product_tags"), None)
    collections = {c["collection_name"]: c for c in rows["collection"]}
    for name, documents in APPLIED.items():
        col = collections.get(name)
        if col is None or tags is None:
            continue  # reported as an owned/declared mismatch
        entries = [e.get("taxonomy_id") for e in col.get("taxonomy_applications") or []]
        if entries != [tags["taxonomy_id"]]:
            problems.append(f"collection {name} applies {entries}, not exactly product_tags ({tags['taxonomy_id']})")
        records = (col.get("metadata") or {}).get("mixops_applications") or {}
        if records.get(f"taxonomy:{tags['taxonomy_id']}") != STACK:
            problems.append(f"collection {name}: the product_tags entry is not recorded as {STACK}'s: {records}")
        held = document_count(server, env, col["collection_id"])
        if held != documents:
            problems.append(f"collection {name} holds {held} documents, not its {documents} seed documents")
    return problems


def check(server: Server, root: Path, env: str, sentinel: dict[str, Any]) -> list[str]:
    """Everything that must hold after the re-run; an empty list means converged."""
    problems = []
    planned = run(root, "plan", "--env", env, "--detailed-exitcode")
    if planned.returncode != 0:
        problems.append(f"plan after the re-run exited {planned.returncode}:\n{planned.stdout}{planned.stderr}")
    rows = listing(server, env)
    want = declared(root, env)
    for kind in KINDS:
        names = [r[f"{kind}_name"] for r in rows[kind]]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            problems.append(f"duplicate {kind} names: {dupes}")
        temps = [n for n in names if n.endswith(TEMP_SUFFIX)]
        if temps:
            problems.append(f"temporary {kind}s left: {temps}")
        owned = {r[f"{kind}_name"] for r in rows[kind] if (r.get("metadata") or {}).get("mixops_stack") == STACK}
        if owned != want[kind]:
            problems.append(f"owned {kind}s {sorted(owned)} != declared {sorted(want[kind])}")
    retrievers = {r["retriever_name"]: r for r in rows["retriever"]}
    for tax, ret in (("product_tags", "tag_matcher"), ("extra_tags", "extra_matcher_0")):
        row = next((t for t in rows["taxonomy"] if t["taxonomy_name"] == tax), None)
        if row is None or ret not in retrievers:
            continue  # reported above
        if row["config"]["retriever_id"] != retrievers[ret]["retriever_id"]:
            problems.append(f"taxonomy {tax} points at {row['config']['retriever_id']}, not {ret}'s id")
    problems += application_problems(server, env, rows)
    if retrievers.get("hand_made") != sentinel:
        problems.append("the unowned retriever hand_made was changed or deleted")
    locks = [r["retriever_name"] for r in rows["retriever"] if r["retriever_name"].startswith("mixops_lock_")]
    if locks:
        problems.append(f"lease left behind after a completed apply: {locks}")
    return problems


def break_lease(server: Server, namespace: str) -> bool:
    with server.client(namespace) as client:
        return client.delete(f"/v1/retrievers/mixops_lock_{STACK}").status_code < 300


SENTINEL_BODY = {
    "retriever_name": "hand_made",
    "collection_identifiers": ["products"],
    "stages": [{"stage_name": "s", "stage_type": "filter", "config": {"stage_id": "feature_search", "parameters": {
        "searches": [{"feature_uri": "mixpeek://text_extractor@v1/embedding",
                      "query": {"input_mode": "text", "value": "{{INPUT.q}}"}, "top_k": 5}]}}}],
}  # fmt: skip


def create_sentinel(server: Server, namespace: str) -> dict[str, Any]:
    with server.client(namespace) as client:
        client.post("/v1/retrievers", json=SENTINEL_BODY).raise_for_status()
        rows = client.post("/v1/retrievers/list", json={}).raise_for_status().json()["results"]
    return next(r for r in rows if r["retriever_name"] == "hand_made")


# --- the trials --------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seed", type=int, default=None, help="random seed (printed when not given)")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.randrange(1_000_000)
    rng = random.Random(seed)
    print(f"kill test: {args.trials} trials, seed {seed}", flush=True)
    namespaces = ["kill-calibrate", *(f"kill-{i}" for i in range(args.trials))]
    with tempfile.TemporaryDirectory(prefix="mixops-kill-") as tmp:
        work = Path(tmp)
        server = Server(work, namespaces)
        try:
            base, changed = make_projects(work, server.url, namespaces)
            if run(base, "apply", "--env", "kill-calibrate", "--auto-approve").returncode != 0:
                raise RuntimeError("the baseline apply failed")
            steps_time, total, step_lines = timed_apply(changed, "kill-calibrate")
            step_count = len(step_lines)
            steps_window = steps_time * 1.3 + 0.05
            of_collections = [ln for ln in step_lines if ln.split(" ", 2)[1] in ("collection", "application")]
            print(
                f"uninterrupted changed apply: {step_count} steps ({len(of_collections)} of collections and "
                f"their applications) in {steps_time:.2f}s after the plan is printed, {total:.2f}s in all; "
                f"kills at 0-{steps_window:.2f}s after the plan (3 trials in 4) or 0-{total:.2f}s after start",
                flush=True,
            )
            for line in of_collections:
                print(f"    {line}", flush=True)
            failures = 0
            killed_mid = 0
            for i in range(args.trials):
                env = f"kill-{i}"
                baseline = run(base, "apply", "--env", env, "--auto-approve")
                if baseline.returncode != 0:
                    raise RuntimeError(f"baseline apply of {env} failed:\n{baseline.stdout}{baseline.stderr}")
                sentinel = create_sentinel(server, env)
                parallelism = rng.choice((1, 2, 8))
                from_plan = rng.random() < 0.75
                delay = rng.uniform(0, steps_window if from_plan else total)
                after = None
                if i == 0:
                    # The first trial kills as soon as the plan is printed, as the first writes start:
                    # so every run has a kill, however fast this machine finishes the steps.
                    from_plan, delay = True, 0.0
                elif i == 1:
                    # The second, as soon as `reviews` is created: between the create (its documents
                    # loaded inside it) and the PATCH attaching product_tags to it.
                    after, delay, parallelism = "+ collection reviews: created", 0.0, 1
                outcome = apply_and_kill(changed, env, delay, parallelism, from_plan=from_plan, after=after)
                steps = [ln for ln in outcome.lines if is_step_line(ln)]
                if outcome.killed and 0 < len(steps) < step_count:
                    killed_mid += 1
                broke = break_lease(server, env) if outcome.killed else False
                rerun = run(changed, "apply", "--env", env, "--auto-approve")
                problems = [] if rerun.returncode == 0 else [f"re-run exited {rerun.returncode}:\n{rerun.stdout}"
                                                             f"{rerun.stderr}"]  # fmt: skip
                problems += check(server, changed, env, sentinel)
                state = "killed" if outcome.killed else "finished"
                since = f"{after!r}" if after else "the plan" if from_plan else "start"
                print(
                    f"trial {i:2d}: parallelism {parallelism}, {state} {outcome.delay:.2f}s after {since}, "
                    f"{len(steps)} step line(s){' (stale lease removed)' if broke else ''}; re-run "
                    f"{len(rerun.stdout.splitlines())} lines -> {'converged' if not problems else 'FAILED'}",
                    flush=True,
                )
                for p in problems:
                    print("    " + p.replace("\n", "\n    "), flush=True)
                failures += bool(problems)
        finally:
            server.stop()
    print(
        f"{args.trials - failures}/{args.trials} trials converged ({killed_mid} killed between two steps of the apply)",
        flush=True,
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
