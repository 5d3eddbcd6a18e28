"""`mixops plan` and `mixops apply`: one code path, apply = plan + walk the steps."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click

from mixops.cli.common import EXIT_CHANGES, EXIT_ERROR, env_option, get_ctx, handle_errors

parallelism_option = click.option(
    "--parallelism", type=click.IntRange(1, 64), default=8, show_default=True, help="Concurrent API requests."
)
prune_option = click.option(
    "--prune", is_flag=True, help="Delete resources this stack owns that are no longer declared."
)
adopt_option = click.option("--adopt", is_flag=True, help="Take over same-name resources this stack does not own.")
allow_delete_option = click.option(
    "--allow-delete", is_flag=True, help="Permit deletes and replacements in a protected environment."
)


@click.command()
@env_option
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), help="Save the plan (JSON) for apply.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True)
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when there are changes (0 when none).")
@prune_option
@adopt_option
@allow_delete_option
@parallelism_option
@handle_errors
def plan(
    env: str | None, out: Path | None, fmt: str, detailed_exitcode: bool, prune: bool, adopt: bool,
    allow_delete: bool, parallelism: int,
) -> None:  # fmt: skip
    """Show what apply would change in the environment's namespace.

    \b
    Examples:
      mixops plan
      mixops plan --env staging --format markdown > plan.md
      mixops plan --env prod --out plan.json && mixops apply plan.json --env prod
      mixops plan --env prod --detailed-exitcode   # nightly drift check
    """
    from mixops.core.plan import PlanOptions
    from mixops.ports.project import load_project
    from mixops.ports.reconcile import plan_and_apply
    from mixops.ports.target import describe
    from mixops.render import render

    ctx = get_ctx()
    project = load_project(ctx.project_dir)
    env_name = project.env_name(env)
    options = PlanOptions(prune=prune, adopt=adopt, allow_delete=allow_delete, target=describe(project, env_name).label)
    planned, _ = asyncio.run(plan_and_apply(project, env_name, options, parallelism=parallelism))
    result = planned.plan
    if out is not None:
        out.write_text(result.dumps(), encoding="utf-8")
    click.echo(render(result, fmt, color=ctx.color and fmt == "text"), nl=False)
    if out is not None:
        click.echo(f"Saved the plan to {out.as_posix()}; apply it with: mixops apply {out.as_posix()}", err=True)
    if detailed_exitcode and result.has_changes:
        sys.exit(EXIT_CHANGES)


@click.command()
@click.argument("planfile", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@env_option
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation (required without a TTY).")
@prune_option
@adopt_option
@allow_delete_option
@parallelism_option
@handle_errors
def apply(
    planfile: Path | None, env: str | None, auto_approve: bool, prune: bool, adopt: bool, allow_delete: bool,
    parallelism: int,
) -> None:  # fmt: skip
    """Converge the environment's namespace on the manifests.

    With PLANFILE, applies exactly that saved plan, refusing it when the
    manifests or the live objects changed since it was made.

    \b
    Examples:
      mixops apply --auto-approve
      mixops apply --env staging --prune --auto-approve
      mixops apply plan.json --env prod
    """
    from mixops.core.plan import Plan, PlanOptions
    from mixops.ports.project import load_project
    from mixops.ports.reconcile import load_saved_plan, plan_and_apply
    from mixops.ports.target import describe
    from mixops.render import render

    ctx = get_ctx()
    interactive = sys.stdin.isatty()
    if not auto_approve and not interactive:
        click.echo("error: apply needs --auto-approve when there is no terminal to confirm on", err=True)
        sys.exit(EXIT_ERROR)
    project = load_project(ctx.project_dir)
    env_name = project.env_name(env)
    saved = load_saved_plan(planfile) if planfile else None
    if saved is not None and env is None:
        env_name = project.env_name(saved.environment)
    options = PlanOptions(prune=prune, adopt=adopt, allow_delete=allow_delete, target=describe(project, env_name).label)

    def confirm(p: Plan) -> bool:
        click.echo(render(p, "text", color=ctx.color), nl=False)
        if auto_approve:
            return True
        return click.confirm("Apply these changes?", default=False)

    planned, report = asyncio.run(
        plan_and_apply(
            project, env_name, options, parallelism=parallelism, apply=True, saved=saved, confirm=confirm,
            emit=lambda line: click.echo(line),
        )
    )  # fmt: skip
    if not planned.plan.has_changes:
        click.echo("No changes. Live state matches the manifests.")
        return
    if report is None:
        click.echo("Apply cancelled; nothing was changed.")
        sys.exit(EXIT_ERROR)
    click.echo(f"Apply complete: {report.summary()}.")
