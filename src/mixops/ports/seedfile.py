"""Check a seed file of the local backend as a manifest is checked (I/O port).

Every problem comes back located (``file:line:col: path: message (fix)``), with
did-you-mean for a misspelt key (``input_mapping`` -> ``input_mappings``), so a typo
cannot quietly change what the local backend builds. ``load_stack`` checks the seed
files of the environment it loads, which makes ``mixops validate`` report them too.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path

from pydantic import ValidationError

from mixops.core.jsonlines import LINE_FIX, json_lines
from mixops.core.locations import problems_from_validation
from mixops.core.models.seed import SeedFile
from mixops.errors import Problem
from mixops.ports.yamlsource import SourceDoc, display_path, load_file, read_text

_SHAPE_FIX = "a seed file is a mapping: `collections:` (a list), optional `retrievers:` and `namespace:`"


def check_seed_files(paths: Sequence[Path], *, root: Path, declared: Collection[str] | None = None) -> list[Problem]:
    """Every problem of every seed file in ``paths``.

    ``declared``: the collection names the manifests declare, when all of them were
    loaded. Then a documents-only entry must name one of them (or a collection one of
    these seed files builds): its documents would otherwise wait for a collection
    nothing creates. (A seed-only collection may also be declared: `--adopt` takes
    over collections the seed made.)
    """
    problems: list[Problem] = []
    loaded: list[tuple[SeedFile, SourceDoc]] = []
    for path in dict.fromkeys(paths):
        seed, doc, found = check_seed_file(path, root=root)
        problems += found
        if seed is not None and doc is not None:
            loaded.append((seed, doc))
    if declared is not None:
        built = {e.collection_name for seed, _ in loaded for e in seed.collections if not e.documents_only}
        for seed, doc in loaded:
            problems += _against_manifests(seed, doc, set(declared), built)
    return problems


def _against_manifests(seed: SeedFile, doc: SourceDoc, declared: set[str], built: set[str]) -> list[Problem]:
    """Documents-only entries naming a collection nothing declares or builds."""
    out: list[Problem] = []
    for i, entry in enumerate(seed.collections):
        name = entry.collection_name
        line, col = doc.locate(("collections", i, "collection_name"))
        where = f"collections[{i}].collection_name"
        if entry.documents_only and name not in declared and name not in built:
            known = ", ".join(sorted(declared | built)) or "none"
            out.append(
                Problem(
                    doc.file,
                    line,
                    col,
                    where,
                    f"documents for collection {name!r}, which no manifest declares (declared: {known})",
                    "declare it under `collections:` in a manifest, or give this entry a feature_extractor "
                    "to make it a seed-only collection",
                )
            )
    return out


def check_seed_file(path: Path, *, root: Path) -> tuple[SeedFile | None, SourceDoc | None, list[Problem]]:
    """The seed file, its located document, and its problems (the seed is None when invalid)."""
    display = display_path(path, root)
    docs, problems = load_file(path, display=display)
    if problems:
        return None, None, problems
    if len(docs) != 1:
        return None, None, [Problem(display, 1, 1, "", f"expected one YAML document, found {len(docs)}", _SHAPE_FIX)]
    doc = docs[0]
    if not isinstance(doc.data, dict):
        return None, None, [Problem(display, 1, 1, "", "a seed file must be a mapping", _SHAPE_FIX)]
    try:
        seed = SeedFile.model_validate(doc.data, strict=True)
    except ValidationError as err:
        return None, None, problems_from_validation(err, doc, model=SeedFile)
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
    return seed, doc, problems


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
    _, bad = json_lines(text)
    return [Problem(display, b.line, 1, "", b.message, LINE_FIX) for b in bad]
