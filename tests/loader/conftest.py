from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from mixops.errors import Problem
from mixops.ports.yamlsource import SourceDoc, load_file

Load = Callable[..., tuple[list[SourceDoc], list[Problem]]]


@pytest.fixture
def load(tmp_path: Path) -> Load:
    """Write ``content`` (str, or bytes as-is) to a file under tmp_path and load it."""

    def run(content: str | bytes, name: str = "m.yaml") -> tuple[list[SourceDoc], list[Problem]]:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return load_file(path, display=name)

    return run
