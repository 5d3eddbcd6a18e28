"""The suite's namespaces are deleted even when a test fails.

A failing test that uses the `namespaces` fixture runs in a child pytest, against
the same target; afterwards neither of the namespaces it was given exists.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.acceptance.conftest import KEY_VAR, SERVE_VAR, URL_VAR, Target

pytestmark = pytest.mark.acceptance

ROOT = Path(__file__).resolve().parents[2]

FAILING = """\
import os
from pathlib import Path

from tests.acceptance.conftest import namespaces, target  # noqa: F401  (the fixtures under test)


def test_fails_half_way(namespaces):
    Path(os.environ["ACCEPTANCE_NAMES_FILE"]).write_text("\\n".join(namespaces))
    raise AssertionError("a step of the flow failed")
"""


def test_namespaces_are_deleted_when_a_test_fails(target: Target, tmp_path: Path) -> None:
    (tmp_path / "test_failing.py").write_text(FAILING, encoding="utf-8")
    names_file = tmp_path / "names.txt"
    env = {
        **os.environ,
        URL_VAR: target.url,
        KEY_VAR: target.key,
        "ACCEPTANCE_NAMES_FILE": str(names_file),
        "PYTHONPATH": str(ROOT),
    }
    if not target.real:
        env[SERVE_VAR] = "1"
    child = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-o",
            "asyncio_default_fixture_loop_scope=function",
            "--rootdir",
            str(tmp_path),
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert child.returncode == 1, child.stdout + child.stderr  # the test failed, as written
    assert "a step of the flow failed" in child.stdout
    names = names_file.read_text(encoding="utf-8").split()
    assert len(names) == 2
    # A real API deletes a namespace asynchronously (a task): give it time to finish.
    deadline = time.monotonic() + (120 if target.real else 0)
    with target.client() as api:
        for name in names:
            while (status := api.get(f"/v1/namespaces/{name}").status_code) != 404 and time.monotonic() < deadline:
                time.sleep(2)
            assert status == 404, f"namespace {name} was left behind"
