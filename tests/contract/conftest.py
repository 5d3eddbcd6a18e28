"""The end-to-end flows of mixops, run once per session with every request recorded.

A copy of the catalog example on the embedded local backend goes through what a
user does: validate, plan, apply (with its tests), test, an empty plan, an update
/ new version / replacement / prune round, drift, export, and a promotion to a
second namespace. The contract tests then judge every recorded request.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from tests.contract.reads import Reads, tracking_reads
from tests.contract.recorder import Call, recording

from mixops.cli.main import cli

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "catalog"


@dataclass
class Flows:
    calls: list[Call] = field(default_factory=list)
    by_flow: dict[str, list[Call]] = field(default_factory=dict)
    exit_codes: dict[str, int] = field(default_factory=dict)
    reads: Reads = field(default_factory=set)
    # Names the flows' own manifests declare beyond the example's (the collections flow).
    declared: set[str] = field(default_factory=set)


def _edit(root: Path, file: str, change: Callable[[dict[str, Any]], None]) -> None:
    path = root / "manifests" / file
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def _named(items: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(i for i in items if i.get("name") == name)


def _round_edits(root: Path) -> None:
    """One of each kind of change: in place, new version, replacement, prune."""

    def retrievers(data: dict[str, Any]) -> None:
        _named(data["retrievers"], "product_search")["description"] = "Storefront search (edited)"  # in place
        _named(data["retrievers"], "department_matcher")["budget_limits"] = {"max_credits": 7}  # replacement
        data["retrievers"] = [r for r in data["retrievers"] if r["name"] != "hybrid_product_search"]  # prune

    def taxonomies(data: dict[str, Any]) -> None:
        _named(data["taxonomies"], "product_tags")["config"]["top_k"] = 3  # new version

    def clusters(data: dict[str, Any]) -> None:
        _named(data["clusters"], "brand_groups")["description"] = "Brands (edited)"  # in place

    def tests(data: dict[str, Any]) -> None:
        data["tests"] = [t for t in data["tests"] if t.get("retriever") != "hybrid_product_search"]

    def collections(data: dict[str, Any]) -> None:
        _named(data["collections"], "categories")["description"] = "Category nodes (edited)"  # in place

    _edit(root, "retrievers.yaml", retrievers)
    _edit(root, "taxonomies.yaml", taxonomies)
    _edit(root, "clusters.yaml", clusters)
    _edit(root, "tests.yaml", tests)
    _edit(root, "collections.yaml", collections)


REVIEWS: dict[str, Any] = {
    "name": "reviews",
    "description": "Product reviews",
    "source": {"type": "collection", "collection_id": "tag_catalog"},  # a documented source type
    "feature_extractor": {
        "feature_extractor_name": "text_extractor",
        "version": "v1",
        "input_mappings": {"text": ["title"]},
    },
    "taxonomy_applications": [{"taxonomy_id": "product_tags", "backfill": True}],
}


def _collection_flows(root: Path, run: Callable[..., None], out: Flows) -> None:
    """The collection routes mixops sends, on a project of its own (a copy of the example with a
    `reviews` collection): create, attach an entry, backfill it (apply-taxonomy, then the task),
    stamp, count documents, replace (create under a temporary name, re-attach, delete, rename),
    detach the entry, and delete the collection."""
    out.declared.add("reviews")
    path = root / "manifests" / "reviews.yaml"

    def declare(**changes: Any) -> None:
        spec = {k: v for k, v in {**REVIEWS, **changes}.items() if v is not None}
        path.write_text(yaml.safe_dump({"version": "1.0", "collections": [spec]}, sort_keys=False), "utf-8")

    declare()
    run("collections apply", "apply", "--auto-approve", "--no-tests")
    run("collections backfill", "apply", "--auto-approve", "--no-tests", "--backfill", "reviews/product_tags")
    extractor = {**REVIEWS["feature_extractor"], "input_mappings": {"text": ["title", "body"]}}
    declare(feature_extractor=extractor)
    run("collections replace", "apply", "--auto-approve", "--no-tests", "--allow-data-loss")
    declare(feature_extractor=extractor, taxonomy_applications=None)
    run("collections detach", "apply", "--auto-approve", "--no-tests", "--prune")
    path.unlink()
    run("collections delete", "apply", "--auto-approve", "--no-tests", "--prune", "--allow-data-loss")


@pytest.fixture(scope="session")
def flows(tmp_path_factory: pytest.TempPathFactory) -> Flows:
    root = tmp_path_factory.mktemp("contract") / "catalog"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".mixops", "__pycache__"))
    config = yaml.safe_load((root / "mixops.yaml").read_text(encoding="utf-8"))
    local = config["environments"]["local"]
    config["environments"]["promo"] = {**local, "namespace": "catalog-promo"}
    (root / "mixops.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")

    collections_root = tmp_path_factory.mktemp("contract-collections") / "catalog"
    shutil.copytree(EXAMPLE, collections_root, ignore=shutil.ignore_patterns(".mixops", "__pycache__"))

    out = Flows()
    runner = CliRunner()

    def run_in(project: Path, flow: str, *args: str) -> None:
        start = len(out.calls)
        result = runner.invoke(cli, ["--no-color", "-C", str(project), *args], catch_exceptions=False)
        out.by_flow[flow] = out.calls[start:]
        out.exit_codes[flow] = result.exit_code
        assert result.exit_code == 0, f"{flow}: exit {result.exit_code}\n{result.output}"

    def run(flow: str, *args: str) -> None:
        run_in(root, flow, *args)

    def run_there(flow: str, *args: str) -> None:
        run_in(collections_root, flow, *args)

    with recording(out.calls), tracking_reads(out.reads):
        run("validate", "validate")
        run("plan", "plan")
        run("apply", "apply", "--auto-approve", "--tests", "all")
        run("test", "test")
        run("empty plan", "plan", "--detailed-exitcode")
        _round_edits(root)
        run("round plan", "plan", "--prune")
        run("round apply", "apply", "--auto-approve", "--prune", "--tests", "all")
        run("drift", "drift")
        run("export", "export", "-o", str(root / "exported"))
        run("promote", "promote", "--from", "local", "--to", "promo", "--auto-approve")
        _collection_flows(collections_root, run_there, out)
    return out
