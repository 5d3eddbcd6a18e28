"""Load a project from disk: `mixops.yaml`, then every manifest it names (I/O port).

The pure assembly lives in `mixops.core.stack`; this module only finds files,
reads them through the YAML loader and hands plain data over.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import httpx
from pydantic import ValidationError

from mixops.core.locations import Locatable, problems_from_validation
from mixops.core.models.project import ProjectConfig
from mixops.core.stack import Stack, build_stack
from mixops.errors import ManifestError, Problem, ProjectError
from mixops.ports.gcpause import gc_paused
from mixops.ports.seedfile import check_seed_files
from mixops.ports.userpaths import invocation
from mixops.ports.yamlsource import load_file, load_sources

PROJECT_FILE = "mixops.yaml"


class LocalBackend(Protocol):
    """Opens the embedded local backend on a database file: a transport for `MixpeekClient`.

    The shell provides it (`mixops.cli.backend.in_process`; tests may pass
    `mixops.local.inprocess.local_transport`), so that the ports never import the backend.
    Closing the transport closes the database.
    """

    def __call__(
        self, db_path: Path, namespace: str, seed_files: Sequence[Path], api_key: str
    ) -> httpx.AsyncBaseTransport: ...


@dataclass(frozen=True)
class Project:
    root: Path
    config: ProjectConfig
    has_file: bool
    # What a `target: local` environment connects to; None: such environments cannot be reached.
    local_backend: LocalBackend | None = field(default=None, compare=False, repr=False)
    # How the user called mixops for this project (`mixops -C DIR` when they named the
    # directory): the start of every command a message tells them to run next.
    invocation: str = field(default="mixops", compare=False)
    # mixops.yaml as read, to locate problems found later (an environment's parameter values).
    config_doc: Locatable | None = field(default=None, compare=False, repr=False)

    def env_name(self, requested: str | None) -> str:
        name = requested or self.config.default_env_name()
        if name not in self.config.environments:
            raise ProjectError(
                f"unknown environment {name!r}; {PROJECT_FILE} declares: {', '.join(self.config.environments)}"
            )
        return name


def searched_dirs(start: Path) -> list[Path]:
    """Where mixops.yaml is looked for, nearest first: `start`, then its parents, as git looks for `.git`.

    The search stops at the filesystem root and at a git root (a directory holding
    `.git`, itself searched): a project never spans repositories, and a mixops.yaml
    in an enclosing repository or in the home directory is not this project's.
    """
    out = [start]
    if (start / ".git").exists():
        return out
    for directory in start.resolve().parents:
        out.append(directory)
        if (directory / ".git").exists():
            break
    return out


def find_project_root(start: Path) -> Path | None:
    """The nearest searched directory holding mixops.yaml (`start` as given, else absolute)."""
    for directory in searched_dirs(start):
        if (directory / PROJECT_FILE).is_file():
            return directory
    return None


def no_project_message(start: Path) -> str:
    dirs = searched_dirs(start)
    where = start.resolve().as_posix()
    above = f" or above it (searched up to {dirs[-1].as_posix()})" if len(dirs) > 1 else ""
    return (
        f"no {PROJECT_FILE} found in {where}{above}; start a project with `mixops init` "
        f"(or `mixops init DIR`), or name one with -C DIR"
    )


def load_project(start: Path, *, required: bool = True, local_backend: LocalBackend | None = None) -> Project:
    """Read the project whose `mixops.yaml` is at or above `start` (see `find_project_root`).

    Without one: a ProjectError saying how to start a project, unless not `required`
    (then a default single-environment project rooted at `start`).
    `local_backend`: how to reach `target: local` environments (see `LocalBackend`).
    """
    if not start.is_dir():
        raise ProjectError(f"{start.as_posix()}: no such directory (the project directory, -C)")
    root = find_project_root(start)
    if root is None:
        if required:
            raise ProjectError(no_project_message(start))
        return Project(
            root=start,
            config=ProjectConfig(stack="default"),
            has_file=False,
            local_backend=local_backend,
            invocation=invocation(start),
        )
    path = root / PROJECT_FILE
    docs, problems = load_file(path, display=PROJECT_FILE)
    if problems:
        raise ManifestError(problems)
    if len(docs) != 1:
        raise ManifestError([Problem(PROJECT_FILE, 1, 1, "", f"expected one YAML document, found {len(docs)}")])
    doc = docs[0]
    if not isinstance(doc.data, dict):
        raise ManifestError(
            [Problem(PROJECT_FILE, 1, 1, "", "mixops.yaml must be a mapping", "start with `stack: NAME`")]
        )
    try:
        config = ProjectConfig.model_validate(doc.data, strict=True)
    except ValidationError as err:
        raise ManifestError(problems_from_validation(err, doc, model=ProjectConfig)) from None
    return Project(
        root=root,
        config=config,
        has_file=True,
        local_backend=local_backend,
        invocation=invocation(start),
        config_doc=doc,
    )


def load_stack(
    project: Project,
    environment: str | None = None,
    *,
    paths: Sequence[Path] | None = None,
    env_vars: Mapping[str, str] | None = None,
) -> Stack:
    """Load and validate every manifest of the project (or `paths`) for one environment."""
    env_name = project.env_name(environment)
    targets = list(paths) if paths else [project.root / p for p in project.config.manifests]
    stack_problems: list[Problem] = []
    with gc_paused():  # validation allocates as much as parsing does, and frees as little
        sources = load_sources(targets, root=project.root)
        problems = sources.problems
        try:
            stack = build_stack(
                sources.docs,
                project.config,
                env_name,
                os.environ if env_vars is None else env_vars,
                unread=sources.incomplete,
                project_doc=project.config_doc,
            )
        except ManifestError as err:
            stack_problems = err.problems
            stack = None
    # The environment's seed files (local backend data) are checked like manifests, and
    # against the collections the manifests declare when all of them were loaded: a file
    # that did not load (a tab, an alias bomb, too big) may declare the seed's collections,
    # and false "no manifest declares" errors would bury its real problem.
    env = project.config.environments.get(env_name)
    complete = stack is not None and not paths and not problems and not sources.incomplete
    declared = getattr(stack, "collections", None) if complete else None
    seed_problems = (
        check_seed_files(
            [project.root / s for s in env.seed],
            root=project.root,
            declared=list(declared) if isinstance(declared, Mapping) else None,
        )
        if env
        else []
    )
    if problems or stack_problems or seed_problems:
        raise ManifestError([*problems, *stack_problems, *seed_problems])
    assert stack is not None
    return stack
