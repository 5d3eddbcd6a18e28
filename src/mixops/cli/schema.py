"""`mixops schema`: write (or check) the JSON Schemas that editors use for completion.

Where: in a project (a mixops.yaml found as every command finds it), the
directory its mixops.yaml points editors at (the `# yaml-language-server:
$schema=...` line; `mixops init` points at the project's own `schemas/`, the
examples of the mixops source tree at the tree's), else the project's
`schemas/`; in the mixops source tree itself (no project), the tree's
`schemas/`, which CI keeps fresh. Anywhere else it is an error asking for a
project or `--out`.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import click

from mixops.cli.common import EXIT_ERROR, get_ctx, handle_errors, write_output
from mixops.errors import ProjectError
from mixops.ports.userpaths import shown


def _source_tree_schemas(start: Path) -> Path | None:
    """`schemas/` of the mixops source tree holding both this module and `start`, if any."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").is_file() and (parent / "schemas").is_dir():
            return parent / "schemas" if start.resolve().is_relative_to(parent) else None
    return None


# The modeline yaml-language-server reads; `mixops init` writes one at the top of every file.
MODELINE = re.compile(r"#\s*yaml-language-server:\s*\$schema=(\S+)")
PROJECT_SCHEMA = "mixops-project.schema.json"


def pointed_dir(config: Path) -> Path | None:
    """The directory whose project schema `config` (a mixops.yaml) points its editor at, if it does.

    The schemas to refresh or check are the ones the project's files use: a project
    made by `mixops init` points at its own `schemas/`, the examples in the mixops
    source tree at the tree's `schemas/` (`../../schemas/...`). Only a relative path
    to a file named like the project schema counts; a URL or another name does not.
    """
    try:
        head = config.read_text(encoding="utf-8").splitlines()[:20]
    except (OSError, UnicodeDecodeError):
        return None
    for line in head:
        match = MODELINE.search(line)
        if match is None:
            continue
        target = match.group(1)
        if "://" in target or Path(target).name != PROJECT_SCHEMA or Path(target).is_absolute():
            return None
        return (config.parent / target).parent.resolve()
    return None


def default_dir(start: Path) -> Path:
    from mixops.ports.project import find_project_root, no_project_message

    root = find_project_root(start)
    if root is not None:
        pointed = pointed_dir(root / "mixops.yaml")
        own = root / "schemas"
        if pointed is None or pointed == own.resolve():
            return own
        if pointed.is_relative_to(root.resolve()) or pointed == _source_tree_schemas(pointed):
            return pointed
        # Never write outside the project on the word of a copied first line (an example
        # copied out of the mixops tree keeps `../../schemas`): the project's own, and say so.
        get_ctx().echo(
            f"warning: {shown(root / 'mixops.yaml')} points editors at {shown(pointed)}/, outside the project; "
            f"using {shown(own)}/ (point its first line there: # yaml-language-server: "
            f"$schema={Path(os.path.relpath(own, root)).as_posix()}/{PROJECT_SCHEMA})",
            err=True,
        )
        return own
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
    help="Directory to write to (default: where the project's mixops.yaml points editors, else its schemas/).",
)
@handle_errors
def schema(check: bool, out_dir: Path | None) -> None:
    """Generate JSON Schema for manifest files and for mixops.yaml.

    In a project they go where its mixops.yaml points editors (its first line;
    `mixops init` points at the project's schemas/ and writes them there; run
    this after upgrading mixops), else to its schemas/ directory. Add this
    first line to a manifest in manifests/ for completion and inline errors in
    editors using yaml-language-server:

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
