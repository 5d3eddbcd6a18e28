"""`mixops plan` and `mixops apply`: one code path, apply = plan + walk the steps."""

from __future__ import annotations

import asyncio
import functools
import sys
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import click

from mixops.cli.common import (
    EXIT_CHANGES,
    EXIT_ERROR,
    Ctx,
    env_option,
    get_ctx,
    handle_errors,
    write_output,
)
from mixops.cli.duration import Duration
from mixops.errors import MixopsError, StalePlanError
from mixops.ports.userpaths import shell_word

if TYPE_CHECKING:
    from mixops.core.plan import Plan, PlanOptions

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
allow_data_loss_option = click.option(
    "--allow-data-loss",
    is_flag=True,
    help="Permit deleting or replacing collections that hold documents (they are lost).",
)
backfill_option = click.option(
    "--backfill",
    "backfill",
    multiple=True,
    metavar="COLLECTION/TAXONOMY",
    help="Also enrich the documents already in COLLECTION with TAXONOMY (the apply-taxonomy task), which the "
    "manifests apply to it; repeatable. Without it a backfill runs only when due (`backfill: true`).",
)
tests_option = click.option(
    "--tests",
    "tests",
    type=click.Choice(["changed", "all"]),
    default="changed",
    show_default=True,
    help="Which tests run: those whose target (or something it references) changes, or all of them.",
)
no_tests_option = click.option("--no-tests", is_flag=True, help="Run no tests.")

F = TypeVar("F", bound=Callable[..., Any])


def shown_then_confirmed(ctx: Ctx, auto_approve: bool, question: str) -> Callable[[Plan], bool]:
    """Apply's and promote's confirmation: the plan in text, then `question` (yes under --auto-approve)."""

    def confirm(plan: Plan) -> bool:
        from mixops.render import render

        click.echo(render(plan, "text", color=ctx.color), nl=False)
        return auto_approve or click.confirm(question, default=False)

    return confirm


def lock_timeout_option(text: str) -> Callable[[F], F]:
    """`--lock-timeout` of the commands that apply (`text` is its help)."""
    return click.option("--lock-timeout", type=Duration(), default="0s", show_default=True, help=text)


@dataclass(frozen=True)
class ReconcileFlags:
    """The values of the options plan and apply share, handed to the command as one."""

    prune: bool
    adopt: bool
    allow_delete: bool
    allow_data_loss: bool
    backfill: tuple[str, ...]  # COLLECTION/TAXONOMY pairs
    tests: str
    no_tests: bool
    parallelism: int

    @property
    def test_select(self) -> Literal["none", "changed", "all"]:
        return "none" if self.no_tests else "all" if self.tests == "all" else "changed"

    def shaping_args(self) -> str:
        """The flags given that change which steps a plan has (` --prune --backfill a/b`), as typed again."""
        named = (("--prune", self.prune), ("--adopt", self.adopt), ("--allow-delete", self.allow_delete))
        given = "".join(f" {flag}" for flag, on in (*named, ("--allow-data-loss", self.allow_data_loss)) if on)
        return given + "".join(f" --backfill {shell_word(b)}" for b in self.backfill)

    def plan_options(self, target: str) -> PlanOptions:
        from mixops.core.plan import PlanOptions

        return PlanOptions(
            prune=self.prune,
            adopt=self.adopt,
            allow_delete=self.allow_delete,
            allow_data_loss=self.allow_data_loss,
            backfill=self.backfill,
            target=target,
        )


def reconcile_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The options plan and apply share (one bundle, so the two commands cannot drift apart).

    The command gets their values as one `flags: ReconcileFlags` argument.
    """

    @functools.wraps(fn)
    def command(*args: Any, **kwargs: Any) -> Any:
        flags = ReconcileFlags(**{f.name: kwargs.pop(f.name) for f in fields(ReconcileFlags)})
        return fn(*args, flags=flags, **kwargs)

    for option in reversed(
        (
            prune_option,
            adopt_option,
            allow_delete_option,
            allow_data_loss_option,
            backfill_option,
            tests_option,
            no_tests_option,
            parallelism_option,
        )
    ):
        command = option(command)
    return command


@click.command()
@env_option
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), help="Save the plan (JSON) for apply.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown", "github"]),
    default="text",
    show_default=True,
    help="github: the text plan, with errors and warnings as GitHub Actions annotations.",
)
@click.option(
    "--out-markdown",
    "out_markdown",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the full Markdown plan (never truncated) to this file, e.g. for CI artifacts.",
)
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when there are changes (0 when none).")
@reconcile_options
@handle_errors
def plan(
    env: str | None,
    out: Path | None,
    fmt: str,
    out_markdown: Path | None,
    detailed_exitcode: bool,
    flags: ReconcileFlags,
) -> None:
    """Show what apply would change in the environment's namespace.

    Tests run against the desired config without changing anything (and
    against the live config, for the behavioural diff); exit code 3 when a
    test fails for the desired config, 1 when one cannot execute.

    \b
    Examples:
      mixops plan
      mixops plan --env staging --format markdown > plan.md
      mixops plan --env prod --out plan.json && mixops apply plan.json --env prod
      mixops plan --env prod --detailed-exitcode   # nightly drift check
      mixops plan --env staging --format github --out-markdown plan.md   # in CI
      mixops plan --tests all          # every test, not only those of changed resources
    """
    from mixops.cli.backend import in_process
    from mixops.ports.project import load_project
    from mixops.ports.project_files import refuse_project_file
    from mixops.ports.reconcile import plan_and_apply
    from mixops.ports.target import describe
    from mixops.render import render

    ctx = get_ctx()
    project = load_project(ctx.project_dir, local_backend=in_process)
    refuse_project_file(project, out, "--out", "the plan")  # before any work: nothing is written
    refuse_project_file(project, out_markdown, "--out-markdown", "the Markdown plan")
    env_name = project.env_name(env)
    options = flags.plan_options(describe(project, env_name).label)
    try:
        planned, _ = asyncio.run(
            plan_and_apply(project, env_name, options, parallelism=flags.parallelism, tests=flags.test_select)
        )
    except MixopsError as err:
        if fmt != "github":
            raise
        _github_errors(err)
        sys.exit(err.exit_code)
    result = planned.plan
    if out is not None:
        write_output(out, result.dumps(), "the plan")
    if out_markdown is not None:
        write_output(out_markdown, render(result, "markdown", color=False), "the Markdown plan")
    if fmt == "github":
        from mixops.cli.github import annotation

        for warning in result.warnings:
            click.echo(annotation(warning, "warning"))
    shown = "text" if fmt == "github" else fmt
    click.echo(render(result, shown, color=ctx.color and fmt == "text"), nl=False)
    if out is not None:
        # The flags a saved plan cannot carry: its environment (a protected one is never taken
        # from the file) and every flag that shaped its steps, without which it is refused.
        where = shell_word(out.as_posix())
        command = f"{project.invocation} apply {where} --env {shell_word(env_name)}{flags.shaping_args()}"
        click.echo(f"Saved the plan to {where}; apply it with: {command}", err=True)
    from mixops.cli.test_cmd import exit_for_tests

    exit_for_tests(result.tests)
    if detailed_exitcode and result.has_changes:
        sys.exit(EXIT_CHANGES)


def _github_errors(err: MixopsError) -> None:
    """Print `err` as annotations, each at the manifest entry its problem comes from."""
    from mixops.cli.github import error_lines

    for line in error_lines(err):
        click.echo(line)


@click.command()
@click.argument("planfile", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@env_option
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation (required without a TTY).")
@lock_timeout_option("With `lock: lease`: how long to wait for another apply's lease on this namespace, e.g. 30s, 10m.")
@reconcile_options
@handle_errors
# Over 80 lines on purpose: a fifth is the docstring, which is `mixops apply --help`; the rest is one
# straight sequence (approve, load, plan and apply, report, exit code) that reads best in that order.
def apply(
    planfile: Path | None,
    env: str | None,
    auto_approve: bool,
    lock_timeout: float,
    flags: ReconcileFlags,
) -> None:
    """Converge the environment's namespace on the manifests.

    After applying, the tests run against the applied resources; exit code 3
    when one fails, 1 when one cannot execute.

    With PLANFILE, applies exactly that saved plan, refusing it when the
    manifests or the live objects changed since it was made.

    mixops takes no lock in the namespace: serialise applies in CI (docs/ci.md).
    An environment with `lock: lease` takes a lease of the stack instead: a
    second apply waits up to --lock-timeout, then fails naming the holder.

    \b
    Examples:
      mixops apply --auto-approve
      mixops apply --env staging --prune --auto-approve
      mixops apply plan.json --env prod
      mixops apply --env staging --auto-approve --lock-timeout 10m
    """
    from mixops.cli.backend import in_process
    from mixops.ports.project import load_project
    from mixops.ports.reconcile import load_saved_plan, plan_and_apply
    from mixops.ports.target import describe

    ctx = get_ctx()
    interactive = sys.stdin.isatty()
    if not auto_approve and not interactive:
        click.echo("error: apply needs --auto-approve when there is no terminal to confirm on", err=True)
        sys.exit(EXIT_ERROR)
    project = load_project(ctx.project_dir, local_backend=in_process)
    env_name = project.env_name(env)
    saved = load_saved_plan(planfile) if planfile else None
    if saved is not None and planfile is not None and env is None:
        env_name = project.env_name(saved.environment)
        # Without a signature, a file edited to name another environment and namespace
        # cannot be told from a genuine plan there when the fresh plan is the same (two
        # empty namespaces). A protected environment is never chosen by a file alone.
        if project.config.environments[env_name].protect:
            raise StalePlanError(
                f"{shell_word(planfile.as_posix())}: this saved plan is for the protected environment {env_name!r}, which a plan file "
                "cannot choose on its own; say it on the command line: "
                f"{project.invocation} apply {shell_word(planfile.as_posix())} --env {shell_word(env_name)}"
            )
    options = flags.plan_options(describe(project, env_name).label)

    planned, report = asyncio.run(
        plan_and_apply(
            project,
            env_name,
            options,
            parallelism=flags.parallelism,
            apply=True,
            saved=saved,
            saved_from=planfile,
            confirm=shown_then_confirmed(ctx, auto_approve, "Apply these changes?"),
            emit=lambda line: click.echo(line),
            lock_timeout=lock_timeout,
            tests=flags.test_select,
        )
    )
    if not planned.plan.has_changes:
        click.echo("No changes. Live state matches the manifests.")
    elif report is None:
        click.echo("Apply cancelled; nothing was changed.")
        sys.exit(EXIT_ERROR)
    else:
        click.echo(f"Apply complete: {report.summary()}.")
    if planned.applied_tests:
        from mixops.cli.test_cmd import exit_for_tests, format_entries

        click.echo(format_entries(planned.applied_tests, "Tests against the applied resources"), nl=False)
        ran, declared = len(planned.applied_tests), len(planned.stack.tests)
        if ran < declared:
            # Only a run of the whole set is recorded for `mixops promote` (ports/stamps.py).
            click.echo(
                f"{ran} of {declared} tests ran (those of what changed); to run them all and record the run "
                f"for promote: {project.invocation} test --env {shell_word(env_name)}"
            )
        exit_for_tests(planned.applied_tests)
