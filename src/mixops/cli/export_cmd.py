"""`mixops export`: a live namespace to manifest files (names, not ids; secrets as placeholders)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import click

from mixops.cli.common import env_option, get_ctx, handle_errors
from mixops.errors import MixopsError


@click.command("export")
@env_option
@click.option(
    "-o",
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("manifests"),
    show_default=True,
    help="Directory to write the manifest files to (relative to the project).",
)
@click.option("--all", "include_all", is_flag=True, help="Also export resources this stack does not own.")
@click.option(
    "--layout",
    type=click.Choice(["per-kind", "per-resource"]),
    default="per-kind",
    show_default=True,
    help="One file per kind (retrievers.yaml...), or one per resource (retrievers/NAME.yaml...).",
)
@handle_errors
def export(env: str | None, out_dir: Path, include_all: bool, layout: str) -> None:
    """Write the environment's live retrievers, taxonomies and clusters as manifests.

    References are written by name, values equal to the API's defaults are
    left out, and secret-looking values become ${{ env.NAME }} placeholders
    (the variables to set are listed); values the manifests take from
    ${{ env.X }} are written as that placeholder, so X must be set (export
    refuses otherwise). A plan right after an export shows no changes. Only resources owned by this stack are exported unless --all.

    \b
    Examples:
      mixops export --env prod -o manifests/
      mixops export --env prod --all --layout per-resource -o imported/
    """
    from mixops.cli.backend import in_process
    from mixops.ports.export import export_env
    from mixops.ports.project import load_project

    ctx = get_ctx()
    project = load_project(ctx.project_dir, local_backend=in_process)
    target = out_dir if out_dir.is_absolute() else ctx.project_dir / out_dir
    try:
        result = asyncio.run(
            export_env(project, project.env_name(env), target, include_all=include_all, layout=layout)  # type: ignore[arg-type]
        )
    except OSError as err:
        where = Path(os.fsdecode(err.filename)).as_posix() if err.filename else out_dir.as_posix()
        raise MixopsError(f"cannot write the manifests to {where}: {err.strerror or err}") from None
    counts = ", ".join(f"{n} {k}" for k, n in result.exported.items())
    ctx.echo(f"Exported {counts} from namespace {result.namespace!r} into {len(result.files)} file(s):")
    for f in result.files:
        ctx.echo(f"  {(out_dir / f.path).as_posix()}")
    if result.skipped_unowned:
        ctx.echo(f"Skipped {result.skipped_unowned} resource(s) not owned by this stack (--all exports them).")
    if include_all:
        ctx.echo("Resources not owned by this stack need `mixops apply --adopt` before mixops manages them.")
    if result.variables:
        ctx.echo("Secrets were replaced by placeholders; set these environment variables before plan/apply:")
        for v in result.variables:
            ctx.echo(f"  {v.name}  ({v.where})")
