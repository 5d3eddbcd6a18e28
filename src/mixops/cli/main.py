"""The click shell: parse, call the library once, render, exit with a documented code.

Start-up stays light: commands import their heavy modules inside the command
body, so `mixops --version` loads neither numpy, scikit-learn nor the server.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from difflib import get_close_matches
from pathlib import Path
from typing import Any

import click

from mixops import __version__
from mixops.cli.common import Ctx, color_enabled

EPILOG = """\b
Exit codes:
  0  success (no changes, or changes applied)
  1  error (invalid input or usage, API failure, refused operation)
  2  changes present (plan --detailed-exitcode), drift found (drift)
  3  tests failed
"""


@contextmanager
def usage_errors_exit_1() -> Iterator[None]:
    """A usage error (unknown option or command, missing value) exits 1, not click's 2.

    Exit 2 means "changes present" (DESIGN.md section 3): a CI job running
    `mixops plan --detailed-exitcod` must fail, not read as a plan with changes.
    click's message (usage line, did-you-mean) is kept as is.
    """
    try:
        yield
    except click.UsageError as err:
        err.show()  # what click's own handler would print
        raise click.exceptions.Exit(1) from None


def _on_ctx(apply: Callable[[Ctx, Any], None]) -> Callable[[click.Context, click.Parameter, Any], None]:
    def callback(ctx: click.Context, _param: click.Parameter, value: Any) -> None:
        obj = ctx.find_object(Ctx)
        if obj is not None and value not in (None, False):
            apply(obj, value)

    return callback


def _set_color_off(obj: Ctx, _value: Any) -> None:
    obj.color = False


def _set_debug(obj: Ctx, _value: Any) -> None:
    obj.debug = True


def _set_project(obj: Ctx, value: Any) -> None:
    obj.project_dir = value


def _global_option(decls: list[str], apply: Callable[[Ctx, Any], None], text: str, **kwargs: Any) -> click.Option:
    """One of the group's options: `apply` stores its value in the shared `Ctx`; `text` is its help."""
    return click.Option(decls, expose_value=False, callback=_on_ctx(apply), help=text, **kwargs)


def global_options() -> list[click.Option]:
    """The group's options, also accepted after the command (`mixops apply --no-color`).

    Given after the command they override those given before it. They are not
    passed to the command's function: their callbacks set the shared `Ctx`.
    """
    return [
        _global_option(
            ["-C", "--project", "global_project"],
            _set_project,
            "Project directory (as `mixops -C DIR`).",
            type=click.Path(file_okay=False, path_type=Path),
        ),
        _global_option(
            ["--no-color", "global_no_color"], _set_color_off, "No colour (also when NO_COLOR is set).", is_flag=True
        ),
        _global_option(["--debug", "global_debug"], _set_debug, "Show tracebacks for errors.", is_flag=True),
    ]


class LazyGroup(click.Group):
    """Commands are imported on first use, keeping `mixops --help` and `--version` fast.

    It also sets the exit code of usage errors: parsing the group's options
    happens in `make_context`, resolving and parsing a command in `invoke`.
    """

    lazy: dict[str, str] = {
        "validate": "mixops.cli.validate:validate",
        "schema": "mixops.cli.schema:schema",
        "plan": "mixops.cli.plan_apply:plan",
        "apply": "mixops.cli.plan_apply:apply",
        "serve": "mixops.cli.serve:serve",
        "drift": "mixops.cli.drift_cmd:drift",
        "doctor": "mixops.cli.doctor_cmd:doctor",
        "export": "mixops.cli.export_cmd:export",
        "init": "mixops.cli.init_cmd:init",
        "local": "mixops.cli.local_cmd:local",
        "promote": "mixops.cli.promote_cmd:promote",
        "test": "mixops.cli.test_cmd:test",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        with usage_errors_exit_1():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        with usage_errors_exit_1():
            return super().invoke(ctx)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0]
        if not ctx.resilient_parsing and not name.startswith("-") and self.get_command(ctx, name) is None:
            # click suggests from `self.commands`, which holds none of the lazy ones
            close = get_close_matches(name, self.list_commands(ctx), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise click.UsageError(f"No such command {name!r}.{hint}", ctx)
        return super().resolve_command(ctx, args)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            import importlib

            module, attr = self.lazy[cmd_name].split(":")
            command: click.Command = getattr(importlib.import_module(module), attr)
        else:
            found = super().get_command(ctx, cmd_name)
            if found is None:
                return None
            command = found
        if not any(p.name == "global_debug" for p in command.params):
            command.params.extend(global_options())
        return command


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
