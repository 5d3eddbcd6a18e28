"""The whole user flow through the `mixops` CLI, against a real API or `mixops serve` (conftest.py).

One module, steps in order, each a test: the project and the two namespaces are
shared, so a step starts from the state the previous one left. Each step runs
the commands a user would type and asserts what the user would see (exit codes,
plan lines), and where the CLI does not show it, what the API now holds.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.acceptance.conftest import KEY_VAR, Target, run_mixops

pytestmark = pytest.mark.acceptance

STACK = "acceptance"
# `a` runs with the default `lock: none`, `b` (the promotion target) takes the lease.
LOCKS = {"b": {"lock": "lease"}}


def manifests(feature_uri: str) -> dict[str, dict[str, Any]]:
    """File name -> manifest document: two retrievers, a taxonomy using one, a cluster, tests."""

    def search(collection: str, final_top_k: int) -> dict[str, Any]:
        return {
            "stage_name": "search",
            "stage_type": "filter",
            "config": {
                "stage_id": "feature_search",
                "parameters": {
                    "searches": [
                        {
                            "feature_uri": feature_uri,
                            "query": {"input_mode": "text", "value": "{{INPUT.query}}"},
                            "top_k": 50,
                        }
                    ],
                    "final_top_k": final_top_k,
                },
            },
        }

    query = {"query": {"type": "text", "required": True}}
    return {
        "retrievers.yaml": {
            "version": "1.0",
            "retrievers": [
                {
                    "name": "acc_search",
                    "description": "Product search (acceptance)",
                    "collection_identifiers": ["acc_products"],
                    "input_schema": query,
                    "stages": [search("acc_products", 10)],
                },
                {
                    "name": "acc_tag_matcher",
                    "description": "Closest tag for a product title (acceptance)",
                    "collection_identifiers": ["acc_tags"],
                    "input_schema": query,
                    "stages": [search("acc_tags", 2)],
                },
            ],
        },
        "taxonomies.yaml": {
            "version": "1.0",
            "taxonomies": [
                {
                    "name": "acc_product_tags",
                    "description": "Tags products (acceptance)",
                    "config": {
                        "taxonomy_type": "flat",
                        "retriever_id": "acc_tag_matcher",
                        "input_mappings": [{"input_key": "query", "source_type": "payload", "path": "title"}],
                        "source_collection": {
                            "collection_id": "acc_tags",
                            "enrichment_fields": [{"field_path": "tag", "merge_mode": "append"}],
                        },
                        "top_k": 1,
                    },
                }
            ],
        },
        "clusters.yaml": {
            "version": "1.0",
            "clusters": [
                {
                    "name": "acc_groups",
                    "description": "Product groups (acceptance)",
                    "collection_ids": ["acc_products"],
                    "cluster_type": "vector",
                    "vector_config": {
                        "clustering_method": "kmeans",
                        "algorithm_params": {"n_clusters": 3, "random_state": 7},
                        "feature_uris": [feature_uri],
                    },
                }
            ],
        },
        "tests.yaml": {
            "version": "1.0",
            "tests": [
                {
                    "name": "running shoes come first",
                    "retriever": "acc_search",
                    "inputs": {"query": "running shoes"},
                    "expect": {"min_results": 3, "top_k": {"k": 3, "all_match": {"category": "running"}}},
                },
                {
                    "name": "boots are footwear",
                    "taxonomy": "acc_product_tags",
                    "documents": [{"title": "waterproof hiking boots"}],
                    "expect": {"fields": {0: {"tag": ["footwear"]}}},
                },
            ],
        },
    }


def write_manifests(project: Path, docs: dict[str, dict[str, Any]]) -> None:
    folder = project / "manifests"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for name, doc in docs.items():
        (folder / name).write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")


def write_config(project: Path, target: Target, envs: dict[str, str], manifest_dir: str = "manifests/") -> None:
    config = {
        "stack": STACK,
        "manifests": [manifest_dir],
        "default_environment": "a",
        "environments": {
            name: {"api_url": target.url, "namespace": ns, "api_key_env": KEY_VAR, **LOCKS.get(name, {})}
            for name, ns in envs.items()
        },
    }
    (project / "mixops.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")


class Flow:
    """The shared state of the steps: the project, its manifests as data, the API."""

    def __init__(self, target: Target, root: Path, namespaces: tuple[str, str]) -> None:
        self.target = target
        self.project = root / "project"
        self.project.mkdir(parents=True)
        self.namespaces = namespaces
        self.docs = manifests(target.feature_uri)
        write_config(self.project, target, {"a": namespaces[0], "b": namespaces[1]})
        write_manifests(self.project, self.docs)

    def mixops(self, *args: str, expect: int = 0) -> str:
        return run_mixops(self.target, self.project, *args, expect=expect)

    def save(self) -> None:
        write_manifests(self.project, self.docs)

    def resource(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        plural = {"retriever": "retrievers", "taxonomy": "taxonomies", "cluster": "clusters"}[kind]
        with self.target.client(namespace or self.namespaces[0]) as api:
            response = api.get(f"/v1/{plural}/{name}")
        if response.status_code == 404:
            return None
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def names(self, kind: str, namespace: str) -> set[str]:
        """Every name of `kind` in the namespace, whoever made it."""
        plural = {"retriever": "retrievers", "taxonomy": "taxonomies", "cluster": "clusters"}[kind]
        with self.target.client(namespace) as api:
            response = api.post(f"/v1/{plural}/list", params={"limit": 1000}, json={})
        assert response.status_code == 200, response.text
        return {row[f"{kind}_name"] for row in response.json()["results"]}

    def retriever(self, name: str) -> dict[str, Any]:
        """The manifest entry of retriever `name`, to edit in place (then `save`)."""
        found: dict[str, Any] = next(r for r in self.docs["retrievers.yaml"]["retrievers"] if r["name"] == name)
        return found


@pytest.fixture(scope="module")
def flow(target: Target, namespaces: tuple[str, str], tmp_path_factory: pytest.TempPathFactory) -> Flow:
    return Flow(target, tmp_path_factory.mktemp("acceptance"), namespaces)


def test_validate(flow: Flow) -> None:
    out = flow.mixops("validate")
    assert "valid: 2 retrievers, 1 taxonomy, 1 cluster, 2 tests in 4 files" in out


def test_doctor_before_the_first_apply(flow: Flow) -> None:
    out = flow.mixops("doctor", "--env", "a")
    assert "Ready:" in out
    assert "collection acc_products" in out and "collection acc_tags" in out


def test_plan_shows_the_creates(flow: Flow) -> None:
    out = flow.mixops("plan", "--env", "a", "--detailed-exitcode", expect=2)
    assert "Plan: 4 to create, 0 to update, 0 new versions, 0 to replace, 0 to delete" in out


def test_apply_creates_and_tests_pass(flow: Flow) -> None:
    out = flow.mixops("apply", "--env", "a", "--auto-approve")
    assert "Apply complete: 4 done, 0 failed" in out
    for kind, name in (("retriever", "acc_search"), ("taxonomy", "acc_product_tags"), ("cluster", "acc_groups")):
        assert flow.resource(kind, name) is not None, f"{kind} {name} is not in the namespace"
    # Nothing the manifests do not declare (no lease with the default `lock: none`).
    assert flow.names("retriever", flow.namespaces[0]) == {"acc_search", "acc_tag_matcher"}


def test_test_command_passes(flow: Flow) -> None:
    out = flow.mixops("test", "--env", "a")
    assert "2 passed, 0 failed" in out


def test_plan_after_apply_is_empty(flow: Flow) -> None:
    out = flow.mixops("plan", "--env", "a", "--detailed-exitcode", expect=0)
    assert "No changes" in out


def test_in_place_edit(flow: Flow) -> None:
    before = flow.resource("retriever", "acc_search")
    assert before is not None
    flow.retriever("acc_search")["description"] = "Product search, edited in place"
    flow.save()
    out = flow.mixops("plan", "--env", "a", "--detailed-exitcode", expect=2)
    assert '~ retriever "acc_search" will be updated' in out
    flow.mixops("apply", "--env", "a", "--auto-approve")
    after = flow.resource("retriever", "acc_search")
    assert after is not None and after["retriever_id"] == before["retriever_id"]
    assert after["description"] == "Product search, edited in place"
    flow.mixops("plan", "--env", "a", "--detailed-exitcode", expect=0)


def test_new_version(flow: Flow) -> None:
    before = flow.resource("taxonomy", "acc_product_tags")
    assert before is not None
    flow.docs["taxonomies.yaml"]["taxonomies"][0]["config"]["top_k"] = 2
    flow.save()
    out = flow.mixops("plan", "--env", "a", "--detailed-exitcode", expect=2)
    assert '~ taxonomy "acc_product_tags" will get a new version' in out
    flow.mixops("apply", "--env", "a", "--auto-approve")
    after = flow.resource("taxonomy", "acc_product_tags")
    assert after is not None and after["taxonomy_id"] == before["taxonomy_id"]
    flow.mixops("plan", "--env", "a", "--detailed-exitcode", expect=0)


def test_replacement_with_dependants(flow: Flow) -> None:
    old = flow.resource("retriever", "acc_tag_matcher")
    assert old is not None
    flow.retriever("acc_tag_matcher")["budget_limits"] = {"max_credits": 7.0}
    flow.save()
    out = flow.mixops("plan", "--env", "a", "--detailed-exitcode", expect=2)
    assert '-/+ retriever "acc_tag_matcher" must be replaced (budget_limits forces replacement)' in out
    assert 'taxonomy "acc_product_tags"' in out  # the dependant is re-pointed
    flow.mixops("apply", "--env", "a", "--auto-approve")
    new = flow.resource("retriever", "acc_tag_matcher")
    assert new is not None and new["retriever_id"] != old["retriever_id"]
    taxonomy = flow.resource("taxonomy", "acc_product_tags")
    assert taxonomy is not None and taxonomy["config"]["retriever_id"] == new["retriever_id"]
    flow.mixops("plan", "--env", "a", "--detailed-exitcode", expect=0)


def test_prune(flow: Flow) -> None:
    del flow.docs["clusters.yaml"]
    flow.save()
    plain = flow.mixops("plan", "--env", "a", "--detailed-exitcode", expect=0)
    assert "No changes" in plain  # without --prune, an owned resource left out of the manifests stays
    out = flow.mixops("plan", "--env", "a", "--prune", "--detailed-exitcode", expect=2)
    assert '- cluster "acc_groups" will be deleted' in out
    flow.mixops("apply", "--env", "a", "--prune", "--auto-approve")
    assert flow.resource("cluster", "acc_groups") is None
    flow.mixops("plan", "--env", "a", "--prune", "--detailed-exitcode", expect=0)


def test_drift(flow: Flow) -> None:
    flow.mixops("drift", "--env", "a", expect=0)
    live = flow.resource("retriever", "acc_search")
    assert live is not None
    with flow.target.client(flow.namespaces[0]) as api:
        response = api.patch(f"/v1/retrievers/{live['retriever_id']}", json={"description": "changed by hand"})
    assert response.status_code == 200, response.text
    out = flow.mixops("drift", "--env", "a", expect=2)
    assert "acc_search" in out and "changed out of band" in out
    flow.mixops("apply", "--env", "a", "--auto-approve")
    flow.mixops("drift", "--env", "a", expect=0)


def test_export_round_trip(flow: Flow) -> None:
    exported = flow.project.parent / "exported"
    exported.mkdir()
    write_config(exported, flow.target, {"a": flow.namespaces[0]})
    run_mixops(flow.target, exported, "export", "--env", "a", "-o", str(exported / "manifests"), expect=0)
    run_mixops(flow.target, exported, "validate", expect=0)
    out = run_mixops(flow.target, exported, "plan", "--env", "a", "--detailed-exitcode", expect=0)
    assert "No changes" in out


def test_promote_between_two_namespaces(flow: Flow) -> None:
    flow.mixops("test", "--env", "a")  # the tests of what is applied in a, recorded for promotion
    flow.mixops("promote", "--from", "a", "--to", "b", "--auto-approve")
    for kind, name in (("retriever", "acc_search"), ("retriever", "acc_tag_matcher"), ("taxonomy", "acc_product_tags")):
        assert flow.resource(kind, name, flow.namespaces[1]) is not None, f"{kind} {name} was not promoted"
    flow.mixops("plan", "--env", "b", "--detailed-exitcode", expect=0)
    flow.mixops("test", "--env", "b")
    # `b` took the lease (`lock: lease`) and released it: only declared retrievers are left.
    assert flow.names("retriever", flow.namespaces[1]) == {"acc_search", "acc_tag_matcher"}
