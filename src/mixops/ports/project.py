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

from mixops.core.locations import problems_from_validation
from mixops.core.models.project import ProjectConfig
from mixops.core.stack import Stack, build_stack
from mixops.errors import ManifestError, Problem, ProjectError
from mixops.ports.gcpause import gc_paused
from mixops.ports.yamlsource import load_file, load_paths

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

    def env_name(self, requested: str | None) -> str:
        name = requested or self.config.default_env_name()
        if name not in self.config.environments:
            raise ProjectError(
                f"unknown environment {name!r}; {PROJECT_FILE} declares: {', '.join(self.config.environments)}"
            )
        return name


def load_project(root: Path, *, required: bool = False, local_backend: LocalBackend | None = None) -> Project:
    """Read `mixops.yaml` under `root`. Without one, a default single-env project (unless required).

    `local_backend`: how to reach `target: local` environments (see `LocalBackend`).
    """
    path = root / PROJECT_FILE
    if not path.is_file():
        if required:
            raise ProjectError(
                f"no {PROJECT_FILE} in {root.as_posix() if str(root) != '.' else 'the current directory'} "
                f"(run from the project root or pass -C DIR)"
            )
        return Project(root=root, config=ProjectConfig(stack="default"), has_file=False, local_backend=local_backend)
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
    return Project(root=root, config=config, has_file=True, local_backend=local_backend)


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
        docs, problems = load_paths(targets, root=project.root)
        try:
            stack = build_stack(docs, project.config, env_name, os.environ if env_vars is None else env_vars)
        except ManifestError as err:
            stack_problems = err.problems
            stack = None
    if problems or stack_problems:
        raise ManifestError([*problems, *stack_problems])
    assert stack is not None
    return stack
