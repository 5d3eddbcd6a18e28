"""Output options never write over a file the project reads.

`plan --out manifests/derived.yaml` replaced a manifest with plan JSON, said "Saved the
plan", and the next validate failed. Now `plan --out`, `plan --out-markdown` and
`test --junit` refuse, before any work, a path that is mixops.yaml, a manifest (or a new
YAML file where manifests are read), a seed file or a documents file: exit 1, nothing
written.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mixops.cli.main import cli

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "catalog"


def mixops(root: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--no-color", "-C", str(root), *args], env={"NO_COLOR": "1"})


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    root = tmp_path / "catalog"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".mixops", "__pycache__"))
    return root


CASES = [
    ("plan", "--out", "manifests/retrievers.yaml", "it is a manifest, which the project reads"),
    (
        "plan",
        "--out",
        "manifests/derived.yaml",
        "would read it as a manifest (every YAML file under manifests/ is one)",
    ),
    ("plan", "--out-markdown", "mixops.yaml", "it is the project file (mixops.yaml), which the project reads"),
    ("plan", "--out", "data/seed.yaml", "it is a seed file, which the project reads"),
    ("plan", "--out-markdown", "data/products.jsonl", "it is a documents file of the seed file data/seed.yaml"),
    ("test", "--junit", "data/departments.jsonl", "it is a documents file of the seed file data/seed.yaml"),
]


@pytest.mark.parametrize(("command", "option", "target", "role"), CASES, ids=[f"{c[1]}-{c[2]}" for c in CASES])
def test_an_output_option_refuses_a_file_the_project_reads(
    catalog: Path, command: str, option: str, target: str, role: str
) -> None:
    path = catalog / target
    before = path.read_bytes() if path.exists() else None
    result = mixops(catalog, command, option, str(path), "--no-tests" if command == "plan" else "--env=local")
    assert result.exit_code == 1, result.output
    assert f"refusing to write the {'JUnit report' if option == '--junit' else ''}" in result.output
    assert role in result.output
    assert "nothing was written" in result.output
    assert "Saved" not in result.output and "Tests in" not in result.output
    assert (path.read_bytes() if path.exists() else None) == before
    validated = mixops(catalog, "validate")
    assert validated.exit_code == 0, validated.output


def test_an_output_file_elsewhere_is_written(catalog: Path) -> None:
    out = catalog / "plan.json"
    result = mixops(catalog, "plan", "--no-tests", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert out.is_file() and out.read_text().startswith("{")
