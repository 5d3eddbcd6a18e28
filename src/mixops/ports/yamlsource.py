"""Manifest files in, located YAML documents out: the filesystem side of the loader.

``load_paths`` is what the validation pipeline calls: it finds the YAML files under
the given paths, reads each one within limits (size checked before reading, UTF-8
only, a BOM accepted) and parses it with ``yamlsafe``. It never raises for bad input:
every problem of every file comes back as a ``Problem``, so a run reports them all.

Discovery rules: a file named explicitly is loaded whatever its extension; a directory
is walked recursively for ``*.yaml`` and ``*.yml`` in sorted order (by path components,
so the order is the same on every machine), skipping hidden files and directories
(``.git``, ``.venv``...) and the project file ``mixops.yaml`` at the root; symlinked
directories are not followed (no cycles). A path that does not exist, or a directory
without any YAML file, is a problem.

Manifests belong to the project: every path, and every file found under a directory,
must resolve (symlinks resolved) inside the project root. A path leaving it
(``../shared``, ``/etc/...``, a symlink to elsewhere) is a problem naming the fix, so
a typo can never make mixops read, and report on, an unrelated file.
"""

from __future__ import annotations

import codecs
import os
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mixops.errors import Problem
from mixops.ports.gcpause import gc_paused
from mixops.ports.yamlsafe import PathKey, PositionIndex, parse_stream

MAX_FILE_BYTES = 10 * 1024 * 1024
"""Largest manifest file accepted; bigger files are refused before being read."""

PROJECT_FILE = "mixops.yaml"
YAML_SUFFIXES = (".yaml", ".yml")

_OTHER_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)
_SAVE_AS_UTF8 = "save the file as UTF-8 (in most editors: 'Save with Encoding' > UTF-8)"


@dataclass(frozen=True)
class SourceDoc:
    """One YAML document of one file, as plain data, with where each value was written."""

    file: str
    """Display path: relative to the project root when under it, else as given."""
    index: int
    """0-based YAML document index within the file (empty documents count)."""
    data: Any
    """Plain Python (dict, list, str, int, float, bool, None); the root is always a dict."""
    positions: Mapping[PathKey, tuple[int, int]]
    """``path -> (line, col)``, 1-based; ``()`` is the document root. Keyed entries sit at their key."""
    may_hold_placeholders: bool = True
    """False when no string of the document can contain ``${{`` (see ``_may_hold_placeholders``)."""

    def locate(self, path: Sequence[str | int]) -> tuple[int, int]:
        """(line, col) of the longest prefix of ``path`` that exists in the document."""
        if isinstance(self.positions, PositionIndex):
            return self.positions.locate(path)
        for end in range(len(path), -1, -1):
            found = self.positions.get(tuple(path[:end]))
            if found is not None:
                return found
        return (1, 1)


def display_path(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` in POSIX form when it lies under it, else as given."""
    try:
        return path.absolute().relative_to(root.absolute()).as_posix()
    except ValueError:
        return path.as_posix()


def discover(paths: Sequence[Path], *, root: Path) -> tuple[list[Path], list[Problem]]:
    """The manifest files named by ``paths`` (files and directories), each once, in order."""
    found: list[Path] = []
    problems: list[Problem] = []
    seen: set[Path] = set()
    project_file = (root / PROJECT_FILE).absolute()

    def add(file: Path) -> None:
        key = file.absolute()
        if key not in seen:
            seen.add(key)
            found.append(file)

    real_root = _real(root)
    for path in paths:
        shown = display_path(path, root)
        if path.exists() and not _inside(path, real_root):
            problems.append(_outside(shown, path))
            continue
        if path.is_dir():
            files = []
            for f in _walk(path):
                if f.absolute() == project_file:
                    continue
                if not _inside(f, real_root):
                    problems.append(_outside(display_path(f, root), f))
                    continue
                files.append(f)
            if not files:
                problems.append(
                    Problem(
                        shown,
                        0,
                        0,
                        "",
                        "directory contains no .yaml or .yml files",
                        "add manifests there, or remove the path from `manifests:`",
                    )
                )
            for file in files:
                add(file)
        elif path.exists():
            add(path)
        else:
            problems.append(
                Problem(
                    shown,
                    0,
                    0,
                    "",
                    "path does not exist",
                    "check the path on the command line or in the `manifests:` list of "
                    "mixops.yaml (paths there are relative to the project root)",
                )
            )
    return found, problems


def _real(path: Path) -> Path:
    try:
        return path.resolve(strict=False)
    except (OSError, RuntimeError):  # a symlink loop: not inside anything
        return path.absolute()


def _inside(path: Path, real_root: Path) -> bool:
    real = _real(path)
    return real == real_root or real.is_relative_to(real_root)


def _outside(shown: str, path: Path) -> Problem:
    real = _real(path).as_posix()
    where = "" if real == shown else f" (it resolves to {real})"
    return Problem(
        shown,
        0,
        0,
        "",
        f"manifest path is outside the project directory{where}",
        "manifests must lie inside the project: move or copy them there, or run mixops from the "
        "directory that holds them with -C DIR",
    )


def _walk(directory: Path) -> list[Path]:
    out: list[Path] = []
    for current, dirnames, filenames in os.walk(directory, onerror=None, followlinks=False):
        # Pruning in place steers os.walk; sorting here makes the order deterministic.
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        base = Path(current)
        for name in sorted(filenames):
            if not name.startswith(".") and name.endswith(YAML_SUFFIXES):
                out.append(base / name)
    # os.walk yields a directory's files before its subdirectories' files; sort the
    # whole list by components so `a/z.yaml` < `b.yaml` is decided the same everywhere.
    out.sort(key=lambda p: p.relative_to(directory).parts)
    return out


def read_text(path: Path, *, display: str) -> tuple[str | None, list[Problem]]:
    """The file's text, decoded as UTF-8 (BOM dropped), or the problem that prevents it."""

    def problem(message: str, fix: str, line: int = 0, col: int = 0) -> tuple[None, list[Problem]]:
        return None, [Problem(display, line, col, "", message, fix)]

    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            return problem("not a regular file", "name a YAML file or a directory of YAML files")
        if info.st_size > MAX_FILE_BYTES:
            return problem(*_too_big(info.st_size))
        with path.open("rb") as handle:
            # Read one byte past the limit: the file may have grown since stat().
            raw = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        return problem("file does not exist", "check the path")
    except OSError as err:
        return problem(f"cannot read the file: {err.strerror or err}", "check the file's permissions")
    if len(raw) > MAX_FILE_BYTES:
        return problem(*_too_big(len(raw)))
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    else:
        for bom, encoding in _OTHER_BOMS:
            if raw.startswith(bom):
                return problem(f"file is encoded as {encoding}; mixops reads UTF-8", _SAVE_AS_UTF8, 1, 1)
    try:
        return raw.decode("utf-8"), []
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        line_start = raw.rfind(b"\n", 0, err.start) + 1
        col = len(raw[line_start : err.start].decode("utf-8", errors="replace")) + 1
        return problem(
            f"file is not valid UTF-8: byte 0x{raw[err.start]:02X} at byte offset {err.start}", _SAVE_AS_UTF8, line, col
        )


def _too_big(size: int) -> tuple[str, str]:
    return (
        f"file is {size / 1024 / 1024:.1f} MB, over the {MAX_FILE_BYTES // 1024 // 1024} MB limit",
        "split it into several files in the manifests directory",
    )


def load_file(path: Path, *, display: str) -> tuple[list[SourceDoc], list[Problem]]:
    """Every usable document of one file, and every problem in it."""
    docs, problems, _ = _load(path, display)
    return docs, problems


def _load(path: Path, display: str) -> tuple[list[SourceDoc], list[Problem], str | bool | None]:
    """Documents, problems, and True when the whole file was parsed, else its text (None
    when it could not be read)."""
    text, problems = read_text(path, display=display)
    if text is None:
        return [], problems, None
    parsed, problems, complete = parse_stream(text, display)
    templated = _may_hold_placeholders(text)
    docs = [SourceDoc(display, doc.index, doc.data, doc.positions, templated) for doc in parsed]
    return docs, problems, True if complete else text


def _may_hold_placeholders(text: str) -> bool:
    """Whether any string parsed from ``text`` can contain ``${{``: lets the loader skip resolving.

    A YAML string holds only characters written in the file, except for escapes, which
    all start with a backslash (double-quoted scalars), and line folding, which only
    turns line breaks into spaces or newlines. So without ``${{`` and without a
    backslash anywhere in the text, no string has a placeholder.
    """
    return "${{" in text or "\\" in text


@dataclass(frozen=True)
class Sources:
    """What the manifest paths hold: documents, problems, and the files not read to the end."""

    docs: list[SourceDoc]
    problems: list[Problem]
    incomplete: Mapping[str, str | None]
    """Files that could not be parsed to the end (a syntax error, an alias bomb...), by
    display path, with their text (None: unreadable). They may declare names that the
    documents above do not show: only names written in that text."""


def load_sources(paths: Sequence[Path], *, root: Path) -> Sources:
    """All documents of all manifest files under ``paths``, and ALL problems across them."""
    files, problems = discover(paths, root=root)
    docs: list[SourceDoc] = []
    incomplete: dict[str, str | None] = {}
    # Paused across files too: the documents already loaded stay alive, and every
    # collection between files would scan all of them again.
    with gc_paused():
        for file in files:
            display = display_path(file, root)
            file_docs, file_problems, complete = _load(file, display)
            docs.extend(file_docs)
            problems.extend(file_problems)
            if complete is not True:
                incomplete[display] = complete or None
    return Sources(docs, problems, incomplete)


def load_paths(paths: Sequence[Path], *, root: Path) -> tuple[list[SourceDoc], list[Problem]]:
    """All documents of all manifest files under ``paths``, and ALL problems across them."""
    sources = load_sources(paths, root=root)
    return sources.docs, sources.problems


__all__ = [
    "MAX_FILE_BYTES",
    "SourceDoc",
    "discover",
    "display_path",
    "load_file",
    "load_paths",
    "load_sources",
    "read_text",
]
