"""``mixops serve``: run the local Mixpeek backend over HTTP (uvicorn)."""

from __future__ import annotations

from pathlib import Path

import click

from mixops.errors import DatabaseFileError, MissingExtraError, SeedError

INSTALL_HINT = "pip install 'mixops[local]'"


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535), help="TCP port.")
@click.option(
    "--db",
    "db_path",
    default=Path(".mixops/local.db"),
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="SQLite file holding every resource.",
)
@click.option(
    "--seed",
    "seeds",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Seed file (YAML/JSON) of collections and documents, loaded idempotently. Repeatable.",
)
@click.option(
    "--api-key",
    "api_keys",
    multiple=True,
    envvar="MIXOPS_SERVE_API_KEY",
    show_envvar=True,
    help="Accepted bearer key. Repeatable. Without it, any non-empty key is accepted. Prefer the "
    "environment variable (several keys separated by spaces): a command line is visible to `ps`.",
)
@click.option(
    "--fault-rate",
    default=0.0,
    show_default=True,
    type=click.FloatRange(0.0, 1.0),
    help="Share of requests answered with 429, 503 or a slow response (reliability tests).",
)
@click.option("--namespace", default="default", show_default=True, help="Namespace the seeds go into.")
@click.option(
    "--lenient",
    is_flag=True,
    help="Ignore undeclared body keys and name them in `warnings` (the API before 2026-11-02). "
    "Default: refuse them with 422 extra_forbidden at any depth, as the API does now.",
)
# Strict is the default now; the old flag is still accepted so scripts that pass it keep working.
@click.option("--strict-extra-keys", is_flag=True, hidden=True)
@click.option(
    "--without-taxonomy-versions",
    is_flag=True,
    help="Serve no /v1/taxonomies/{id}/versions routes (404), as an API without taxonomy versions "
    "would: mixops then replaces a taxonomy whose config changes. Also MIXOPS_LOCAL_TAXONOMY_VERSIONS=off.",
)
def serve(
    host: str,
    port: int,
    db_path: Path,
    seeds: tuple[Path, ...],
    api_keys: tuple[str, ...],
    fault_rate: float,
    namespace: str,
    lenient: bool,
    strict_extra_keys: bool,
    without_taxonomy_versions: bool,
) -> None:
    """Serve the local Mixpeek-compatible API (docs at /docs, OpenAPI at /openapi.json).

    \b
    Examples:
      mixops serve --seed examples/catalog/data/seed.yaml --namespace catalog-local
      MIXOPS_SERVE_API_KEY=sk_test mixops serve --port 9000 --fault-rate 0.3
    """
    from mixops.ports.gcpause import freeze_on_resume

    freeze_on_resume(False)  # a long-lived process: see ports/gcpause.py
    try:
        import uvicorn

        from mixops.local.app import create_app
    except ImportError as exc:
        raise MissingExtraError(
            f"mixops serve needs the local backend's dependencies ({exc.name}): {INSTALL_HINT}"
        ) from exc
    try:
        app = create_app(
            db_path,
            api_keys=list(api_keys) or None,
            seed_files=seeds,
            fault_rate=fault_rate,
            strict_extra_keys=not lenient,
            seed_namespace=namespace,
            taxonomy_versions=False if without_taxonomy_versions else None,
        )
    except (SeedError, DatabaseFileError) as exc:
        raise click.ClickException(str(exc)) from exc
    keys = "the given --api-key values" if api_keys else "any non-empty bearer key"
    click.echo(f"mixops local backend on http://{host}:{port} (db {db_path}; accepting {keys})", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
