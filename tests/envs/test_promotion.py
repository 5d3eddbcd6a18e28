"""Promotion dev -> staging -> prod on three namespaces of one `mixops serve`."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from tests.envs.conftest import Server, cli_env, make_project

from mixops.cli.main import cli
from mixops.core.outcomes import Execution, TestOutcome
from mixops.core.plan import PlanOptions
from mixops.core.stack import Stack
from mixops.local.inprocess import local_transport
from mixops.ports.client import MixpeekClient
from mixops.ports.live_reader import read_live
from mixops.ports.project import Project, load_project, load_stack
from mixops.ports.promote import PromotionRefused, promote, run_and_record
from mixops.ports.reconcile import plan_and_apply
from mixops.ports.stamps import read_records
from mixops.ports.target import connect, describe

PARAMS = {
    "dev": {"search_top_k": 12, "min_rating": 0, "num_groups": 4},
    "staging": {"search_top_k": 18, "min_rating": 2.0, "num_groups": 5},
    "prod": {"search_top_k": 9, "min_rating": 3.0, "num_groups": 6},
}


def outcome(passed: bool) -> tuple[TestOutcome, ...]:
    failures = [] if passed else ["the search returned no results, or too many"]
    return (TestOutcome.ran("search", "retriever", "product_search", "applied", Execution.verdict(failures, {})),)


async def search_returns_results(client: MixpeekClient, stack: Stack, namespace: str) -> tuple[TestOutcome, ...]:
    """A real check against the live namespace: product_search, by its id THERE, finds running shoes
    and returns no more than the environment's search_top_k."""
    live = await read_live(client, namespace)
    retriever = live.resources[("retriever", "product_search")]
    out = await client.execute_retriever(retriever.id, {"inputs": {"query": "lightweight running shoes"}})
    docs = out.get("documents") or out.get("results") or []
    return outcome(0 < len(docs) <= stack.parameters["search_top_k"])


async def always_fails(client: MixpeekClient, stack: Stack, namespace: str) -> tuple[TestOutcome, ...]:
    return outcome(False)


@pytest.fixture
def project(tmp_path: Path, server: Server) -> Project:
    envs = {
        name: {"namespace": f"cat-{name}", "parameters": PARAMS[name], **({"protect": True} if name == "prod" else {})}
        for name in ("dev", "staging", "prod")
    }
    return load_project(make_project(tmp_path, server, envs), local_backend=local_transport)


async def apply(project: Project, env: str) -> None:
    await plan_and_apply(project, env, PlanOptions(), apply=True)


async def live_spec(project: Project, env: str, kind: str, name: str) -> dict[str, object]:
    async with connect(project, env) as client:
        live = await read_live(client, describe(project, env).namespace)
    return live.resources[(kind, name)].spec


async def test_promotion_gate_and_prod_ends_equal_to_manifests(project: Project) -> None:
    # dev: applied and green; promote dev -> staging is allowed.
    await apply(project, "dev")
    assert await run_and_record(project, "dev", search_returns_results) == outcome(True)
    first = await promote(project, "dev", "staging", PlanOptions(), test_run=search_returns_results)
    assert first.report is not None and first.tests_passed is True
    assert first.plan.counts()["create"] == 14  # 4 collections, 1 application, 5 retrievers, 2 taxonomies, 2 clusters

    # staging's recorded run failed: refused, nothing happens in prod.
    await run_and_record(project, "staging", always_fails)
    with pytest.raises(PromotionRefused, match="failed"):
        await promote(project, "staging", "prod", PlanOptions(), test_run=search_returns_results)
    async with connect(project, "prod") as client:
        assert not [r for r in (await read_live(client, "cat-prod")).resources.values() if r.owner_stack]

    # staging green again, but the manifests moved on (an edit not applied to staging): refused.
    await run_and_record(project, "staging", search_returns_results)
    manifest = project.root / "manifests" / "retrievers.yaml"
    original = manifest.read_text(encoding="utf-8")
    manifest.write_text(original.replace("Semantic product search", "Semantic search (v2)", 1), encoding="utf-8")
    with pytest.raises(PromotionRefused, match="another version of the manifests"):
        await promote(project, "staging", "prod", PlanOptions(), test_run=search_returns_results)
    manifest.write_text(original, encoding="utf-8")

    # The gate open: prod gets the manifests with ITS parameters and its own ids.
    result = await promote(project, "staging", "prod", PlanOptions(), test_run=search_returns_results)
    assert result.tests_passed is True
    after, _ = await plan_and_apply(project, "prod", PlanOptions())
    assert not after.plan.has_changes
    search = await live_spec(project, "prod", "retriever", "product_search")
    stages = search["stages"]
    assert isinstance(stages, list)
    assert stages[0]["config"]["parameters"]["final_top_k"] == PARAMS["prod"]["search_top_k"]
    assert stages[1]["config"]["parameters"]["value"] == PARAMS["prod"]["min_rating"]
    groups = await live_spec(project, "prod", "cluster", "product_groups")
    assert groups["vector_config"]["algorithm_params"]["n_clusters"] == 6  # type: ignore[index]
    # The taxonomy points at prod's own retriever id, not staging's.
    async with connect(project, "prod") as client:
        prod_live = await read_live(client, "cat-prod")
    async with connect(project, "staging") as client:
        staging_live = await read_live(client, "cat-staging")
    assert (
        prod_live.resources[("retriever", "tag_matcher")].id != staging_live.resources[("retriever", "tag_matcher")].id
    )
    assert prod_live.resources[("taxonomy", "product_tags")].spec["config"]["retriever_id"] == "tag_matcher"
    # prod records its own passing run, so prod could be promoted further.
    assert read_records(load_stack(project, "prod"), prod_live).tests_passed

    # The CLI: --plan-only from staging shows no changes for prod; a refusal exits 1 and says why.
    ok = await run_cli(project, "promote", "--from", "staging", "--to", "prod", "--plan-only")
    assert ok.exit_code == 0, ok.output
    assert "No changes. Live state matches the manifests." in ok.output
    manifest.write_text(original.replace("Semantic product search", "Semantic search (v3)", 1), encoding="utf-8")
    refused = await run_cli(project, "promote", "--from", "staging", "--to", "prod", "--plan-only")
    assert refused.exit_code == 1
    assert "refused" in refused.output
    assert f"mixops -C {project.root.as_posix()} apply --env staging --tests all" in refused.output


async def run_cli(project: Project, *args: str) -> Result:
    """The CLI runs its own event loop: invoke it from a thread, not from this test's loop."""
    runner = CliRunner()
    return await asyncio.to_thread(runner.invoke, cli, ["-C", str(project.root), *args], env=cli_env())


async def test_untested_source_is_refused(project: Project) -> None:
    from mixops.ports.promote import refusal
    from mixops.ports.stamps import Records

    records = Records("d1", (), (), ("retriever 'a'",), (), 1)
    reason = refusal(records, "staging")
    assert reason is not None and "mixops test --env staging" in reason
    assert refusal(Records("d1", (), (), (), (), 1), "staging") is None
    assert refusal(Records("d1", ("retriever 'a'",), (), (), (), 1), "staging") is not None
