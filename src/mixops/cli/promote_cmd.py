"""`mixops promote --from A --to B`: apply to B exactly what was applied and tested in A."""

from __future__ import annotations

import asyncio
import sys
from typing import TYPE_CHECKING

import click

from mixops.cli.common import EXIT_ERROR, EXIT_TESTS_FAILED, get_ctx, handle_errors
from mixops.cli.duration import Duration

if TYPE_CHECKING:
    from mixops.core.plan import Plan


@click.command()
@click.option("--from", "source", required=True, metavar="ENV", help="Environment that runs and passed the manifests.")
@click.option("--to", "target", required=True, metavar="ENV", help="Environment to promote to.")
@click.option("--plan-only", is_flag=True, help="Check the gate and show the plan for --to; change nothing.")
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation (required without a TTY).")
@click.option("--allow-delete", is_flag=True, help="Permit deletes and replacements in a protected environment.")
@click.option("--prune", is_flag=True, help="Delete resources this stack owns in --to that are no longer declared.")
@click.option(
    "--lock-timeout",
    type=Duration(),
    default="0s",
    show_default=True,
    help="How long to wait for another apply on --to's namespace.",
)
@click.option("--parallelism", type=click.IntRange(1, 64), default=8, show_default=True)
@handle_errors
def promote(
    source: str,
    target: str,
    plan_only: bool,
    auto_approve: bool,
    allow_delete: bool,
    prune: bool,
    lock_timeout: float,
    parallelism: int,
) -> None:
    """Promote the current manifests from one environment to the next.

    Refused unless the --from namespace runs exactly these manifests (the
    digest recorded by its last apply) and its last test run of them passed.
    Then plans and applies to --to with --to's parameters and runs its tests.

    \b
    Exit codes: 0 promoted (or plan shown), 1 refused or error, 3 tests failed in --to.

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

    ctx = get_ctx()
    if not plan_only and not auto_approve and not sys.stdin.isatty():
        click.echo("error: promote needs --auto-approve (or --plan-only) when there is no terminal", err=True)
        sys.exit(EXIT_ERROR)
    project = load_project(ctx.project_dir, required=True, local_backend=in_process)
    source, target = project.env_name(source), project.env_name(target)
    options = PlanOptions(prune=prune, allow_delete=allow_delete, target=describe(project, target).label)

    def confirm(plan: Plan) -> bool:
        for line in plan_lines(plan):
            click.echo(line)
        return auto_approve or click.confirm(f"Apply these changes to {target!r}?", default=False)

    result = asyncio.run(
        run_promotion(
            project,
            source,
            target,
            options,
            plan_only=plan_only,
            parallelism=parallelism,
            lock_timeout=lock_timeout,
            confirm=confirm,
            emit=lambda line: click.echo(line),
        )
    )
    ctx.echo(f"{source!r} runs digest {result.source.digest}, tested and passing.")
    if plan_only:
        for line in plan_lines(result.plan):
            click.echo(line)
        return
    if result.plan.has_changes and result.report is None:
        click.echo("Promotion cancelled; nothing was changed.")
        sys.exit(EXIT_ERROR)
    done = result.report.summary() if result.report else "no changes needed"
    ctx.echo(f"Promoted to {target!r} ({result.plan.namespace}): {done}.")
    if result.tests_passed is False:
        ctx.echo(f"Tests FAILED in {target!r} after the promotion (recorded on its resources).", err=True)
        sys.exit(EXIT_TESTS_FAILED)
    if result.tests_passed:
        ctx.echo(f"Tests passed in {target!r}.")


def plan_lines(plan: Plan) -> list[str]:
    """A compact plan for the terminal (the full renderers are `mixops plan --format ...`)."""
    counts = ", ".join(f"{n} to {a}" for a, n in plan.counts().items() if n and a != "noop") or "no changes"
    out = [f"Plan for environment {plan.environment!r} (namespace {plan.namespace}): {counts}."]
    for s in plan.changes:
        out.append(f"  {s.marker} {s.kind} {s.name} ({s.action})")
        out += [f"      {c.path}: {c.old!r} -> {c.new!r}" for c in s.changes]
    return out
