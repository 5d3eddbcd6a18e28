"""`mixops export`: a live namespace to manifest files (names, not ids; secrets as placeholders)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import click

from mixops.cli.common import env_option, get_ctx, handle_errors, plural
from mixops.errors import MixopsError
from mixops.ports.userpaths import shown


@click.command("export")
@env_option
@click.option(
    "-o",
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Directory to write the manifest files to (default: manifests/ of the project).",
)
@click.option(
    "--force", is_flag=True, help="Write even where YAML files are already there (same-name files are replaced)."
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
def export(env: str | None, out_dir: Path | None, force: bool, include_all: bool, layout: str) -> None:
    """Write the environment's live retrievers, taxonomies and clusters as manifests.

    References are written by name, values equal to the API's defaults are
    left out, and secret-looking values become ${{ env.NAME }} placeholders
    (the variables to set are listed); values the manifests take from
    ${{ env.X }} are written as that placeholder, so X must be set (export
    refuses otherwise). A plan right after an export shows no changes. Only resources owned by this stack are exported unless --all.

    \b
    Examples:
      mixops export --env prod                 # into manifests/ of a project without manifests yet
      mixops export --env prod --all --layout per-resource -o imported/
    """
    from mixops.cli.backend import in_process
    from mixops.ports.export import export_env
    from mixops.ports.project import load_project

    ctx = get_ctx()
    project = load_project(ctx.project_dir, local_backend=in_process)
    # -o is relative to where the user stands, as any path on a command line; -C only finds the project
    target = out_dir if out_dir is not None else project.root / "manifests"
    try:
        result = asyncio.run(
            export_env(project, project.env_name(env), target, include_all=include_all, layout=layout, force=force)  # type: ignore[arg-type]
        )
    except OSError as err:
        where = Path(os.fsdecode(err.filename)) if err.filename else target
        raise MixopsError(f"cannot write the manifests to {shown(where)}: {err.strerror or err}") from None
    counts = ", ".join(plural(n, k) for k, n in result.exported.items())
    if not result.files:
        # Nothing written: say so, rather than a file list that ends at its colon
        owned = "" if include_all else " owned by this stack"
        ctx.echo(f"Nothing exported: namespace {result.namespace!r} holds no resources{owned}; no file was written.")
    else:
        ctx.echo(f"Exported {counts} from namespace {result.namespace!r} into {plural(len(result.files), 'file')}:")
    for f in result.files:
        ctx.echo(
            f"  {shown(target / f.path)}" + ("  (replaced the existing file)" if f.path in result.replaced else "")
        )
    if result.skipped_unowned:
        skipped = plural(result.skipped_unowned, "resource")
        ctx.echo(f"Skipped {skipped} not owned by this stack (--all exports them).")
    if include_all:
        ctx.echo("Resources not owned by this stack need `mixops apply --adopt` before mixops manages them.")
    if result.variables:
        ctx.echo("Secrets were replaced by placeholders; set these environment variables before plan/apply:")
        for v in result.variables:
            ctx.echo(f"  {v.name}  ({v.where})")
