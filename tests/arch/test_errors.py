"""One exception tree: the drawing in errors.py is the code, and each class has its exit code."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import mixops
from mixops import errors
from mixops.cli.common import handle_errors
from mixops.cli.main import cli
from mixops.errors import ApiError, ApiErrorInfo, ManifestError, MixopsError, Problem

_DOC = errors.__doc__ or ""
_TREE, _OUTSIDE = _DOC.split("Outside the tree", 1)


def _exceptions_defined_in_mixops() -> dict[str, type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for info in pkgutil.walk_packages(mixops.__path__, "mixops."):
        if info.name == "mixops.__main__":  # runs the CLI on import
            continue
        module = importlib.import_module(info.name)
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, BaseException) and obj.__module__ == info.name:
                assert obj.__name__ not in found, f"two exception classes named {obj.__name__}"
                found[obj.__name__] = obj
    return found


EXCEPTIONS = _exceptions_defined_in_mixops()


def _drawn_tree() -> dict[str, tuple[str | None, int]]:
    """name -> (parent drawn above it, exit code drawn or inherited)."""
    drawn: dict[str, tuple[str | None, int]] = {}
    stack: list[tuple[int, str]] = []  # (column of the name, name)
    for line in _TREE.splitlines():
        match = re.match(r"^(\s*(?:[│├└]\S*\s+)*)([A-Z]\w+)\s", line + " ")
        if not match or not (line.strip().startswith(("MixopsError", "├", "└", "│"))):
            continue
        column, name = len(match.group(1)), match.group(2)
        while stack and stack[-1][0] >= column:
            stack.pop()
        parent = stack[-1][1] if stack else None
        code = re.search(r"exit code (\d)", line)
        drawn[name] = (parent, int(code.group(1)) if code else drawn[parent][1] if parent else 1)
        stack.append((column, name))
    return drawn


DRAWN = _drawn_tree()


def test_the_drawing_is_the_class_tree() -> None:
    in_code = {
        name: next(b.__name__ for b in cls.__bases__ if issubclass(b, MixopsError)) if cls is not MixopsError else None
        for name, cls in EXCEPTIONS.items()
        if issubclass(cls, MixopsError)
    }
    assert {name: parent for name, (parent, _) in DRAWN.items()} == in_code


def test_every_tree_class_lives_in_errors_py() -> None:
    assert sorted(n for n in DRAWN if EXCEPTIONS[n].__module__ != "mixops.errors") == []


def test_every_exception_outside_the_tree_is_named_with_the_reason() -> None:
    named = set(re.findall(r"\b_?[A-Z]\w+\b", _OUTSIDE))
    unnamed = [  # a subclass of a named class is covered by it ("and every subclass")
        name
        for name, cls in EXCEPTIONS.items()
        if not issubclass(cls, MixopsError) and not any(c.__name__ in named for c in cls.__mro__)
    ]
    assert sorted(unnamed) == []
    for dotted in re.findall(r"\bmixops(?:\.\w+)+", _OUTSIDE):  # each path given still names that class
        module, _, name = dotted.rpartition(".")
        assert getattr(importlib.import_module(module), name) is EXCEPTIONS[name], dotted


def _instance(cls: type[MixopsError]) -> MixopsError:
    if issubclass(cls, ManifestError):
        return cls([Problem("manifests/a.yaml", 3, 1, "retrievers[0].name", "bad name", "use a slug")])
    if issubclass(cls, ApiError):
        return cls("GET", "https://api.mixpeek.com/v1/retrievers", ApiErrorInfo(503, "service_unavailable"))
    return cls(f"{cls.__name__} happened")


@pytest.mark.parametrize("name", sorted(DRAWN))
def test_the_cli_exits_with_the_drawn_code_and_no_traceback(name: str) -> None:
    err = _instance(EXCEPTIONS[name])  # type: ignore[arg-type]

    @click.command()
    @handle_errors
    def fails() -> None:
        raise err

    result = CliRunner().invoke(fails, [])
    assert result.exit_code == DRAWN[name][1], result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    assert ("bad name" if name == "ManifestError" else f"error: {err}") in result.output


def test_a_broken_seed_file_is_an_error_naming_the_entry_not_an_internal_error(tmp_path: Path) -> None:
    (tmp_path / "mixops.yaml").write_text(
        "stack: shop\nenvironments:\n  local:\n    target: local\n    seed: [seed.yaml]\n", encoding="utf-8"
    )
    (tmp_path / "manifests").mkdir()
    (tmp_path / "manifests" / "empty.yaml").write_text('version: "1.0"\n', encoding="utf-8")
    (tmp_path / "seed.yaml").write_text("collections: [{}]\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["-C", str(tmp_path), "plan"])
    assert result.exit_code == 1
    assert "internal error" not in result.output, result.output
    # Seed files are checked like manifests (located), before the local backend loads them.
    assert "seed.yaml:1:15: collections[0].collection_name: missing required field" in result.output, result.output
