"""`${{ env.X }}` values and API keys never appear in any output (DESIGN.md 2; issue 2 item 5)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from mixops.cli.main import cli

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "catalog"
SECRET = "sk_live_Z9q8w7e6r5t4y3u2"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "catalog"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".mixops"))
    manifest = root / "manifests" / "retrievers.yaml"
    text = manifest.read_text()
    # A secret in a description (shown in plans) and in a tag list.
    text = text.replace(
        "description: Semantic product search for the storefront search box.",
        'description: "Semantic product search (token ${{ env.SEARCH_TOKEN }})"',
        1,
    )
    manifest.write_text(text)
    return root


def run(project: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["-C", str(project), *args], env={"SEARCH_TOKEN": SECRET})
    return result.output + (str(result.exception) if result.exception else "")


def test_secret_is_masked_in_validate_plan_apply_export_and_drift(project: Path, tmp_path: Path) -> None:
    outputs = [run(project, "validate"), run(project, "validate", "--format", "json")]
    for fmt in ("text", "json", "markdown"):
        outputs.append(run(project, "plan", "--no-tests", "--format", fmt))
    plan_file = tmp_path / "plan.json"
    outputs.append(run(project, "plan", "--no-tests", "--out", str(plan_file)))
    outputs.append(plan_file.read_text())
    outputs.append(run(project, "apply", "--no-tests", "--auto-approve"))
    # Change the secret-bearing field so the plan shows it on both sides of a diff.
    manifest = project / "manifests" / "retrievers.yaml"
    manifest.write_text(manifest.read_text().replace("Semantic product search (token", "Product search (token"))
    for fmt in ("text", "json", "markdown"):
        outputs.append(run(project, "plan", "--no-tests", "--format", fmt))
    outputs.append(run(project, "drift"))
    export_dir = tmp_path / "exported"
    outputs.append(run(project, "export", "-o", str(export_dir)))
    outputs += [p.read_text() for p in export_dir.rglob("*.yaml")]
    joined = "\n".join(outputs)
    assert "***" in joined, "the secret-bearing field should be shown masked somewhere"
    assert SECRET not in joined


def test_secret_is_masked_in_errors(project: Path) -> None:
    manifest = project / "manifests" / "retrievers.yaml"
    # An invalid value built from the secret: the error must not echo it.
    manifest.write_text(manifest.read_text().replace("top_k: 100", 'top_k: "${{ env.SEARCH_TOKEN }}"', 1))
    out = run(project, "validate")
    assert "top_k" in out
    assert SECRET not in out
