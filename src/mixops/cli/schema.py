"""`mixops schema`: write (or check) the JSON Schemas that editors use for completion.

Where: in a project (a mixops.yaml found as every command finds it), its
`schemas/` directory, which `mixops init` creates and the project's files point
at; in the mixops source tree itself (no project), the tree's `schemas/`, which
CI keeps fresh. Anywhere else it is an error asking for a project or `--out`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from mixops.cli.common import EXIT_ERROR, get_ctx, handle_errors, shown, write_output
from mixops.errors import ProjectError


def _source_tree_schemas(start: Path) -> Path | None:
    """`schemas/` of the mixops source tree holding both this module and `start`, if any."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").is_file() and (parent / "schemas").is_dir():
            return parent / "schemas" if start.resolve().is_relative_to(parent) else None
    return None


def default_dir(start: Path) -> Path:
    from mixops.ports.project import find_project_root, no_project_message

    root = find_project_root(start)
    if root is not None:
        return root / "schemas"
    source = _source_tree_schemas(start)
    if source is not None:
        return source
    raise ProjectError(f"{no_project_message(start)}; or say where to write the schemas with --out DIR")


@click.command()
@click.option("--check", is_flag=True, help="Fail (exit 1) when the schema files are stale; write nothing.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Directory to write to (default: schemas/ of the project).",
)
@handle_errors
def schema(check: bool, out_dir: Path | None) -> None:
    """Generate JSON Schema for manifest files and for mixops.yaml.

    In a project they go to its schemas/ directory (`mixops init` writes them
    there; run this after upgrading mixops). Add this first line to a manifest
    in manifests/ for completion and inline errors in editors using
    yaml-language-server:

    \b
      # yaml-language-server: $schema=../schemas/mixops-manifest.schema.json

    \b
    Examples:
      mixops schema
      mixops schema --check          # in CI: fail when they are stale
      mixops schema --out .vscode/schemas
    """
    from mixops.schemas import render_schemas

    ctx = get_ctx()
    target = out_dir or default_dir(ctx.project_dir)
    stale: list[str] = []
    for name, text in render_schemas().items():
        path = target / name
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current == text:
            continue
        stale.append(name)
        if not check:
            write_output(path, text, "a JSON Schema")
    where = shown(target).rstrip("/") + "/"
    if check and stale:
        for name in stale:
            ctx.echo(f"stale: {shown(target / name)}", err=True)
        ctx.echo("JSON Schemas are out of date; run `mixops schema` and commit the result", err=True)
        sys.exit(EXIT_ERROR)
    if check or not stale:
        ctx.echo(f"the JSON Schemas in {where} are up to date")
    else:
        ctx.echo(f"wrote {len(stale)} schema file{'s' if len(stale) != 1 else ''} to {where}")
