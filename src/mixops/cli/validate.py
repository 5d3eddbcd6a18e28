"""`mixops validate`: offline checks of manifests and mixops.yaml."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from mixops.cli.common import EXIT_ERROR, env_option, get_ctx, handle_errors
from mixops.errors import ManifestError


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@env_option
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github"]), default="text", show_default=True)
@handle_errors
def validate(paths: tuple[Path, ...], env: str | None, fmt: str) -> None:
    """Check manifests offline: schema, references, placeholders.

    Reports every problem found, each as FILE:LINE:COL: FIELD: message (fix).

    \b
    Examples:
      mixops validate
      mixops validate manifests/search.yaml --env staging
      mixops validate --format json
    """
    from mixops.ports.project import load_project, load_stack

    ctx = get_ctx()
    project = load_project(ctx.project_dir)
    try:
        stack = load_stack(project, env, paths=[ctx.project_dir / p for p in paths] or None)
    except ManifestError as err:
        if fmt == "text":
            raise
        if fmt == "json":
            click.echo(json.dumps({"valid": False, "problems": [p.to_json() for p in err.problems]}, indent=2))
        else:
            for p in err.problems:
                click.echo(p.render_github())
        sys.exit(EXIT_ERROR)
    counts = stack.count()
    if fmt == "json":
        click.echo(
            json.dumps(
                {"valid": True, "environment": stack.environment, "counts": counts, "files": list(stack.files)},
                indent=2,
            )
        )
        return
    from mixops.core.wording import count

    summary = stack.counts_line()
    ctx.echo(f"valid: {summary} in {count(len(stack.files), 'file')} (environment {stack.environment})")
