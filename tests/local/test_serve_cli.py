"""`mixops serve`: its options reach the app it serves (uvicorn replaced by a recorder)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mixops.cli.serve import serve


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    apps: list[Any] = []
    monkeypatch.setattr("uvicorn.run", lambda app, **_kw: apps.append(app))
    return apps


def _settings(served: list[Any]) -> Any:
    app = served[-1]
    app.state.local.close()
    return app.state.local.settings


def test_serve_refuses_undeclared_keys_by_default(tmp_path: Path, served: list[Any]) -> None:
    result = CliRunner().invoke(serve, ["--db", str(tmp_path / "a.db")])
    assert result.exit_code == 0, result.output
    assert _settings(served).strict_extra_keys is True


def test_serve_lenient_switch(tmp_path: Path, served: list[Any]) -> None:
    result = CliRunner().invoke(serve, ["--db", str(tmp_path / "a.db"), "--lenient"])
    assert result.exit_code == 0, result.output
    assert _settings(served).strict_extra_keys is False
    assert "--lenient" in CliRunner().invoke(serve, ["--help"]).output
