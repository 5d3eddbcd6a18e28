"""`mixops schema`: write (or check) the JSON Schemas that editors use for completion."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from mixops.cli.common import EXIT_ERROR, get_ctx, handle_errors, write_output


@click.command()
@click.option("--check", is_flag=True, help="Fail (exit 1) when the files in schemas/ are stale; write nothing.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Directory to write to (default: schemas/ of the mixops source tree, else ./schemas).",
)
@handle_errors
def schema(check: bool, out_dir: Path | None) -> None:
    """Generate JSON Schema for manifest files and for mixops.yaml.

    Add this first line to a manifest for completion and inline errors in
    editors using yaml-language-server:

    \b
      # yaml-language-server: $schema=../schemas/mixops-manifest.schema.json

    \b
    Examples:
      mixops schema
      mixops schema --check
    """
    from mixops.schemas import render_schemas, schema_dir

    ctx = get_ctx()
    target = out_dir or schema_dir(ctx.project_dir)
    stale: list[str] = []
    for name, text in render_schemas().items():
        path = target / name
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current == text:
            continue
        stale.append(name)
        if not check:
            write_output(path, text, "a JSON Schema")
    if check and stale:
        for name in stale:
            ctx.echo(f"stale: {(target / name).as_posix()}", err=True)
        ctx.echo("JSON Schemas are out of date; run `mixops schema` and commit the result", err=True)
        sys.exit(EXIT_ERROR)
    if check:
        ctx.echo("schemas are up to date")
    else:
        ctx.echo(f"wrote {len(stale)} schema file(s)" if stale else "schemas are up to date")
