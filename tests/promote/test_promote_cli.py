"""Issue 13 item 5: what `mixops promote` says, in which order, and what counts as a tested source.

A project made by `mixops init`, with two local environments (two namespaces of one
embedded backend): `dev` is applied and tested, then promoted to `prod`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from tests.promote.project import add_environments

from mixops.cli.main import cli
from mixops.cli.promote_cmd import gate_line
from mixops.core.outcomes import Execution, TestOutcome
from mixops.core.plan import PlanOptions
from mixops.core.stack import Stack
from mixops.local.inprocess import local_transport
from mixops.ports.client import MixpeekClient
from mixops.ports.project import load_project
from mixops.ports.promote import promote, run_and_record
from mixops.ports.stamps import read_records
from mixops.ports.target import connect, describe


def mixops(project: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["-C", str(project), *args], env={"NO_COLOR": "1"})


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    assert mixops(tmp_path, "init", str(root)).exit_code == 0
    add_environments(root)
    return root


def lines(result: Result) -> list[str]:
    return result.output.splitlines()


def test_the_gate_line_comes_first_and_plan_only_shows_the_full_plan_and_its_tests(project: Path) -> None:
    assert mixops(project, "apply", "--env", "dev", "--auto-approve").exit_code == 0
    result = mixops(project, "promote", "--from", "dev", "--to", "prod", "--plan-only")
    assert result.exit_code == 0, result.output
    out = lines(result)
    assert out[0].startswith("'dev' runs digest ") and "tested and passing (1 passed at " in out[0]
    # The plan is the one `mixops plan --env prod` prints: header, every field, tests, summary.
    assert out[1] == "mixops plan"
    assert "  environment: prod" in out
    assert '  + retriever "article_search" will be created' in out
    assert "      + stages[0].config.parameters.final_top_k: 5" in out
    assert any(line.startswith("  passed  password questions find the reset article") for line in out)
    assert "Plan: 1 to create, 0 to update, 0 new versions, 0 to replace, 0 to delete (0 unchanged)." in out
    assert out[-1] == "Tests: 1 passed, 0 failed against the desired config."
    # --plan-only changed nothing in prod.
    again = mixops(project, "plan", "--env", "prod", "--no-tests")
    assert '  + retriever "article_search" will be created' in lines(again)


def test_promote_says_the_gate_before_the_plan_and_ends_with_test_counts(project: Path) -> None:
    assert mixops(project, "apply", "--env", "dev", "--auto-approve").exit_code == 0
    result = mixops(project, "promote", "--from", "dev", "--to", "prod", "--auto-approve")
    assert result.exit_code == 0, result.output
    out = lines(result)
    gate = next(i for i, line in enumerate(out) if line.startswith("'dev' runs digest"))
    plan = out.index("mixops plan")
    created = next(i for i, line in enumerate(out) if line.startswith("+ retriever article_search: created"))
    assert gate < plan < created
    assert out[-2].startswith("Promoted to 'prod' (shop-prod): 1 done, 0 failed, 0 not started.")
    assert out[-1] == "Tests passed in 'prod': 1 passed."
    # "1 to version" (the old compact plan) is gone: one wording for actions everywhere.
    assert "to version" not in result.output


def test_an_apply_that_ran_every_test_counts_and_one_that_ran_some_does_not(project: Path) -> None:
    # The first apply creates everything, so every test's target changed: the whole set ran.
    assert mixops(project, "apply", "--env", "dev", "--auto-approve").exit_code == 0
    assert mixops(project, "promote", "--from", "dev", "--to", "prod", "--plan-only").exit_code == 0

    # A second retriever and its test: the apply runs only the new retriever's test.
    manifest = project / "manifests" / "retrievers.yaml"
    text = manifest.read_text(encoding="utf-8")
    second = text.split("retrievers:\n", 1)[1].replace("article_search", "article_search_v2")
    manifest.write_text(text + second, encoding="utf-8")
    tests = project / "manifests" / "tests.yaml"
    body = tests.read_text(encoding="utf-8")
    tests.write_text(
        body
        + body.split("tests:\n", 1)[1]
        .replace("article_search", "article_search_v2")
        .replace("password questions", "v2 password questions"),
        encoding="utf-8",
    )
    partial = mixops(project, "apply", "--env", "dev", "--auto-approve")
    assert partial.exit_code == 0, partial.output
    assert "Tests against the applied resources: 1 passed" in partial.output
    assert "1 of 2 tests ran" in partial.output
    assert f"record the run for promote: mixops -C {project.as_posix()} test --env dev" in partial.output

    refused = mixops(project, "promote", "--from", "dev", "--to", "prod", "--plan-only")
    assert refused.exit_code == 1
    assert "no run of the whole test set in 'dev'" in refused.output
    # The command to run, as the user calls mixops (with -C, since the project is not the cwd).
    assert f"run them there: mixops -C {project.as_posix()} test --env dev" in refused.output

    # `apply --tests all` runs the whole set again: that run is recorded and opens the gate.
    full = mixops(project, "apply", "--env", "dev", "--auto-approve", "--tests", "all")
    assert full.exit_code == 0, full.output
    assert "Tests against the applied resources: 2 passed" in full.output
    ok = mixops(project, "promote", "--from", "dev", "--to", "prod", "--plan-only")
    assert ok.exit_code == 0, ok.output
    assert "tested and passing (2 passed at " in lines(ok)[0]


def test_a_source_that_was_never_applied_is_refused_with_the_apply_command(project: Path) -> None:
    refused = mixops(project, "promote", "--from", "dev", "--to", "prod", "--plan-only")
    assert refused.exit_code == 1
    assert f"mixops -C {project.as_posix()} apply --env dev --tests all" in refused.output


def one(status: str) -> TestOutcome:
    if status == "skipped":
        return TestOutcome.skipped("t-skip", "retriever", "article_search", "applied", "test budget: stopped")
    return TestOutcome.ran(
        f"t-{status}",
        "retriever",
        "article_search",
        "applied",
        Execution.verdict([] if status == "passed" else ["no"], {}),
    )


async def test_skipped_tests_do_not_fail_the_recorded_run_and_their_number_is_shown(project: Path) -> None:
    loaded = load_project(project, local_backend=local_transport)

    async def passed_and_skipped(client: MixpeekClient, stack: Stack, namespace: str) -> tuple[TestOutcome, ...]:
        return (one("passed"), one("skipped"))

    from mixops.ports.reconcile import plan_and_apply

    await plan_and_apply(loaded, "dev", PlanOptions(), apply=True)
    assert await run_and_record(loaded, "dev", passed_and_skipped) == (one("passed"), one("skipped"))
    async with connect(loaded, "dev") as client:
        from mixops.ports.live_reader import read_live
        from mixops.ports.project import load_stack

        records = read_records(load_stack(loaded, "dev"), await read_live(client, describe(loaded, "dev").namespace))
    assert records.tests_passed and dict(records.counts) == {"passed": 1, "skipped": 1}
    assert gate_line("dev", records) == (
        f"'dev' runs digest {records.digest}, tested and passing (1 passed, 1 skipped at {records.tested_at})."
    )
    result = await promote(loaded, "dev", "prod", PlanOptions(), test_run=passed_and_skipped)
    assert result.tests_passed is True

    async def one_failed(client: MixpeekClient, stack: Stack, namespace: str) -> tuple[TestOutcome, ...]:
        return (one("passed"), one("failed"))

    await run_and_record(loaded, "dev", one_failed)
    with pytest.raises(Exception, match=r"failed .*re-run the tests there: mixops test --env dev"):
        await promote(loaded, "dev", "prod", PlanOptions(), test_run=passed_and_skipped)
