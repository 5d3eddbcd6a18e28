"""`mixops local reset`: rebuild a local environment's namespace from its seed files."""

from __future__ import annotations

import click

from mixops.cli.common import env_option, get_ctx, handle_errors
from mixops.core.wording import count
from mixops.errors import ManifestError, MissingExtraError, ProjectError


@click.group("local")
def local() -> None:
    """The embedded local backend's database (`target: local` environments).

    \b
    Examples:
      mixops local reset --env local
    """


@local.command("reset")
@env_option
@handle_errors
def reset(env: str | None) -> None:
    """Drop the environment's namespace from the local database and reload its seed.

    Everything in the namespace goes: collections and their documents, retrievers,
    taxonomies, clusters. The seed files then load again, so the database holds
    exactly what they say (use it after changing a seed-only collection's settings,
    which the database would otherwise keep). Run `mixops apply` afterwards to create
    what the manifests declare. Other namespaces and environments are not touched.

    \b
    Examples:
      mixops local reset
      mixops local reset --env dev
    """
    from mixops.ports.project import load_project
    from mixops.ports.seedfile import check_seed_files
    from mixops.ports.target import local_paths
    from mixops.ports.userpaths import shell_word

    ctx = get_ctx()
    project = load_project(ctx.project_dir)
    env_name = project.env_name(env)
    paths = local_paths(project, env_name)
    if paths is None:
        raise ProjectError(
            f"environment {env_name!r} is not a local environment (`target: local`); "
            "`mixops local reset` only rebuilds the embedded local backend's database"
        )
    problems = check_seed_files(paths.seeds, root=project.root)
    if problems:
        raise ManifestError(problems)
    try:
        from mixops.local.seed import reset_namespace
    except ImportError as err:  # the optional extra is missing
        raise MissingExtraError(
            f"the embedded local backend needs the optional dependencies: pip install 'mixops[local]' "
            f"({err.name} is missing)"
        ) from None
    paths.db.parent.mkdir(parents=True, exist_ok=True)
    outcome = reset_namespace(paths.db, paths.namespace, paths.seeds)
    removed, loaded = outcome["removed"], outcome["loaded"]
    shown = paths.db.relative_to(project.root).as_posix() if paths.db.is_relative_to(project.root) else paths.db
    ctx.echo(
        f"Reset {', '.join(repr(n) for n in outcome['namespaces'])} in {shown}: removed "
        f"{count(removed['collections'], 'collection')} ({count(removed['documents'], 'document')}), "
        f"{count(removed['retrievers'], 'retriever')}, {count(removed['taxonomies'], 'taxonomy')}, "
        f"{count(removed['clusters'], 'cluster')}."
    )
    waiting = loaded.get("pending", 0)
    later = f"; {count(waiting, 'document')} wait for collections the manifests declare" if waiting else ""
    ctx.echo(
        f"Loaded from {count(len(paths.seeds), 'seed file')}: {count(loaded.get('collections', 0), 'collection')}, "
        f"{count(loaded.get('documents', 0), 'document')}, {count(loaded.get('retrievers', 0), 'retriever')}{later}."
    )
    ctx.echo(f"Next: {project.invocation} apply --env {shell_word(env_name)} (creates what the manifests declare).")


def _with_global_options() -> None:
    # `mixops local reset --no-color -C DIR` as for every other command (the group gets
    # them from LazyGroup; a subcommand of a group does not).
    from mixops.cli.main import global_options

    reset.params.extend(global_options())


_with_global_options()
