"""`mixops doctor`: the read-only preflight (issue 12 item 6).

The catalog example against the embedded backend, then the same project seen
through a client whose server answers as a real API might: a refused key, a
namespace that does not exist or does not resolve, capabilities that are absent.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result
from tests.support.example import apply_collections_only

from mixops.cli.main import cli
from mixops.core.readiness import STATUSES, Readiness
from mixops.ports.client import MixpeekClient
from mixops.ports.doctor import run_doctor
from mixops.ports.project import load_project
from mixops.ports.target import LOCAL_KEY, LOCAL_URL

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "catalog"
NAMESPACE = "catalog-local"

GHOST = """\
version: "1.0"
retrievers:
  - name: ghost_search
    collection_identifiers: [ghost_items]
    input_schema: {query: {type: text, required: true}}
    stages:
      - stage_name: search
        stage_type: filter
        config:
          stage_id: feature_search
          parameters:
            searches:
              - feature_uri: mixpeek://text_extractor@v1/embedding
                query: {input_mode: text, value: "{{INPUT.query}}"}
                top_k: 10
            final_top_k: 5
"""


def doctor(project: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["-C", str(project), "doctor", *args], env={"NO_COLOR": "1"})


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The catalog example with its collections applied (documents loaded); nothing else yet."""
    root = tmp_path_factory.mktemp("seeded") / "catalog"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".mixops"))
    asyncio.run(apply_collections_only(root))
    return root


@pytest.fixture
def fresh(tmp_path: Path) -> Path:
    root = tmp_path / "fresh"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".mixops"))
    return root


@pytest.fixture
def project(seeded: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "catalog"
    shutil.copytree(seeded, dest)
    return dest


def db_dump(project: Path) -> list[str]:
    con = sqlite3.connect(project / ".mixops" / "local.db")
    try:
        return list(con.iterdump())
    finally:
        con.close()


def test_the_example_is_ready_locally(project: Path) -> None:
    result = doctor(project)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "namespace 'catalog-local'" in out.splitlines()[0]
    # The collections are declared (apply keeps them as the manifests say): no existence rows,
    # but the features the other resources read from them are checked.
    assert not [line for line in out.splitlines() if line.strip().startswith("collections   collection ")]
    for collection in ("products", "tag_catalog", "departments", "categories"):
        row = next(line for line in out.splitlines() if f"@v1/embedding on {collection} " in line)
        assert " ok " in row, row
    assert "feature mixpeek://text_extractor@v1/embedding on products" in out
    assert "can be made: 10 create, 0 update, 0 version, 0 replace, 0 delete, 4 unchanged" in out
    assert "valid: 4 collections, 1 application, 5 retrievers, 2 taxonomies, 2 clusters, 19 tests" in out
    assert "Ready: nothing checked here would make `mixops apply` fail" in out
    assert " ! " not in out  # no blocking row


def test_a_fresh_namespace_is_ready_and_nothing_is_probed_against_collections_not_made_yet(fresh: Path) -> None:
    # The example's first run: apply will create the collections the rest reads.
    result = doctor(fresh, "--probe-execute", "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["ready"] is True and report["blocking"] == []
    found = {c["item"]: c for c in report["checks"]}
    assert found["manifests"]["detail"].startswith("valid: 4 collections, ")
    assert found["plan"]["detail"] == "can be made: 14 create, 0 update, 0 version, 0 replace, 0 delete, 0 unchanged"
    # Not "absent": the run would be refused only because `products` does not exist yet.
    clustering = found["ad-hoc clustering"]
    assert clustering["status"] == "unknown", clustering
    assert "reads collection 'products', which does not exist yet (apply first)" in clustering["detail"]
    # The outputs of the feature URIs on the collections to be created are known before apply.
    catalog = found["extractor catalog"]
    assert catalog["status"] == "present" and "lists the outputs of text_extractor v1" in catalog["detail"]


def test_json_report(project: Path) -> None:
    result = doctor(project, "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["ready"] is True and report["blocking"] == []
    assert report["environment"] == "local" and report["namespace"] == NAMESPACE
    assert {c["status"] for c in report["checks"]} <= set(STATUSES)
    by_item = {c["item"]: c for c in report["checks"]}
    assert by_item["feature mixpeek://text_extractor@v1/embedding on products"]["status"] == "ok"
    # Knowing it would take a (billed) clustering run: not probed unless asked.
    assert by_item["ad-hoc clustering"]["status"] == "unknown"
    assert "--probe-execute" in by_item["ad-hoc clustering"]["detail"]
    # The default `lock: none`: no lease is taken, so none is needed.
    assert by_item["apply lease"]["status"] == "not needed" and "lock: none" in by_item["apply lease"]["detail"]


def test_a_missing_collection_exits_1_naming_it(project: Path) -> None:
    (project / "manifests" / "ghost.yaml").write_text(GHOST, encoding="utf-8")
    result = doctor(project)
    assert result.exit_code == 1, result.output
    out = result.output
    row = next(line for line in out.splitlines() if "collection ghost_items" in line)
    assert "missing !" in row
    assert "Not ready: `mixops apply` would fail on 1 problem" in out
    assert "collection 'ghost_items' does not exist in namespace 'catalog-local'" in out.split("Not ready")[1]
    # The plan's own check found the same thing: it is not reported twice.
    assert "cannot be made until the collections above exist" in out


def test_a_missing_feature_exits_1_naming_it(project: Path) -> None:
    text = GHOST.replace("ghost_items", "products").replace("@v1/embedding", "@v1/no_such_output")
    (project / "manifests" / "ghost.yaml").write_text(text, encoding="utf-8")
    result = doctor(project, "--format", "json")
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    [blocking] = report["blocking"]
    assert blocking["item"] == "feature mixpeek://text_extractor@v1/no_such_output on products"
    assert "retriever 'ghost_search' uses feature" in blocking["detail"]


def test_invalid_manifests_block(project: Path) -> None:
    (project / "manifests" / "broken.yaml").write_text("version: '1.0'\nretrievers: [{name: 3}]\n", encoding="utf-8")
    result = doctor(project)
    assert result.exit_code == 1
    row = next(line for line in result.output.splitlines() if line.strip().startswith("manifests"))
    assert "failed !" in row and "broken.yaml" in row


@pytest.fixture
def applied(project: Path) -> Path:
    result = CliRunner().invoke(cli, ["-C", str(project), "apply", "--auto-approve", "--no-tests"])
    assert result.exit_code == 0, result.output
    return project


async def test_doctor_writes_nothing(applied: Path) -> None:
    project = applied
    before = db_dump(project)
    # Through a client on the database without its seed files: a local environment reloads
    # them on every command (idempotently, but touching timestamps), which is not the doctor's doing.
    report = await report_through(project)
    assert report.ready, report.lines()
    assert db_dump(project) == before
    # With resources live, the reads behind them are probed too.
    found = rows(report)
    assert found["GET /v1/taxonomies/{identifier}"].status == "ok"
    assert found["GET /v1/clusters/{cluster_id}/executions"].status == "ok"
    assert found["taxonomy versions"].status == "present"
    assert found["extractor catalog"].status == "not needed"  # every collection exists
    assert found["plan"].detail == "can be made: 0 create, 0 update, 0 version, 0 replace, 0 delete, 14 unchanged"


# --- through a client whose server answers like a real API would --------------------------

Rule = Callable[[httpx.Request], httpx.Response | None]


class Answering(httpx.AsyncBaseTransport):
    """The local backend, except where `rule` answers first or `headers` are added to a reply."""

    def __init__(self, inner: httpx.AsyncBaseTransport, rule: Rule, headers: Callable[[httpx.Request], dict[str, str]]):
        self.inner = inner
        self.rule = rule
        self.headers = headers

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        answer = self.rule(request)
        if answer is not None:
            return answer
        response = await self.inner.handle_async_request(request)
        extra = self.headers(request)
        if not extra:
            return response
        body = await response.aread()
        return httpx.Response(response.status_code, headers={**response.headers, **extra}, content=body)

    async def aclose(self) -> None:
        await self.inner.aclose()


def not_found(request: httpx.Request) -> httpx.Response:
    body = {"success": False, "status": 404, "error": {"message": "Not Found", "type": "not_found"}}
    return httpx.Response(404, json=body, request=request)


async def report_through(
    project: Path,
    *,
    key: str = LOCAL_KEY,
    namespace: str = NAMESPACE,
    rule: Rule = lambda _r: None,
    headers: Callable[[httpx.Request], dict[str, str]] = lambda _r: {},
    probe_execute: bool = False,
) -> Readiness:
    from mixops.local.inprocess import local_transport

    loaded = load_project(project)
    inner = local_transport(project / ".mixops" / "local.db", NAMESPACE, api_key=LOCAL_KEY)
    transport = Answering(inner, rule, headers)
    async with MixpeekClient(LOCAL_URL, api_key=key, namespace=namespace, transport=transport) as client:
        return await run_doctor(loaded, "local", client=client, probe_execute=probe_execute)


def rows(report: Readiness) -> dict[str, Any]:
    return {c.item: c for c in report.checks}


async def test_a_refused_key_blocks_and_is_never_shown(project: Path) -> None:
    wrong = "sk_wrong_key_4f9a"
    report = await report_through(project, key=wrong)
    assert not report.ready
    key_row = rows(report)["api key"]
    assert key_row.status == "failed" and key_row.blocking and "HTTP 401" in key_row.detail
    assert wrong not in "\n".join(report.lines()) + json.dumps(report.to_json())
    # Nothing else is asked once the key is refused.
    assert not any(c.area in ("routes", "capabilities") for c in report.checks)


async def test_a_namespace_that_does_not_exist_blocks(project: Path) -> None:
    report = await report_through(project, namespace="catalog-nowhere")
    row = rows(report)["namespace catalog-nowhere"]
    assert (row.status, row.blocking) == ("missing", True)
    assert rows(report)["api key"].status == "ok"
    assert "no namespace 'catalog-nowhere' for this key" in "\n".join(report.lines())


async def test_an_unresolved_namespace_blocks(project: Path) -> None:
    def unresolved(request: httpx.Request) -> dict[str, str]:
        return {"X-Namespace-Unresolved": "1"} if request.url.path.endswith("/list") else {}

    report = await report_through(project, headers=unresolved)
    row = rows(report)[f"namespace {NAMESPACE}"]
    assert row.status == "failed" and row.blocking and "X-Namespace-Unresolved" in row.detail
    assert not report.ready


async def test_ad_hoc_clustering_is_run_only_when_asked(project: Path) -> None:
    sent: list[tuple[str, str]] = []

    def rule(request: httpx.Request) -> httpx.Response | None:
        sent.append((request.method, request.url.path))
        return None

    row = rows(await report_through(project, rule=rule))["ad-hoc clustering"]
    assert row.status == "unknown" and "costs credits" in row.detail
    assert ("POST", "/v1/clusters/execute") not in sent
    row = rows(await report_through(project, rule=rule, probe_execute=True))["ad-hoc clustering"]
    assert row.status == "present"
    assert ("POST", "/v1/clusters/execute") in sent


def test_probe_execute_on_the_command_line(project: Path) -> None:
    result = doctor(project, "--probe-execute", "--format", "json")
    assert result.exit_code == 0, result.output
    found = {c["item"]: c for c in json.loads(result.output)["checks"]}
    assert found["ad-hoc clustering"]["status"] == "present"


async def test_absent_capabilities_are_reported_and_do_not_block(project: Path) -> None:
    absent = {("POST", "/v1/clusters/execute"), ("POST", "/v1/retrievers/executions/list")}

    def rule(request: httpx.Request) -> httpx.Response | None:
        return not_found(request) if (request.method, request.url.path) in absent else None

    report = await report_through(project, rule=rule, probe_execute=True)
    assert report.ready, report.lines()
    found = rows(report)
    assert found["ad-hoc clustering"].status == "absent" and not found["ad-hoc clustering"].blocking
    assert found["ad-hoc retriever execute"].status == "absent"
    assert "HTTP 404" in found["ad-hoc clustering"].detail


async def test_an_absent_extractor_catalog_is_reported_and_does_not_block(fresh: Path) -> None:
    def rule(request: httpx.Request) -> httpx.Response | None:
        return not_found(request) if request.url.path == "/v1/collections/features/extractors" else None

    report = await report_through(fresh, rule=rule)
    assert report.ready, report.lines()
    row = rows(report)["extractor catalog"]
    assert (row.status, row.blocking) == ("absent", False)
    assert row.detail.endswith("answered HTTP 404 not_found: feature URIs on collections the plan builds are "
                               "checked for their extractor only")  # fmt: skip


async def test_a_list_route_that_fails_blocks(project: Path) -> None:
    def rule(request: httpx.Request) -> httpx.Response | None:
        if request.url.path == "/v1/clusters/list":
            return httpx.Response(405, json={"success": False, "status": 405, "error": {"message": "no", "type": "x"}})
        return None

    report = await report_through(project, rule=rule)
    row = rows(report)["POST /v1/clusters/list"]
    assert row.status == "failed" and row.blocking
    assert not report.ready


def test_an_unset_key_variable_blocks_naming_it(project: Path) -> None:
    config = (project / "mixops.yaml").read_text(encoding="utf-8")
    config = config.replace("MIXPEEK_API_KEY", "MIXOPS_DOCTOR_TEST_UNSET_KEY")
    (project / "mixops.yaml").write_text(config, encoding="utf-8")
    result = doctor(project, "--env", "staging")
    assert result.exit_code == 1, result.output
    row = next(line for line in result.output.splitlines() if line.strip().startswith("access"))
    assert "connection" in row and "failed !" in row and "$MIXOPS_DOCTOR_TEST_UNSET_KEY" in row
    assert "namespace 'catalog-staging'" in result.output.splitlines()[0]


def use_lease(project: Path) -> None:
    config = (project / "mixops.yaml").read_text(encoding="utf-8")
    config = config.replace("    namespace: catalog-local\n", "    namespace: catalog-local\n    lock: lease\n", 1)
    (project / "mixops.yaml").write_text(config, encoding="utf-8")


async def test_with_lock_lease_the_lease_preflight_runs(project: Path) -> None:
    use_lease(project)
    row = rows(await report_through(project))["apply lease"]
    assert (row.status, row.blocking) == ("unknown", False)
    assert "read-only preflight passed" in row.detail and "not probed" in row.detail


async def test_a_lease_that_cannot_work_blocks(project: Path) -> None:
    use_lease(project)

    def rule(request: httpx.Request) -> httpx.Response | None:
        if request.method == "GET" and request.url.path == "/v1/retrievers/mixops_lock_catalog":
            body = {"success": False, "status": 403, "error": {"message": "not allowed", "type": "forbidden"}}
            return httpx.Response(403, json=body, request=request)
        return None

    report = await report_through(project, rule=rule)
    row = rows(report)["apply lease"]
    assert (row.status, row.blocking) == ("failed", True)
    assert "`lock: lease` cannot work here" in row.detail and not report.ready


async def test_without_taxonomy_versions_the_doctor_says_config_changes_are_replacements(
    applied: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mixops.local.app import VERSIONS_ENV

    monkeypatch.setenv(VERSIONS_ENV, "off")
    taxonomies = applied / "manifests" / "taxonomies.yaml"
    text = taxonomies.read_text(encoding="utf-8")
    assert text.count("      top_k: 2\n") == 1
    taxonomies.write_text(text.replace("      top_k: 2\n", "      top_k: 3\n"), "utf-8")
    report = await report_through(applied)
    found = rows(report)
    assert "taxonomy versions" in found, report.lines()
    versions = found["taxonomy versions"]
    assert versions.status == "absent" and not versions.blocking
    assert "answered HTTP 404" in versions.detail and "replacement (clone-and-swap)" in versions.detail
    assert "config change: a replacement (this API has no taxonomy versions)" in found["taxonomy product_tags"].detail


def test_the_plan_row_names_a_backfill(applied: Path) -> None:
    """A backfill is billed work over a collection's documents: doctor's plan row counts it as plan does."""
    collections = applied / "manifests" / "collections.yaml"
    text = collections.read_text(encoding="utf-8")
    collections.write_text(
        text.replace(
            "      - taxonomy_id: product_tags\n", "      - taxonomy_id: product_tags\n        backfill: true\n"
        ),
        encoding="utf-8",
    )
    taxonomies = applied / "manifests" / "taxonomies.yaml"
    taxonomies.write_text(taxonomies.read_text(encoding="utf-8").replace("top_k: 2", "top_k: 3", 1), encoding="utf-8")
    plan = CliRunner().invoke(cli, ["-C", str(applied), "plan", "--no-tests"])
    assert "1 backfill" in plan.output, plan.output
    result = doctor(applied)
    assert "can be made: 0 create, 0 update, 1 version, 0 replace, 0 delete, 1 backfill, 13 unchanged" in result.output
