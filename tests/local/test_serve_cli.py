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


def test_serve_takes_the_api_key_from_the_environment(
    tmp_path: Path, served: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIXOPS_SERVE_API_KEY", "sk_env_one sk_env_two")
    result = CliRunner().invoke(serve, ["--db", str(tmp_path / "a.db")])
    assert result.exit_code == 0, result.output
    assert _settings(served).api_keys == frozenset({"sk_env_one", "sk_env_two"})
    assert "sk_env_one" not in result.output
    assert "MIXOPS_SERVE_API_KEY" in CliRunner().invoke(serve, ["--help"]).output


def test_serve_on_a_file_that_is_not_sqlite_is_a_clean_error(tmp_path: Path, served: list[Any]) -> None:
    db = tmp_path / "notes.db"
    db.write_text("these are my notes, not a database\n" * 100, encoding="utf-8")
    result = CliRunner().invoke(serve, ["--db", str(db)])
    assert result.exit_code == 1
    assert str(db) in result.output and "not usable" in result.output and "--db" in result.output
    assert "Traceback" not in result.output and not served
    assert db.read_text(encoding="utf-8").startswith("these are my notes")
