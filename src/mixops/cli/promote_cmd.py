"""`mixops promote --from A --to B`: apply to B exactly what was applied and tested in A."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from mixops.cli.common import EXIT_ERROR, EXIT_TESTS_FAILED, get_ctx, handle_errors
from mixops.cli.plan_apply import lock_timeout_option, shown_then_confirmed
from mixops.cli.test_cmd import MARK, exit_for_tests, why
from mixops.core.outcomes import Status, TestOutcome, count, green, tally, warnings
from mixops.core.wording import count as count_of
from mixops.core.wording import printable

if TYPE_CHECKING:
    from mixops.ports.stamps import Records


@click.command()
@click.option("--from", "source", required=True, metavar="ENV", help="Environment that runs and passed the manifests.")
@click.option("--to", "target", required=True, metavar="ENV", help="Environment to promote to.")
@click.option("--plan-only", is_flag=True, help="Check the gate and show the plan for --to; change nothing.")
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation (required without a TTY).")
@click.option("--allow-delete", is_flag=True, help="Permit deletes and replacements in a protected environment.")
@click.option("--allow-data-loss", is_flag=True, help="Permit deleting or replacing collections that hold documents.")
@click.option("--prune", is_flag=True, help="Delete resources this stack owns in --to that are no longer declared.")
@lock_timeout_option("How long to wait for another apply on --to's namespace.")
@click.option("--parallelism", type=click.IntRange(1, 64), default=8, show_default=True)
@handle_errors
# Over 80 lines on purpose: a fifth is the docstring, which is `mixops promote --help`; the rest is one
# straight sequence (gate, plan, confirm, apply, report) that reads best in that order.
def promote(
    source: str,
    target: str,
    plan_only: bool,
    auto_approve: bool,
    allow_delete: bool,
    allow_data_loss: bool,
    prune: bool,
    lock_timeout: float,
    parallelism: int,
) -> None:
    """Promote the current manifests from one environment to the next.

    Refused unless the --from namespace runs exactly these manifests (the
    digest recorded by its last apply) and its last run of the whole test set
    passed: a run by `mixops test`, or by an apply that ran every test, as
    `mixops apply --tests all` does (skipped tests do not fail it). The
    refusal names the command to run.
    Then plans and applies to --to with --to's parameters and runs its tests.
    --plan-only shows the plan for --to as `mixops plan` does, with the tests
    of what would change run against the desired and live configs.

    \b
    Exit codes: 0 promoted (or plan shown), 1 refused or error, 3 tests failed in --to
    (with --plan-only: for the desired config).

    \b
    Examples:
      mixops promote --from staging --to prod --plan-only
      mixops promote --from staging --to prod --auto-approve
    """
    from mixops.cli.backend import in_process
    from mixops.core.plan import PlanOptions
    from mixops.ports.project import load_project
    from mixops.ports.promote import promote as run_promotion
    from mixops.ports.target import describe
    from mixops.render import render

    ctx = get_ctx()
    if not plan_only and not auto_approve and not sys.stdin.isatty():
        click.echo("error: promote needs --auto-approve (or --plan-only) when there is no terminal", err=True)
        sys.exit(EXIT_ERROR)
    project = load_project(ctx.project_dir, required=True, local_backend=in_process)
    source, target = project.env_name(source), project.env_name(target)
    options = PlanOptions(
        prune=prune, allow_delete=allow_delete, allow_data_loss=allow_data_loss, target=describe(project, target).label
    )

    def gate_open(records: Records) -> None:
        ctx.echo(gate_line(source, records))

    result = asyncio.run(
        run_promotion(
            project,
            source,
            target,
            options,
            plan_only=plan_only,
            parallelism=parallelism,
            lock_timeout=lock_timeout,
            confirm=shown_then_confirmed(ctx, auto_approve, f"Apply these changes to {target!r}?"),
            emit=lambda line: click.echo(line),
            gate_open=gate_open,
            mixops=project.invocation,
        )
    )
    if plan_only:
        # The same plan `mixops plan --env TARGET` shows, tests included.
        click.echo(render(result.plan, "text", color=ctx.color), nl=False)
        exit_for_tests(result.plan.tests)
        return
    if result.plan.has_changes and result.report is None:
        click.echo("Promotion cancelled; nothing was changed.")
        sys.exit(EXIT_ERROR)
    done = result.report.summary() if result.report else "no changes needed"
    ctx.echo(f"Promoted to {target!r} ({result.plan.namespace}): {done}.")
    if result.tests is None:
        ctx.echo(f"The manifests declare no tests; nothing was tested in {target!r}.")
        return
    for line in unproven_lines(result.tests):
        ctx.echo(line)
    for line in warnings(result.tests):
        ctx.echo(f"warning: {line}", err=True)
    counts = tally(count(result.tests))
    if not green(result.tests):
        ctx.echo(f"Tests FAILED in {target!r} after the promotion (recorded on its resources): {counts}.", err=True)
        sys.exit(EXIT_TESTS_FAILED)
    ctx.echo(f"Tests passed in {target!r}: {counts}.")


def gate_line(source: str, records: Records) -> str:
    """`'dev' runs digest 3f2a..., tested and passing (19 passed, 2 skipped at 2026-12-01T10:00:00+00:00).`"""
    run = tally(dict(records.counts)) if records.counts else ""
    when = f" at {printable(records.tested_at)}" if records.tested_at else ""  # read from the namespace
    detail = f" ({run}{when})" if run or when else ""
    entries = f", with {count_of(len(records.entries), 'application entry')} ({', '.join(records.entries)})"
    return f"{source!r} runs digest {records.digest}, tested and passing{detail}{entries if records.entries else ''}."


def unproven_lines(outcomes: Sequence[TestOutcome]) -> list[str]:
    """The tests that did not pass, each with why: failed and errored ones, and skipped ones."""
    lines = []
    for entry in outcomes:
        if entry.status is Status.PASSED:
            continue
        lines.append(f"  {MARK[entry.status]}  {entry.name}  ({entry.target})")
        lines += [f"        {line}" for line in why(entry)]
    return lines
