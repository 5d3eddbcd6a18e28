"""Shared pieces of the click shell: the context object, option bundles, error handling."""

from __future__ import annotations

import functools
import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from mixops.core.wording import count
from mixops.errors import ManifestError, MixopsError

# Exit codes are a contract (DESIGN.md section 3); printed in `mixops --help`. Success is 0.
EXIT_ERROR = 1
EXIT_CHANGES = 2
EXIT_TESTS_FAILED = 3

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Ctx:
    project_dir: Path
    debug: bool
    color: bool

    def echo(self, text: str = "", *, err: bool = False) -> None:
        click.echo(text, err=err, color=self.color)


def color_enabled(no_color: bool) -> bool:
    if no_color or os.environ.get("NO_COLOR"):
        return False
    return sys.stdout.isatty()


def handle_errors(fn: F) -> F:
    """Turn mixops errors into a message and an exit code; never a traceback unless --debug."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx: Ctx = click.get_current_context().find_object(Ctx)  # type: ignore[assignment]
        debug = ctx.debug if ctx else False
        try:
            return fn(*args, **kwargs)
        except MixopsError as err:
            if debug:
                traceback.print_exc()
            if isinstance(err, ManifestError):
                for p in err.problems:
                    click.echo(p.render(), err=True)
                n = len(err.problems)
                click.echo(f"{count(n, 'problem')} found", err=True)
            else:
                click.echo(f"error: {err}", err=True)
            for note in getattr(err, "__notes__", ()):  # e.g. a lease that could not be released as well
                click.echo(f"note: {note}", err=True)
            sys.exit(err.exit_code)
        except (click.exceptions.Exit, click.ClickException, SystemExit, KeyboardInterrupt):
            raise
        except OSError as err:
            # A file the command reads or writes (the API client turns network errors into ApiError).
            if debug:
                traceback.print_exc()
            where = f" {Path(os.fsdecode(err.filename)).as_posix()}" if err.filename else ""
            click.echo(f"error:{where}: {err.strerror or err}", err=True)
            sys.exit(EXIT_ERROR)
        except Exception as err:  # a bug: say so plainly, keep the traceback for --debug
            if debug:
                raise
            click.echo(f"internal error: {type(err).__name__}: {err} (rerun with --debug for the traceback)", err=True)
            sys.exit(EXIT_ERROR)

    return wrapper  # type: ignore[return-value]


def write_output(path: Path, text: str, what: str) -> None:
    """Write a file the user asked for (--out, --junit...), its directory created as needed.

    A failure (no permission, a read-only or pseudo file system, a file where a
    directory should be) is the user's to fix, so it is a clean error naming the path.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as err:
        raise MixopsError(f"cannot write {what} to {path.as_posix()}: {err.strerror or err}") from None


_PLURALS = {"taxonomy": "taxonomies", "retriever": "retrievers", "cluster": "clusters"}


def plural(n: int, noun: str) -> str:
    """`1 taxonomy`, `2 taxonomies`: the count with its noun in the right number."""
    return f"{n} {noun if n == 1 else _PLURALS.get(noun, noun + 's')}"


def get_ctx() -> Ctx:
    obj = click.get_current_context().find_object(Ctx)
    assert obj is not None
    return obj


env_option = click.option(
    "--env", "-e", "env", metavar="NAME", default=None, help="Environment from mixops.yaml (default: its default)."
)
