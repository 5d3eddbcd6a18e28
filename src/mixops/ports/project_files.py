"""The files a project reads, so that a file a command writes never replaces one (I/O port).

`plan --out manifests/derived.yaml` once replaced a manifest with plan JSON and said
"Saved the plan"; the next validate failed. The options that name a file to write
(`plan --out`, `plan --out-markdown`, `test --junit`) are checked here before any work
is done, the way `export` refuses to write where YAML files are (ports/export.py):
nothing is written, and the message says which file and why.

Read by the project: mixops.yaml, every manifest file (and any new YAML file under a
manifest directory, which the next load would read as a manifest), every environment's
seed files and the documents files they name.
"""

from __future__ import annotations

from pathlib import Path

from mixops.errors import MixopsError
from mixops.ports.project import PROJECT_FILE, Project
from mixops.ports.userpaths import shown
from mixops.ports.yamlsource import YAML_SUFFIXES, discover, load_file

PROJECT_FILE_ROLE = f"the project file ({PROJECT_FILE})"


def files_read(project: Project) -> dict[Path, str]:
    """Every existing file the project reads, resolved, with what it is to the project."""
    root = project.root
    found: dict[Path, str] = {(root / PROJECT_FILE).resolve(): PROJECT_FILE_ROLE}
    manifests, _ = discover([root / p for p in project.config.manifests], root=root)
    found.update({f.resolve(): "a manifest" for f in manifests})
    for env in project.config.environments.values():
        for entry in env.seed:
            seed = root / entry
            found.setdefault(seed.resolve(), "a seed file")
            for documents in _documents_files(seed, root):
                found.setdefault(documents.resolve(), f"a documents file of the seed file {entry}")
    return found


def _documents_files(seed: Path, root: Path) -> list[Path]:
    """The documents files a seed file names, read leniently (validate reports its problems)."""
    if not seed.is_file():
        return []
    docs, problems = load_file(seed, display=seed.name)
    if problems or len(docs) != 1 or not isinstance(docs[0].data, dict):
        return []
    entries = docs[0].data.get("collections")
    return [
        seed.parent / e["documents_file"]
        for e in (entries if isinstance(entries, list) else [])
        if isinstance(e, dict) and isinstance(e.get("documents_file"), str)
    ]


def read_as(project: Project, path: Path) -> str | None:
    """Why writing `path` would harm the project (it reads the file, or would once written), or None."""
    target = path.resolve()
    role = files_read(project).get(target)
    if role is not None:
        return f"it is {role}, which the project reads, and would be replaced"
    if target.name.endswith(YAML_SUFFIXES) and not target.name.startswith("."):
        for entry in project.config.manifests:
            directory = (project.root / entry).resolve()
            if directory.is_dir() and target.is_relative_to(directory):
                inside = target.relative_to(directory).parts
                if not any(part.startswith(".") for part in inside):
                    return f"the next command would read it as a manifest (every YAML file under {entry} is one)"
    return None


def refuse_project_file(project: Project, path: Path | None, option: str, what: str) -> None:
    """Refuse `option path` when the project reads `path`: writing `what` there would replace it."""
    if path is None:
        return
    why = read_as(project, path)
    if why is not None:
        raise MixopsError(
            f"{option} {shown(path)}: refusing to write {what} there: {why}; nothing was written. "
            f"Name a file outside the manifests and seed data "
            f"(e.g. {option} {_suggestion(option)})"
        )


def _suggestion(option: str) -> str:
    return {"--out": "plan.json", "--out-markdown": "plan.md", "--junit": "junit.xml"}.get(option, "out.txt")
