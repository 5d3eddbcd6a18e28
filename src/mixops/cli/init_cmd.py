"""`mixops init [DIR]`: a new project that validates, plans, applies and tests green as written.

The files are the smallest complete project: a local environment on the embedded
backend, a seed with one collection of a few documents, one retriever and one
test of it, and the JSON Schemas the files point at for editor completion.

The schemas are written into the project (`schemas/`) and referenced by relative
path: it works offline, in any editor using yaml-language-server, and matches the
mixops version installed; `mixops schema` refreshes them after an upgrade.
Nothing is ever overwritten: when any of the files exists, nothing is written.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click

from mixops.cli.common import get_ctx, handle_errors
from mixops.errors import MixopsError

PROJECT_TEMPLATE = """\
# yaml-language-server: $schema=schemas/mixops-project.schema.json
# A mixops project (made by `mixops init`): validate, plan, apply and test it with
#   mixops validate && mixops plan && mixops apply && mixops test
stack: {stack}                     # ownership marker written on every resource mixops creates
manifests: [manifests/]
default_environment: local
environments:
  local:
    target: local                  # the embedded backend, on .mixops/local.db (keep it out of git)
    namespace: {stack}-local
    seed: [data/seed.yaml]         # collections and documents the local backend loads
  # A Mixpeek namespace, once you have an API key:
  # staging:
  #   api_url: https://api.mixpeek.com
  #   namespace: {stack}-staging
  #   api_key_env: MIXPEEK_API_KEY
"""

SEED = """\
# Seed data for the `local` environment: collections that exist already in a Mixpeek namespace
# (manifests may declare them instead, see `collections:`), made here by the local backend.
collections:
  - collection_name: articles
    description: Help-centre articles
    feature_extractor:
      feature_extractor_name: text_extractor
      version: v1
      input_mappings: {text: [title, body]}
    documents:
      - {document_id: doc_reset_password, title: Reset your password, topic: account,
         body: Open the sign-in page, choose forgot password and follow the link we email you.}
      - {document_id: doc_change_email, title: Change your email address, topic: account,
         body: Go to account settings and enter the new email address twice.}
      - {document_id: doc_invoice, title: Download an invoice, topic: billing,
         body: Every invoice is under billing history as a PDF download.}
      - {document_id: doc_refund, title: Ask for a refund, topic: billing,
         body: Refunds are possible within thirty days of payment from the billing page.}
      - {document_id: doc_export_data, title: Export your data, topic: privacy,
         body: Request an export of all your data as a zip archive from the privacy page.}
      - {document_id: doc_delete_account, title: Delete your account, topic: privacy,
         body: Deleting the account removes all your data after fourteen days.}
"""

RETRIEVERS = """\
# yaml-language-server: $schema=../schemas/mixops-manifest.schema.json
# Retrievers. Collections are referenced by name; mixops resolves them per namespace.
version: "1.0"
retrievers:
  - name: article_search
    description: Semantic search over the help-centre articles.
    collection_identifiers: [articles]
    input_schema:
      query: {type: text, required: true, description: What the user asked.}
    stages:
      - stage_name: search
        stage_type: filter
        config:
          stage_id: feature_search
          parameters:
            searches:
              - feature_uri: mixpeek://text_extractor@v1/embedding
                query: {input_mode: text, value: "{{INPUT.query}}"}
                top_k: 20
            final_top_k: 5
"""

TESTS = """\
# yaml-language-server: $schema=../schemas/mixops-manifest.schema.json
# Tests run at plan time against the desired config, and after apply (`mixops test`).
version: "1.0"
tests:
  - name: password questions find the reset article
    retriever: article_search
    inputs: {query: forgot my password}
    expect:
      min_results: 1
      top_k: {k: 1, contains: [doc_reset_password]}
"""


def project_files(stack: str) -> dict[str, str]:
    """Relative POSIX path -> text of every file `mixops init` writes."""
    from mixops.schemas import render_schemas

    files = {
        "mixops.yaml": PROJECT_TEMPLATE.format(stack=stack),
        "data/seed.yaml": SEED,
        "manifests/retrievers.yaml": RETRIEVERS,
        "manifests/tests.yaml": TESTS,
    }
    files.update({f"schemas/{name}": text for name, text in render_schemas().items()})
    return files


def stack_name(directory: Path) -> str:
    """A valid stack name from the directory's name (`My Project` -> `my-project`)."""
    name = re.sub(r"[^a-z0-9_.-]+", "-", directory.resolve().name.lower()).strip("-._")
    return name or "project"


@click.command("init")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--stack", "stack", metavar="NAME", help="Stack name (default: from the directory's name).")
@handle_errors
def init(directory: Path | None, stack: str | None) -> None:
    """Start a project in DIR (default: -C, else the current directory).

    Writes mixops.yaml with a `local` environment on the embedded backend, a
    seed with one collection of six documents, one retriever, one test, and
    the JSON Schemas the files point at (schemas/, for editor completion).
    It refuses to overwrite any existing file, and then writes nothing.

    \b
    Examples:
      mixops init
      mixops init search-config --stack search
      cd search-config && mixops validate && mixops plan && mixops apply
    """
    from mixops.core.models.common import NAME_PATTERN

    ctx = get_ctx()
    target = directory if directory is not None else ctx.project_dir
    if directory is not None and not directory.is_absolute():
        target = ctx.project_dir / directory
    name = stack or stack_name(target)
    if not re.match(NAME_PATTERN, name) or len(name) > 90:
        raise MixopsError(f"stack name {name!r} is not valid: letters, digits, '_', '.', '-' (pass --stack NAME)")
    files = project_files(name)
    existing = [path for path in files if (target / path).exists()]
    if existing:
        listed = ", ".join((target / path).as_posix() for path in existing)
        raise MixopsError(f"init refuses to overwrite existing files: {listed}; nothing was written")
    for path, text in files.items():
        dest = target / path
        dest.parent.mkdir(parents=True, exist_ok=True)
        with dest.open("x", encoding="utf-8") as handle:  # "x": never replace a file made meanwhile
            handle.write(text)
    shown = target.as_posix()
    ctx.echo(f"Created a mixops project (stack {name!r}) in {shown}:")
    for path in files:
        ctx.echo(f"  {path}")
    ctx.echo("Next steps (and add .mixops/, the local backend's database, to .gitignore):")
    cd = "" if shown == "." else f"cd {shlex.quote(shown)} && "
    ctx.echo(f"  {cd}mixops validate && mixops plan && mixops apply && mixops test")
