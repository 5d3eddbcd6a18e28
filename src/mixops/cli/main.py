"""The click shell: parse, call the library once, render, exit with a documented code.

Start-up stays light: commands import their heavy modules inside the command
body, so `mixops --version` loads neither numpy, scikit-learn nor the server.
"""

from __future__ import annotations

from pathlib import Path

import click

from mixops import __version__
from mixops.cli.common import Ctx, color_enabled

EPILOG = """\b
Exit codes:
  0  success (no changes, or changes applied)
  1  error (invalid input, API failure, refused operation)
  2  changes present (plan/drift with --detailed-exitcode)
  3  tests failed
"""


class LazyGroup(click.Group):
    """Commands are imported on first use, keeping `mixops --help` and `--version` fast."""

    lazy: dict[str, str] = {
        "validate": "mixops.cli.validate:validate",
        "schema": "mixops.cli.schema:schema",
        "plan": "mixops.cli.plan_apply:plan",
        "apply": "mixops.cli.plan_apply:apply",
        "serve": "mixops.cli.serve:serve",
        "drift": "mixops.cli.drift_cmd:drift",
        "export": "mixops.cli.export_cmd:export",
        "promote": "mixops.cli.promote_cmd:promote",
        "test": "mixops.cli.test_cmd:test",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            import importlib

            module, attr = self.lazy[cmd_name].split(":")
            command: click.Command = getattr(importlib.import_module(module), attr)
            return command
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mixops")
@click.option(
    "-C",
    "--project",
    "project_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    help="Project directory (holding mixops.yaml).",
    show_default=True,
)
@click.option("--no-color", is_flag=True, help="No colour (also when NO_COLOR is set).")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.pass_context
def cli(ctx: click.Context, project_dir: Path, no_color: bool, debug: bool) -> None:
    """mixops: config-as-code for Mixpeek taxonomies, retrievers and clusters.

    Validate manifests, plan against a namespace, apply, and prove changes with
    test executions.

    \b
    Examples:
      mixops validate
      mixops plan --env staging --format markdown
      mixops apply --env staging --auto-approve
    """
    ctx.obj = Ctx(project_dir=project_dir, debug=debug, color=color_enabled(no_color))


def main() -> None:
    from mixops.ports.gcpause import freeze_on_resume

    freeze_on_resume()  # one command per process: see ports/gcpause.py
    cli(prog_name="mixops")
