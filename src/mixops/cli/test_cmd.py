"""`mixops test`: run the stack's tests against the environment's applied resources."""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from mixops.cli.common import EXIT_ERROR, EXIT_TESTS_FAILED, env_option, get_ctx, handle_errors, write_output
from mixops.core.outcomes import Status, TestOutcome, count, warnings

MARK = {Status.PASSED: "PASS", Status.FAILED: "FAIL", Status.SKIPPED: "SKIP", Status.ERROR: "ERROR"}


def format_entries(entries: Sequence[TestOutcome], title: str) -> str:
    """Plain text of test outcomes: one line per test, why it failed, errored or skipped indented under it."""
    counts = count(entries)
    shown = [s for s in Status if s is not Status.ERROR or counts[s]]
    lines = [f"{title}: " + ", ".join(f"{counts[s]} {s}" for s in shown)]
    for e in entries:
        lines.append(f"  {MARK[e.status]}  {e.name}  ({e.target})")
        lines += [f"        {line}" for line in why(e)]
    return "\n".join(lines) + "\n"


def exit_for_tests(outcomes: Sequence[TestOutcome]) -> None:
    """Exit 1 when a test could not execute (an error is no verdict), 3 when one failed; else return.

    Skipped tests and skipped checks never change the exit code: the output says why they were skipped.
    """
    for line in warnings(outcomes):
        click.echo(f"warning: {line}", err=True)
    counts = count(outcomes)
    if counts[Status.ERROR]:
        click.echo(
            f"error: {counts[Status.ERROR]} test(s) could not execute (see ERROR above); "
            "their outcome is unknown, not failed",
            err=True,
        )
        sys.exit(EXIT_ERROR)
    if counts[Status.FAILED]:
        sys.exit(EXIT_TESTS_FAILED)


def why(entry: TestOutcome) -> list[str]:
    lines = [entry.reason] if entry.reason and entry.status in (Status.SKIPPED, Status.ERROR) else []
    if entry.desired is not None:
        lines += list(entry.desired.failures)
    lines += [f"skipped check {c.check}: {c.reason}" for c in entry.skipped_checks]
    return [line for line in lines if line]


@click.command("test")
@env_option
@click.option(
    "--junit", "junit", type=click.Path(dir_okay=False, path_type=Path), help="Also write JUnit XML here (for CI)."
)
@click.option("-k", "pattern", metavar="PATTERN", help="Only tests whose name holds PATTERN (or matches it as a glob).")
@click.option(
    "--parallelism", type=click.IntRange(1, 64), default=8, show_default=True, help="Concurrent API requests."
)
@handle_errors
def test(env: str | None, junit: Path | None, pattern: str | None, parallelism: int) -> None:
    """Run the tests against the environment's applied resources (execute by id).

    A full run (no -k) records its outcome on the stack's resources, which
    `mixops promote` reads as the proof that this environment was tested.

    \b
    Exit codes: 0 no test failed (skipped ones say why), 1 error (a test could not execute), 3 a test failed.

    \b
    Examples:
      mixops test
      mixops test --env staging --junit reports/mixops.xml
      mixops test -k "running shoes"
    """
    from mixops.cli.backend import in_process
    from mixops.ports.project import load_project, load_stack
    from mixops.ports.project_files import refuse_project_file
    from mixops.ports.stamps import record_run
    from mixops.ports.target import connect, describe
    from mixops.ports.testrunner import live_tests
    from mixops.render.junit import junit_xml

    ctx = get_ctx()
    project = load_project(ctx.project_dir, required=True, local_backend=in_process)
    refuse_project_file(project, junit, "--junit", "the JUnit report")  # before the tests run
    env_name = project.env_name(env)
    stack = load_stack(project, env_name)
    info = describe(project, env_name)
    started = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()

    async def run() -> tuple[TestOutcome, ...]:
        async with connect(project, env_name, parallelism=parallelism, secrets=stack.secrets) as client:
            entries = await live_tests(client, stack, info.namespace, pattern=pattern, mixops=project.invocation)
            if pattern is None and entries:
                await record_run(client, stack, info.namespace, entries)
            return entries

    entries = asyncio.run(run())
    if not entries:
        ctx.echo("No tests match." if pattern else "The manifests declare no tests.")
        return
    ctx.echo(format_entries(entries, f"Tests in {env_name!r} ({info.namespace})").rstrip("\n"))
    if junit is not None:
        xml = junit_xml(
            entries,
            suite=f"mixops.{stack.project.stack}.{env_name}",
            timestamp=started,
            properties={"environment": env_name, "namespace": info.namespace, "digest": stack.digest()},
        )
        write_output(junit, xml, "the JUnit report")
    exit_for_tests(entries)
