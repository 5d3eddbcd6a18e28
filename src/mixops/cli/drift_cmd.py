"""`mixops drift`: what changed in the namespace out of band (not what changed in git)."""

from __future__ import annotations

import asyncio
import json
import sys

import click

from mixops.cli.common import EXIT_CHANGES, env_option, get_ctx, handle_errors


@click.command()
@env_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@handle_errors
def drift(env: str | None, fmt: str) -> None:
    """Report owned resources changed outside mixops; exit 2 when there are any.

    A resource has drifted when its live spec no longer has the digest mixops
    wrote when it last applied it. Edits merged in git but not yet applied are
    not drift (`mixops plan --detailed-exitcode` reports those too).

    \b
    Exit codes: 0 no drift, 1 error, 2 drift found.

    \b
    Examples:
      mixops drift --env prod
      mixops drift --env prod --format json > drift.json
    """
    from mixops.cli.backend import in_process
    from mixops.ports.drift import detect_drift
    from mixops.ports.project import load_project

    ctx = get_ctx()
    project = load_project(ctx.project_dir, local_backend=in_process)
    report = asyncio.run(detect_drift(project, project.env_name(env)))
    if fmt == "json":
        click.echo(json.dumps(report.to_json(), indent=2, sort_keys=True, default=str))
    else:
        for line in report.lines(project.invocation):
            ctx.echo(line)
    if report.drifted:
        sys.exit(EXIT_CHANGES)
