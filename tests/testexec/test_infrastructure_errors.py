"""An unavailable API is an error (exit 1), never a test verdict (exit 3); transient faults are retried."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.testexec.conftest import edit, mixops, named

import mixops.local.inprocess as inprocess

BY_ID = re.compile(r"^/v1/retrievers/[^/]+/execute$")
AD_HOC = re.compile(r"^/v1/retrievers/execute$")


@dataclass
class Faults:
    """Which POSTs answer 503, how many times, and how many were refused so far."""

    path: re.Pattern[str] = BY_ID
    failures: int = 0
    refused: int = 0
    status: int = 503
    method: str = "POST"


class Unavailable(httpx.AsyncBaseTransport):
    """The local backend, except that matching POSTs answer 503 the first `failures` times."""

    def __init__(self, inner: httpx.AsyncBaseTransport, faults: Faults) -> None:
        self.inner = inner
        self.faults = faults

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        faults = self.faults
        matches = request.method == faults.method and faults.path.match(request.url.path)
        if matches and faults.refused < faults.failures:
            faults.refused += 1
            error = {"message": "refused by the test", "type": "unavailable" if faults.status == 503 else "not_found"}
            body = {"success": False, "status": faults.status, "error": error}
            # Retry-After: 0 keeps the client's retries instant.
            return httpx.Response(faults.status, json=body, headers={"Retry-After": "0"})
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.fixture
def faults(monkeypatch: pytest.MonkeyPatch) -> Faults:
    """Every client connected to the embedded backend from now on meets these faults."""
    shared = Faults()
    real = inprocess.local_transport

    def wrapped(*args: Any, **kwargs: Any) -> httpx.AsyncBaseTransport:
        return Unavailable(real(*args, **kwargs), shared)

    monkeypatch.setattr(inprocess, "local_transport", wrapped)
    return shared


def test_a_503_that_persists_is_an_error_not_a_failed_test(applied: Path, faults: Faults) -> None:
    faults.failures = 1000
    result = mixops(applied, "test", "-k", "tag matcher finds the waterproof tag")
    assert result.exit_code == 1, result.output
    assert "ERROR  tag matcher finds the waterproof tag" in result.stdout
    assert "FAIL" not in result.stdout and "HTTP 503" in result.stdout
    assert faults.refused == 6  # the client retried before giving up: 1 try + 5 retries


def test_a_transient_503_is_retried_and_the_test_passes(applied: Path, faults: Faults) -> None:
    faults.failures = 2
    result = mixops(applied, "test", "-k", "tag matcher finds the waterproof tag")
    assert result.exit_code == 0, result.output
    assert "PASS  tag matcher finds the waterproof tag" in result.stdout
    assert faults.refused == 2


def test_plan_and_apply_report_an_unavailable_execute_as_an_error(applied: Path, faults: Faults) -> None:
    # A changed retriever runs ad hoc against its desired config: that execution is refused.
    edit(
        applied,
        "manifests/retrievers.yaml",
        lambda d: named(d["retrievers"], "product_search").update(description="Storefront search, reworded."),
    )
    faults.path, faults.failures = AD_HOC, 1000
    result = mixops(applied, "plan", "--format", "json")
    assert result.exit_code == 1, result.output
    tests = json.loads(result.stdout)["tests"]
    assert tests and all(t["status"] == "error" and "HTTP 503" in t["reason"] for t in tests)
    # After apply the tests run by id: refused too, the apply exits 1, not 3.
    faults.path, faults.refused = BY_ID, 0
    applied_run = mixops(applied, "apply", "--auto-approve")
    assert applied_run.exit_code == 1, applied_run.output
    assert "Apply complete" in applied_run.stdout and "ERROR  running shoes come first" in applied_run.stdout


class Interrupted(httpx.AsyncBaseTransport):
    """The local backend, except that every task reads as INTERRUPTED."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method == "GET" and request.url.path.startswith("/v1/tasks/"):
            await response.aread()
            return httpx.Response(response.status_code, json={**response.json(), "status": "INTERRUPTED"})
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def test_an_interrupted_cluster_task_ends_the_test_as_an_error(applied: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = inprocess.local_transport
    monkeypatch.setattr(inprocess, "local_transport", lambda *a, **kw: Interrupted(real(*a, **kw)))
    result = mixops(applied, "test", "-k", "brand groups")
    assert result.exit_code == 1, result.output
    assert "ERROR  brand groups follow the brand" in result.stdout
    assert "ended INTERRUPTED instead of COMPLETED" in result.stdout


# --- a capability the API lacks: the test is skipped with the reason, never failed -------------


def test_no_adhoc_clustering_skips_the_plan_time_cluster_tests(collections_only: Path, faults: Faults) -> None:
    faults.path, faults.status, faults.failures = re.compile(r"^/v1/clusters/execute$"), 404, 1000
    result = mixops(collections_only, "plan", "--format", "json")
    assert result.exit_code == 0, result.output
    clusters = [t for t in json.loads(result.stdout)["tests"] if t["kind"] == "cluster"]
    assert len(clusters) == 2
    for test in clusters:
        assert test["status"] == "skipped" and "does not offer ad-hoc clustering" in test["reason"], test
    assert "warning: test 'product groups stay coherent' was skipped: the API does not offer" in result.stderr


def test_no_taxonomy_execute_skips_taxonomy_tests_after_apply(applied: Path, faults: Faults) -> None:
    faults.path, faults.status, faults.failures = re.compile(r"^/v1/taxonomies/[^/]+/execute$"), 405, 1000
    result = mixops(applied, "test", "-k", "sample titles")
    assert result.exit_code == 0, result.output
    assert "2 passed" not in result.stdout and "0 passed, 0 failed, 2 skipped" in result.stdout
    assert "does not offer the on-demand taxonomy execute" in result.stdout


def test_no_execution_record_uses_the_execute_response(applied: Path, faults: Faults) -> None:
    faults.path, faults.method, faults.status = re.compile(r"^/v1/retrievers/[^/]+/executions/"), "GET", 404
    faults.failures = 1000
    result = mixops(applied, "test", "-k", "tag matcher")
    assert result.exit_code == 0, result.output
    assert "2 passed" in result.stdout and faults.refused == 2
