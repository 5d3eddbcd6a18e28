"""`mixops doctor`: is this environment ready for an apply? Read-only."""

from __future__ import annotations

import asyncio
import json
import sys

import click

from mixops.cli.common import EXIT_ERROR, env_option, get_ctx, handle_errors


@click.command()
@env_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option(
    "--probe-execute",
    is_flag=True,
    help="Also run one ad-hoc clustering (POST /v1/clusters/execute, store_results: false) to learn "
    "whether the API has it. It stores nothing, but a run costs credits on the hosted API.",
)
@handle_errors
def doctor(env: str | None, fmt: str, probe_execute: bool) -> None:
    """Check, without writing anything, that an apply to the environment can work.

    The API key is accepted; the namespace exists and resolves; every collection
    and feature URI the manifests use exists; the routes mixops reads answer; the
    plan can be made; and which optional capabilities the API has (taxonomy
    versions, ad-hoc clustering, ad-hoc retriever execute). A route only a write
    could prove is shown `unknown`, never probed. Ad-hoc clustering is only known
    by running one, which costs credits: it is `unknown` unless --probe-execute.

    \b
    Exit codes: 0 ready, 1 an apply would fail (the rows marked ! say why).

    \b
    Examples:
      mixops doctor --env staging
      mixops doctor --env staging --probe-execute
      mixops doctor --env prod --format json > doctor.json
    """
    from mixops.cli.backend import in_process
    from mixops.ports.doctor import run_doctor
    from mixops.ports.project import load_project

    ctx = get_ctx()
    project = load_project(ctx.project_dir, local_backend=in_process)
    report = asyncio.run(run_doctor(project, project.env_name(env), probe_execute=probe_execute))
    if fmt == "json":
        click.echo(json.dumps(report.to_json(), indent=2, sort_keys=True))
    else:
        for line in report.lines():
            ctx.echo(line)
    if not report.ready:
        sys.exit(EXIT_ERROR)
