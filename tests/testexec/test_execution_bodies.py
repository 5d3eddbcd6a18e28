"""Every execution a test sends fits the SDK's request model (or seed 003's fields), at any depth."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from mixpeek.models.adhoc_execute_request import AdhocExecuteRequest
from mixpeek.models.execute_retriever_request import ExecuteRetrieverRequest
from mixpeek.models.execute_taxonomy_request import ExecuteTaxonomyRequest
from tests.testexec.conftest import edit, mixops, named, outcomes_by_name, plan_json
from tests.testexec.sdk_check import off_contract

import mixops.local.inprocess as inprocess

# Seed 003 (POST /v1/clusters/execute) is the only document of ad-hoc clustering.
SEED_003 = {"collection_ids", "config", "namespace_id", "internal_id", "sample_size", "store_results",
            "include_members", "compute_metrics", "save_artifacts"}  # fmt: skip
SEED_003_CONFIG = {"algorithm", "algorithm_params", "feature_vector", "attribute_config", "normalize_features",
                   "description", "llm_labeling"}  # fmt: skip
TAXONOMY_EXECUTE = re.compile(r"^/v1/taxonomies/([^/]+)/execute$")
RETRIEVER_EXECUTE = re.compile(r"^/v1/retrievers/[^/]+/execute$")


class Recorder(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport, sent: list[tuple[str, dict[str, Any]]]) -> None:
        self.inner, self.sent = inner, sent

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/execute"):
            body = json.loads(request.content or b"{}")
            self.sent.append((request.url.path, body))
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    calls: list[tuple[str, dict[str, Any]]] = []
    real = inprocess.local_transport
    monkeypatch.setattr(inprocess, "local_transport", lambda *a, **kw: Recorder(real(*a, **kw), calls))
    return calls


def problems(path: str, body: dict[str, Any]) -> list[str]:
    if TAXONOMY_EXECUTE.match(path):
        return off_contract(ExecuteTaxonomyRequest, body)
    if path == "/v1/retrievers/execute":
        return off_contract(AdhocExecuteRequest, body)
    if RETRIEVER_EXECUTE.match(path):
        return off_contract(ExecuteRetrieverRequest, body)
    if path == "/v1/clusters/execute":
        return [f"undeclared key {k}" for k in sorted(set(body) - SEED_003)] + [
            f"undeclared key config.{k}" for k in sorted(set(body.get("config") or {}) - SEED_003_CONFIG)
        ]
    return []  # cluster execute by id: no body


def narrower_tag_matcher(data: dict[str, Any]) -> None:
    named(data["retrievers"], "tag_matcher")["stages"][0]["config"]["parameters"]["final_top_k"] = 1


def test_plan_apply_and_test_send_only_documented_bodies(applied: Path, sent: list[tuple[str, Any]]) -> None:
    # The taxonomy's retriever changes: the plan sends the desired one as the execute's override.
    edit(applied, "manifests/retrievers.yaml", narrower_tag_matcher)
    code, plan = plan_json(applied, "--tests", "all")
    assert code == 3, plan  # the narrower matcher loses a tag: the test says so
    assert mixops(applied, "apply", "--auto-approve", "--tests", "all").exit_code == 3
    assert mixops(applied, "test").exit_code == 3
    paths = {p for p, _ in sent}
    assert any(TAXONOMY_EXECUTE.match(p) for p in paths) and "/v1/clusters/execute" in paths
    overrides = [b for p, b in sent if TAXONOMY_EXECUTE.match(p) and "retriever" in b]
    assert overrides and all(b["retriever"]["stages"][0]["stage_id"] for b in overrides)
    off = {f"{p}: {problem}" for p, b in sent for problem in problems(p, b)}
    assert not off, sorted(off)


def test_every_taxonomy_execute_names_an_existing_taxonomy_by_id(fresh: Path, sent: list[tuple[str, Any]]) -> None:
    # Nothing exists yet: a taxonomy test is skipped, saying why, instead of executing by name.
    code, plan = plan_json(fresh)
    assert code == 0
    tests = outcomes_by_name(plan)
    titles = tests["sample titles get their tags"]
    assert titles["status"] == "skipped" and "does not exist yet" in titles["reason"]
    assert not [p for p, _ in sent if TAXONOMY_EXECUTE.match(p)]
    applied = mixops(fresh, "apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    ids = [m.group(1) for p, _ in sent if (m := TAXONOMY_EXECUTE.match(p))]
    assert ids and all(i.startswith("tax_") for i in ids)


def test_the_sdk_check_refuses_the_shapes_sent_before() -> None:
    # The create shape in an override and an execute without `taxonomy`: both are off contract.
    before = {"join_mode": "on_demand", "source_documents": [{"title": "x"}],
              "retriever": {"retriever_name": "r", "collection_ids": ["c"], "input_schema": {},
                            "stages": [{"stage_name": "s", "stage_type": "filter",
                                        "config": {"stage_id": "feature_search", "parameters": {}}}]}}  # fmt: skip
    found = off_contract(ExecuteTaxonomyRequest, before)
    assert found and "taxonomy" in found[0]
    config = {"taxonomy_type": "flat", "retriever_id": "ret_1", "source_collection": {"collection_id": "col_1"},
              "input_mappings": [{"input_key": "query", "source_type": "payload", "path": "title"}]}  # fmt: skip
    with_taxonomy = {**before, "taxonomy": {"taxonomy_name": "t", "config": config}}
    assert "undeclared key retriever.stages[0].config" in off_contract(ExecuteTaxonomyRequest, with_taxonomy)
