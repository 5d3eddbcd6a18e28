"""Export a live namespace as manifest files: the bootstrap path from clicks to code.

Each exported spec is the live object in manifest shape (the live reader maps
read shapes to create shapes and ids to names), then:

- ownership metadata removed (`normalise.OWNER_KEYS`);
- every field whose absence normalises to the same spec left out, so values
  that equal the API's (or the model's) defaults do not clutter the files.
  Removal is checked against `normalise`, which is what the plan compares:
  this is what makes "export, then plan shows no changes" hold by construction;
- secret-looking string values (keys named like api keys, tokens, passwords,
  authorization headers) replaced by `${{ env.NAME }}` placeholders; the
  variables to set are listed in the file header and returned to the caller;
- every value the manifests take from `${{ env.X }}` put back as that placeholder
  (by path, and by value wherever else it appears). This needs X's value: when a
  variable the manifests use is unset, export refuses and writes nothing.

Only resources owned by the project's stack are exported unless `include_all`.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from mixops.core.live import TEMP_SUFFIX, LiveState
from mixops.core.models.collection import APPLICATION_LIST
from mixops.core.normalise import normalise, strip_ownership
from mixops.core.placeholders import REF_RE, iter_placeholders, mask_at_paths
from mixops.core.stack import KINDS, SECTION, Stack
from mixops.ports.live_reader import read_env
from mixops.ports.project import Project
from mixops.ports.target import describe
from mixops.ports.userpaths import shown
from mixops.ports.yamlsource import load_paths
from mixops.schemas import SCHEMA_BASE

Layout = Literal["per-kind", "per-resource"]
SCHEMA_FILE = "mixops-manifest.schema.json"
SECRET_KEY = re.compile(
    r"(api[_-]?key|apikey|token|secret|passw(or)?d|authorization|credential|private[_-]?key|bearer)", re.IGNORECASE
)


@dataclass(frozen=True)
class SecretVar:
    name: str  # the environment variable to set
    where: str  # "retriever 'x': stages[0].config.parameters.headers.Authorization"


@dataclass(frozen=True)
class ExportedFile:
    path: str  # relative to the output directory, POSIX
    text: str


@dataclass(frozen=True)
class Export:
    namespace: str
    files: tuple[ExportedFile, ...]
    variables: tuple[SecretVar, ...]
    exported: dict[str, int]  # kind -> count
    skipped_unowned: int
    replaced: frozenset[str] = frozenset()  # paths of `files` that existed before (--force)


# --- pure steps -------------------------------------------------------------------


def minimise(kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    """Leave out every field whose absence normalises to the same spec (defaults)."""
    target = normalise(kind, spec)
    out = copy.deepcopy(spec)

    def same() -> bool:
        return normalise(kind, out) == target

    def walk(node: dict[str, Any]) -> None:
        for key in list(node):
            if node is out and key == "name":
                continue
            value = node.pop(key)
            if same():
                continue  # pre-order: a whole default subtree goes at once
            node[key] = value
            if isinstance(value, dict):
                kept = copy.deepcopy(value)
                walk(value)
                if not value:  # `{}` would mean the same, but the explicit defaults read better
                    node[key] = kept
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, dict):
                        walk(item)

    walk(out)
    return out


def _env_name(*parts: str) -> str:
    return re.sub(r"_+", "_", re.sub(r"[^A-Z0-9]", "_", "_".join(parts).upper())).strip("_")


def extract_secrets(
    kind: str, name: str, spec: dict[str, Any], taken: set[str]
) -> tuple[dict[str, Any], list[SecretVar]]:
    """Replace secret-looking values by `${{ env.NAME }}`; `taken` keeps names unique across the export."""
    found: list[SecretVar] = []

    def walk(node: Any, path: str) -> Any:
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                sub = f"{path}.{key}" if path else str(key)
                if (
                    isinstance(value, str)
                    and value
                    and SECRET_KEY.search(str(key))
                    and "${{" not in value
                    and not value.startswith("{{")  # an input template, not a secret
                ):
                    var = base = _env_name(name, str(key))
                    n = 2
                    while var in taken:
                        var, n = f"{base}_{n}", n + 1
                    taken.add(var)
                    found.append(SecretVar(var, f"{kind} {name!r}: {sub}"))
                    out[key] = f"${{{{ env.{var} }}}}"
                else:
                    out[key] = walk(value, sub)
            return out
        if isinstance(node, list):
            return [walk(v, f"{path}[{i}]") for i, v in enumerate(node)]
        return node

    return walk(spec, ""), found


def export_specs(live: LiveState, stack: str, include_all: bool) -> tuple[dict[str, list[dict[str, Any]]], int]:
    """Manifest-shaped, minimal specs per kind (secrets still in place), and how many were skipped."""
    out: dict[str, list[dict[str, Any]]] = {k: [] for k in KINDS}
    skipped = 0
    for (kind, name), res in sorted(live.resources.items()):
        if name.endswith(TEMP_SUFFIX):
            continue  # a replacement left by an interrupted apply: not a resource of its own
        if res.owner_stack != stack and not include_all:
            skipped += 1
            continue
        spec = strip_ownership(res.spec)
        spec = {"name": name, **{k: v for k, v in spec.items() if k != "name"}}
        out[kind].append(minimise(kind, spec))
    return out, skipped


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+|\.{2,}")


def file_stem(name: str, used: set[str]) -> str:
    """A file name for a resource name, safe on any file system and unique in `used`.

    Live names are chosen by whoever has API access: `../../x` or `a/b` must not
    become directories. Separators and other unsafe characters become `_`, and
    dot runs and leading dots go (no `..`, no hidden files).
    """
    stem = re.sub(r"_+", "_", _UNSAFE.sub("_", name)).strip("._") or "_"
    unique, n = stem, 2
    while unique.lower() in used:  # case-insensitive file systems
        unique, n = f"{stem}-{n}", n + 1
    used.add(unique.lower())
    return unique


def _header(schema: str, namespace: str, variables: Iterable[SecretVar]) -> str:
    lines = [f"# yaml-language-server: $schema={schema}", f"# Exported by `mixops export` from namespace {namespace}."]
    variables = list(variables)
    if variables:
        lines.append("# Secrets were replaced by placeholders; set these environment variables before plan/apply:")
        lines += [f"#   {v.name}  ({v.where})" for v in variables]
    return "\n".join(lines) + "\n"


def _dump(data: dict[str, Any]) -> str:
    text: str = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False, width=120)
    return text


def render_files(
    specs: dict[str, list[dict[str, Any]]],
    layout: Layout,
    namespace: str,
    schema_ref: Callable[[str], str],
) -> tuple[list[ExportedFile], list[SecretVar]]:
    files: list[ExportedFile] = []
    all_vars: list[SecretVar] = []
    taken: set[str] = set()
    sections = fold_applications(specs)
    for kind in KINDS:
        if kind == "application":
            continue  # folded into their collections, or in the binding sections below
        _render_section(
            kind, SECTION[kind], sections[SECTION[kind]], layout, namespace, schema_ref, files, all_vars, taken
        )
    for section in APPLICATION_LIST.values():
        _render_section(
            "application", section, sections[section], layout, namespace, schema_ref, files, all_vars, taken
        )
    return files, all_vars


def fold_applications(specs: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """Specs by manifest section: each application entry inline on its collection when that
    collection is exported too, otherwise a binding (`taxonomy_applications:` ...) naming it."""
    out: dict[str, list[dict[str, Any]]] = {SECTION[k]: list(specs.get(k, [])) for k in SECTION}
    out.update({section: [] for section in APPLICATION_LIST.values()})
    collections = {str(c["name"]): c for c in out["collections"]}
    for app in specs.get("application", []):
        entry = {k: v for k, v in app.items() if k not in ("name", "collection", "type")}
        section = APPLICATION_LIST[str(app["type"])]
        owner = collections.get(str(app["collection"]))
        if owner is not None:
            owner.setdefault(section, []).append(entry)
        else:
            out[section].append({"collection": app["collection"], **entry, "name": app["name"]})
    return out


def _render_section(
    kind: str,
    section: str,
    items_of_section: list[dict[str, Any]],
    layout: Layout,
    namespace: str,
    schema_ref: Callable[[str], str],
    files: list[ExportedFile],
    all_vars: list[SecretVar],
    taken: set[str],
) -> None:
    """The files of one manifest section, appended to `files` (their secret variables to `all_vars`)."""
    groups: list[tuple[str, list[dict[str, Any]]]]
    if layout == "per-kind":
        groups = [(f"{section}.yaml", items_of_section)] if items_of_section else []
    else:
        used: set[str] = set()
        groups = [(f"{section}/{file_stem(str(spec['name']), used)}.yaml", [spec]) for spec in items_of_section]
    for path, items in groups:
        clean, file_vars = [], []
        for spec in items:
            masked, found = extract_secrets(kind, spec["name"], spec, taken)
            if kind == "application":
                masked.pop("name", None)  # a binding has no name of its own: collection + applied resource
            clean.append(masked)
            file_vars += found
        body = _dump({"version": "1.0", section: clean})
        header = _header(schema_ref(path), namespace, file_vars)
        if layout == "per-resource" and kind != "application" and Path(path).stem != items[0]["name"]:
            header += f"# The file name is made safe from the resource name {items[0]['name']!r}.\n"
        files.append(ExportedFile(path, header + body))
        all_vars += file_vars


def restore_placeholders(node: Any, known: dict[str, str]) -> Any:
    """Put `${{ env.NAME }}` back wherever a value the manifests took from NAME appears."""
    if isinstance(node, dict):
        return {k: restore_placeholders(v, known) for k, v in node.items()}
    if isinstance(node, list):
        return [restore_placeholders(v, known) for v in node]
    if isinstance(node, str):
        for value in sorted(known, key=len, reverse=True):
            if value and value in node:
                node = node.replace(value, f"${{{{ env.{known[value]} }}}}")
    return node


# --- I/O --------------------------------------------------------------------------


def env_references(project: Project) -> dict[str, str]:
    """Every `${{ env.NAME }}` the manifests use -> where it is first used (`file:line`).

    Read from the parsed files, not from a validated stack: manifests that do not
    validate still say which values are secrets.
    """
    docs, _ = load_paths([project.root / p for p in project.config.manifests], root=project.root)
    found: dict[str, str] = {}

    def walk(node: Any, at: tuple[str | int, ...], doc: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, (*at, key), doc)
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, (*at, i), doc)
        elif isinstance(node, str) and "${{" in node:
            for _start, _end, expr in iter_placeholders(node):
                ref = REF_RE.match(expr)
                if ref and ref.group(1) == "env" and ref.group(2) not in found:
                    found[ref.group(2)] = f"{doc.file}:{doc.locate(at)[0]}"

    for doc in docs:
        if doc.may_hold_placeholders:
            walk(doc.data, (), doc)
    return found


def refuse_unset_secrets(references: dict[str, str], environ: Mapping[str, str], namespace: str) -> None:
    """Without a secret's value, export cannot find where the live namespace holds it: refuse."""
    from mixops.errors import MixopsError

    unset = sorted(name for name in references if name not in environ)
    if unset:
        listed = ", ".join(f"{name} (used at {references[name]})" for name in unset)
        raise MixopsError(
            f"export needs the value of every secret the manifests use, to keep it out of the files it writes; "
            f"not set: {listed}. Set {'them' if len(unset) > 1 else 'it'} as for `mixops apply --env ...` "
            f"(the values namespace {namespace!r} was applied with) and rerun; nothing was written"
        )


def manifests_in_the_way(project: Project, out_dir: Path) -> list[Path]:
    """YAML files that exported files would sit beside: duplicate names on the next validate, or overwritten.

    Those under `out_dir`, and, when `out_dir` is inside one of the project's
    manifest paths, those the loader would read together with the exported files.
    """
    where = out_dir.resolve()
    roots = [out_dir] if out_dir.is_dir() else []
    for entry in project.config.manifests:
        path = project.root / entry
        if path.is_dir() and where.is_relative_to(path.resolve()):
            roots.append(path)
    found: dict[Path, None] = {}  # ordered, each once
    for top in roots:
        for current, dirnames, filenames in os.walk(top):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))  # as the loader skips them
            for name in sorted(filenames):
                if name.endswith((".yaml", ".yml")) and not name.startswith("."):
                    found[Path(current) / name] = None
    return list(found)


def _known_secrets(project: Project, env_name: str) -> Stack | None:
    """The project's stack (when its manifests load), so export can put its placeholders back."""
    from mixops.errors import MixopsError
    from mixops.ports.project import load_stack

    try:
        return load_stack(project, env_name)
    except MixopsError:  # bootstrapping from a namespace without valid manifests: heuristics only
        return None


def restore_secret_paths(kind: str, spec: dict[str, Any], stack: Stack) -> dict[str, Any]:
    """Placeholders back at every path the manifests fill from the environment.

    By path, not only by value: the live value there may be a rotated secret's
    old value, which no current environment variable holds.
    """
    paths = stack.secret_paths.get((kind, str(spec.get("name"))))
    if not paths:
        return spec
    out: dict[str, Any] = mask_at_paths(spec, (), paths, any_index=False, fill=_placeholder)
    return out


def _placeholder(name: str) -> str:
    return f"${{{{ env.{name} }}}}"


def _schema_ref(project_root: Path, out_dir: Path) -> Callable[[str], str]:
    local = project_root / "schemas" / SCHEMA_FILE

    def ref(relative: str) -> str:
        if local.is_file():
            start = (out_dir / relative).parent
            return Path(os.path.relpath(local.resolve(), start.resolve())).as_posix()
        return SCHEMA_BASE + SCHEMA_FILE

    return ref


def _inside(out_dir: Path, relative: str) -> Path:
    """`out_dir / relative`, refused when it resolves outside `out_dir` (`..`, a symlink)."""
    from mixops.errors import MixopsError

    root = out_dir.resolve()
    target = (out_dir / relative).resolve()
    if not target.is_relative_to(root):
        raise MixopsError(
            f"export refuses to write {relative!r}: it resolves outside the output directory {out_dir.as_posix()}"
        )
    return target


async def export_env(
    project: Project,
    env_name: str,
    out_dir: Path,
    *,
    include_all: bool = False,
    layout: Layout = "per-kind",
    parallelism: int = 8,
    force: bool = False,
) -> Export:
    """Read the environment's namespace and write manifest files under `out_dir`.

    Refused, before anything is read, when YAML files are in the way (see
    `manifests_in_the_way`), unless `force`.
    """
    from mixops.errors import MixopsError

    info = describe(project, env_name)
    in_the_way = [] if force else manifests_in_the_way(project, out_dir)
    if in_the_way:
        listed = ", ".join(shown(f) for f in in_the_way[:5]) + (", ..." if len(in_the_way) > 5 else "")
        raise MixopsError(
            f"export refuses to write into {shown(out_dir)}: YAML files are already there or beside it "
            f"({listed}); exported files would duplicate their resources on the next validate, or overwrite them. "
            f"Export into a new directory (-o DIR) and move what you need, or pass --force; nothing was written"
        )
    references = env_references(project)
    refuse_unset_secrets(references, os.environ, info.namespace)
    stack = _known_secrets(project, env_name)
    # Without a stack (manifests that do not validate), secrets are still put back by value.
    by_value = {os.environ[n]: n for n in references if os.environ[n]}
    if stack is not None:
        by_value.update(stack.secret_names)
    secrets = frozenset(by_value)
    live = await read_env(project, env_name, secrets, parallelism=parallelism)
    specs, skipped = export_specs(live, project.config.stack, include_all)
    specs = {
        kind: [
            restore_placeholders(restore_secret_paths(kind, spec, stack) if stack else spec, by_value) for spec in items
        ]
        for kind, items in specs.items()
    }
    files, variables = render_files(specs, layout, info.namespace, _schema_ref(project.root, out_dir))
    targets = [(_inside(out_dir, f.path), f) for f in files]  # all checked before anything is written
    replaced = frozenset(f.path for target, f in targets if target.exists())
    for target, f in targets:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(f.text, encoding="utf-8")
    counts = {k: len(v) for k, v in specs.items() if v or k in ("retriever", "taxonomy", "cluster")}
    return Export(info.namespace, tuple(files), tuple(variables), counts, skipped, replaced)
