"""The reconciler over loopback: uvicorn serving the local backend on 127.0.0.1.

One server answers normally (the CLI contract: exit codes, saved plans);
another injects faults into 30% of requests (429 with Retry-After, 503, slow
answers), like `mixops serve --fault-rate 0.3`: apply must converge through
retries and leave alone what it does not own.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from click.testing import CliRunner, Result
from tests.reconcile.conftest import (
    EXAMPLE,
    actions,
    apply,
    apply_collections_only,
    assert_converged,
    edit,
    plan,
    resource,
    retriever_body,
)
from tests.support.server import serve_in_thread

from mixops.cli.main import cli

KEY_VAR = "MIXOPS_RECONCILE_TEST_KEY"
KEY = "sk_reconcile_test"


def _server(root: Path, namespaces: list[str], fault_rate: float) -> Iterator[str]:
    """The example's seed documents given to the server for every namespace: an apply that
    creates a collection there loads them, as `mixops serve --seed` does."""
    from mixops.local.app import create_app

    data = root / "data"
    shutil.copytree(EXAMPLE / "data", data, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    seed = yaml.safe_load((data / "seed.yaml").read_text(encoding="utf-8"))
    seeds = []
    for ns in namespaces:
        path = data / f"seed-{ns}.yaml"
        path.write_text(yaml.safe_dump({**seed, "namespace": ns}, sort_keys=False), encoding="utf-8")
        seeds.append(path)
    app = create_app(root / "backend.db", api_keys=[KEY], seed_files=seeds, fault_rate=fault_rate, fault_seed=7)
    with serve_in_thread(app) as url:
        yield url
    app.state.local.close()


@pytest.fixture(scope="module")
def clean_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from _server(tmp_path_factory.mktemp("clean"), [f"cli-{i}" for i in range(4)], 0.0)


@pytest.fixture(scope="module")
def faulty_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from _server(tmp_path_factory.mktemp("faulty"), ["faulty"], 0.3)


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_VAR, KEY)
    monkeypatch.setenv("NO_COLOR", "1")


def remote_project(dest: Path, url: str, namespace: str) -> Path:
    """The example's manifests (tests left out), one environment `remote` on the server."""
    shutil.copytree(EXAMPLE / "manifests", dest / "manifests")
    (dest / "manifests" / "tests.yaml").unlink()
    env = {"api_url": url, "namespace": namespace, "api_key_env": KEY_VAR}
    config = {"stack": "catalog", "manifests": ["manifests/"], "environments": {"remote": env}}
    (dest / "mixops.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return dest


def http(url: str, namespace: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {KEY}", "X-Namespace": namespace})


def mixops(root: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--no-color", "-C", str(root), *args], catch_exceptions=False)


# --- the CLI contract over loopback -----------------------------------------------------


def test_plan_and_apply_exit_codes(tmp_path: Path, clean_url: str) -> None:
    root = remote_project(tmp_path / "p", clean_url, "cli-0")
    first = mixops(root, "plan", "--detailed-exitcode")
    assert first.exit_code == 2, first.output
    assert mixops(root, "plan").exit_code == 0  # changes, but no --detailed-exitcode

    refused = mixops(root, "apply")  # no TTY and no --auto-approve
    assert refused.exit_code == 1 and "--auto-approve" in refused.output

    applied = mixops(root, "apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert "Apply complete" in applied.output

    clean = mixops(root, "plan", "--detailed-exitcode")
    assert clean.exit_code == 0, clean.output
    assert "No changes" in clean.output
    again = mixops(root, "apply", "--auto-approve")
    assert again.exit_code == 0 and "No changes" in again.output

    assert mixops(root, "plan", "--env", "nowhere").exit_code == 1
    with http(clean_url, "cli-0") as client:
        client.delete("/v1/retrievers/hybrid_product_search").raise_for_status()
    drift = mixops(root, "plan", "--detailed-exitcode")
    assert drift.exit_code == 2 and "hybrid_product_search" in drift.output


def test_unowned_resource_is_an_error_until_adopted(tmp_path: Path, clean_url: str) -> None:
    root = remote_project(tmp_path / "p", clean_url, "cli-1")
    asyncio.run(apply_collections_only(root, "remote"))
    with http(clean_url, "cli-1") as client:
        client.post("/v1/retrievers", json=retriever_body("tag_matcher", "tag_catalog")).raise_for_status()
    refused = mixops(root, "plan")
    assert refused.exit_code == 1
    assert "tag_matcher" in refused.output and "--adopt" in refused.output
    assert mixops(root, "apply", "--auto-approve").exit_code == 1
    assert mixops(root, "apply", "--auto-approve", "--adopt").exit_code == 0
    assert mixops(root, "plan", "--detailed-exitcode").exit_code == 0


def test_stale_saved_plan_is_refused_through_the_cli(tmp_path: Path, clean_url: str) -> None:
    root = remote_project(tmp_path / "p", clean_url, "cli-2")
    assert mixops(root, "apply", "--auto-approve").exit_code == 0
    edit(root, "retrievers.yaml", lambda d: resource(d, "retrievers", "tag_matcher").update(description="new"))
    saved = tmp_path / "plan.json"
    planned = mixops(root, "plan", "--out", str(saved))
    assert planned.exit_code == 0 and saved.is_file()
    with http(clean_url, "cli-2") as client:
        client.patch("/v1/retrievers/product_search", json={"description": "changed by hand"}).raise_for_status()
    stale = mixops(root, "apply", str(saved), "--auto-approve")
    assert stale.exit_code == 1
    assert "stale" in stale.output and "retriever/product_search changed" in stale.output
    with http(clean_url, "cli-2") as client:
        row = client.get("/v1/retrievers/tag_matcher").raise_for_status().json()
    assert row["description"] != "new"  # nothing of the stale plan was applied

    fresh = mixops(root, "plan", "--out", str(saved))
    assert fresh.exit_code == 0
    assert "changed by hand" in fresh.output  # the direct change shows in the next plan
    assert mixops(root, "apply", str(saved), "--auto-approve").exit_code == 0
    assert mixops(root, "plan", "--detailed-exitcode").exit_code == 0


# --- faults ---------------------------------------------------------------------------


def _retrying(call: Any) -> Any:
    """Raw requests against the faulty server, retried the simple way."""
    for _ in range(50):
        response = call()
        if response.status_code not in (429, 503):
            return response.raise_for_status()
        time.sleep(0.05)
    raise AssertionError("the faulty server never answered")


NOTES: dict[str, Any] = {  # another team's collection, made by hand: never mixops'
    "collection_name": "notes",
    "source": {"type": "none"},
    "feature_extractor": {
        "feature_extractor_name": "text_extractor",
        "version": "v1",
        "input_mappings": {"text": ["body"]},
    },
}


def test_apply_converges_through_faults_and_touches_only_owned(tmp_path: Path, faulty_url: str) -> None:
    root = remote_project(tmp_path / "p", faulty_url, "faulty")
    with http(faulty_url, "faulty") as client:
        _retrying(lambda: client.post("/v1/collections", json=NOTES))
        _retrying(lambda: client.post("/v1/retrievers", json=retriever_body("hand_made", "notes")))
        before = {
            "retriever": _retrying(lambda: client.get("/v1/retrievers/hand_made")).json(),
            "collection": _retrying(lambda: client.get("/v1/collections/notes")).json(),
        }

    first, report = asyncio.run(apply(root, "remote"))
    # Collections created (their seed documents loaded inside the create), then the retrievers,
    # taxonomies and clusters reading them, then the application entry attached by PATCH.
    assert Counter(s.kind for s in first.changes if s.action == "create") == {
        "collection": 4,
        "application": 1,
        "retriever": 5,
        "taxonomy": 2,
        "cluster": 2,
    }
    assert report is not None and not report.failed
    with http(faulty_url, "faulty") as client:
        products = _retrying(lambda: client.get("/v1/collections/products")).json()
        counted = _retrying(
            lambda: client.post(
                f"/v1/collections/{products['collection_id']}/documents/list",
                json={"limit": 1, "include_total": True},
            )
        ).json()
        tags = _retrying(lambda: client.get("/v1/taxonomies/product_tags")).json()
    assert counted["total_documents"] == 358  # each seed document once, through retried creates
    assert [e["taxonomy_id"] for e in products["taxonomy_applications"]] == [tags["taxonomy_id"]]

    def change(data: dict[str, Any]) -> None:
        resource(data, "retrievers", "product_search")["description"] = "through faults"
        resource(data, "retrievers", "tag_matcher")["budget_limits"] = {"max_credits": 3}

    edit(root, "retrievers.yaml", change)
    edit(root, "collections.yaml", lambda d: resource(d, "collections", "categories").update(description="faults"))
    second = asyncio.run(plan(root, "remote"))
    assert actions(second) == {
        ("collection", "categories"): "update",
        ("retriever", "product_search"): "update",
        ("retriever", "tag_matcher"): "replace",
        ("taxonomy", "product_tags"): "version",
    }
    asyncio.run(apply(root, "remote", prune=True))
    asyncio.run(assert_converged(root, "remote"))
    with http(faulty_url, "faulty") as client:
        after = {
            "retriever": _retrying(lambda: client.get("/v1/retrievers/hand_made")).json(),
            "collection": _retrying(lambda: client.get("/v1/collections/notes")).json(),
        }
    assert after == before
