"""Check a seed file of the local backend as a manifest is checked (I/O port).

Every problem comes back located (``file:line:col: path: message (fix)``), with
did-you-mean for a misspelt key (``input_mapping`` -> ``input_mappings``), so a typo
cannot quietly change what the local backend builds. ``load_stack`` checks the seed
files of the environment it loads, which makes ``mixops validate`` report them too.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from mixops.core.locations import problems_from_validation
from mixops.core.models.seed import SeedFile
from mixops.errors import Problem
from mixops.ports.yamlsource import display_path, load_file, read_text

_SHAPE_FIX = "a seed file is a mapping: `collections:` (a list), optional `retrievers:` and `namespace:`"


def check_seed_files(paths: Sequence[Path], *, root: Path) -> list[Problem]:
    """Every problem of every seed file in ``paths``."""
    problems: list[Problem] = []
    for path in dict.fromkeys(paths):
        problems += check_seed_file(path, root=root)
    return problems


def check_seed_file(path: Path, *, root: Path) -> list[Problem]:
    display = display_path(path, root)
    docs, problems = load_file(path, display=display)
    if problems:
        return problems
    if len(docs) != 1:
        return [Problem(display, 1, 1, "", f"expected one YAML document, found {len(docs)}", _SHAPE_FIX)]
    doc = docs[0]
    if not isinstance(doc.data, dict):
        return [Problem(display, 1, 1, "", "a seed file must be a mapping", _SHAPE_FIX)]
    try:
        seed = SeedFile.model_validate(doc.data, strict=True)
    except ValidationError as err:
        return problems_from_validation(err, doc, model=SeedFile)
    seen: dict[str, int] = {}
    for i, entry in enumerate(seed.collections):
        where = ("collections", i)
        first = seen.setdefault(entry.collection_name, i)
        if first != i:
            line, col = doc.locate((*where, "collection_name"))
            problems.append(
                Problem(
                    display,
                    line,
                    col,
                    f"collections[{i}].collection_name",
                    f"collection {entry.collection_name!r} is listed twice (also collections[{first}])",
                    "list each collection once, with all its documents",
                )
            )
        if entry.documents_file is not None:
            line, col = doc.locate((*where, "documents_file"))
            problems += _check_jsonl(
                path.parent / entry.documents_file,
                display_path(path.parent / entry.documents_file, root),
                Problem(display, line, col, f"collections[{i}].documents_file"),
            )
    return problems


def _check_jsonl(path: Path, display: str, at: Problem) -> list[Problem]:
    """A documents file: one JSON object per line (blank lines allowed)."""
    if not path.is_file():
        return [
            Problem(
                at.file,
                at.line,
                at.col,
                at.path,
                f"{display}: file does not exist",
                "the path is relative to the seed file",
            )
        ]
    text, problems = read_text(path, display=display)
    if text is None:
        return problems
    out: list[Problem] = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError as exc:
            out.append(Problem(display, n, 1, "", f"not valid JSON: {exc}", "one JSON object per line"))
            continue
        if not isinstance(value, dict):
            out.append(Problem(display, n, 1, "", "each line must be a JSON object", "one JSON object per line"))
    return out
