"""The click shell: parse, call the library once, render, exit with a documented code."""

from __future__ import annotations

import click

from mixops import __version__


@click.group()
@click.version_option(__version__, prog_name="mixops")
def cli() -> None:
    """mixops: config-as-code for Mixpeek."""


def main() -> None:
    cli()
