"""Issue 13 item 4: export never lands next to the user's own manifests unless asked to.

Files beside hand-written manifests are loaded with them (every resource twice on
the next validate), and same-name files were overwritten (comments and
placeholders lost). Paths are relative to where the user stands, also with -C.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from mixops.cli.common import plural
from mixops.cli.main import cli

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "catalog"


@pytest.fixture
def applied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The catalog example applied, the user standing in its parent directory."""
    root = tmp_path / "catalog"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".mixops"))
    monkeypatch.chdir(tmp_path)
    result = mixops("-C", "catalog", "apply", "--auto-approve", "--no-tests")
    assert result.exit_code == 0, result.output
    return root


def mixops(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env={"NO_COLOR": "1"})


def _tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text() for p in root.rglob("*.yaml")}


def test_export_refuses_to_write_beside_the_user_s_manifests(applied: Path) -> None:
    before = _tree(applied)
    result = mixops("-C", "catalog", "export")
    assert result.exit_code == 1, result.output
    assert "export refuses to write into catalog/manifests" in result.output
    assert "catalog/manifests/retrievers.yaml" in result.output and "--force" in result.output
    assert _tree(applied) == before, "nothing is written or overwritten"


def test_export_refuses_a_directory_inside_a_manifest_path(applied: Path) -> None:
    result = mixops("-C", "catalog", "export", "-o", "catalog/manifests/imported")
    assert result.exit_code == 1, result.output
    assert "refuses" in result.output
    assert not (applied / "manifests" / "imported").exists()


def test_export_into_a_new_directory_prints_paths_from_where_the_user_stands(applied: Path, tmp_path: Path) -> None:
    result = mixops("-C", "catalog", "export", "-o", "exported")
    assert result.exit_code == 0, result.output
    assert "  exported/retrievers.yaml\n" in result.output, result.output
    assert (tmp_path / "exported" / "retrievers.yaml").is_file(), "-o is relative to the current directory"
    assert not (applied / "exported").exists()
    again = mixops("-C", "catalog", "export", "-o", "exported")
    assert again.exit_code == 1 and "refuses" in again.output, again.output


def test_force_writes_and_says_which_files_it_replaced(applied: Path) -> None:
    result = mixops("-C", "catalog", "export", "--force")
    assert result.exit_code == 0, result.output
    assert "  catalog/manifests/retrievers.yaml  (replaced the existing file)" in result.output
    assert "  catalog/manifests/tests.yaml" not in result.output


def test_the_default_is_the_project_s_manifests_directory_when_it_is_empty(applied: Path) -> None:
    shutil.rmtree(applied / "manifests")
    result = mixops("-C", "catalog", "export")
    assert result.exit_code == 0, result.output
    assert "  catalog/manifests/retrievers.yaml\n" in result.output
    assert (applied / "manifests" / "retrievers.yaml").is_file()


def test_counts_are_in_the_right_number(applied: Path) -> None:
    result = mixops("-C", "catalog", "export", "-o", "exported")
    assert (
        "Exported 4 collections, 5 retrievers, 2 taxonomies, 2 clusters, 1 application "
        "from namespace 'catalog-local' into 4 files:"
    ) in (result.output), result.output
    assert [plural(1, "taxonomy"), plural(0, "retriever"), plural(1, "file")] == [
        "1 taxonomy",
        "0 retrievers",
        "1 file",
    ]


@pytest.mark.parametrize(
    ("environments", "hint"),
    [
        ({"dev": {"target": "local"}}, "(export SHOP_KEY=sk_..., or try it locally first with --env dev)"),
        ({}, "(export SHOP_KEY=sk_...)"),
    ],
)
def test_the_missing_key_hint_names_only_environments_the_project_has(
    tmp_path: Path, environments: dict[str, object], hint: str
) -> None:
    api = {"api_url": "https://api.mixpeek.com", "namespace": "shop", "api_key_env": "SHOP_KEY"}
    config = {"stack": "shop", "environments": {**environments, "staging": api}}
    (tmp_path / "mixops.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    result = CliRunner().invoke(cli, ["-C", str(tmp_path), "export", "--env", "staging", "-o", str(tmp_path / "out")])
    assert result.exit_code == 1, result.output
    assert "reads its API key from $SHOP_KEY, which is not set" in result.output
    assert result.output.rstrip().endswith(hint), result.output
    assert "local environment" not in result.output


def test_export_of_a_namespace_with_nothing_owned_says_nothing_was_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert mixops("init", "demo").exit_code == 0
    result = mixops("-C", "demo", "export", "-o", "out")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert (
        lines[0]
        == "Nothing exported: namespace 'demo-local' holds no resources owned by this stack; no file was written."
    )
    assert not any(line.rstrip().endswith("files:") for line in lines), result.output
    assert "Skipped 1 resource not owned by this stack (--all exports them)." in lines
    assert not (tmp_path / "out").exists()
