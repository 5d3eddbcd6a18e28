"""Every YAML document under the manifest paths is a manifest or a located problem.

A document that is silently skipped makes its resources look deleted: `apply --prune`
would then delete them. So a document without `version:` is an error, never nothing,
and nothing is planned, applied or pruned while any manifest has a problem.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from tests.validate.conftest import VALID_MANIFEST, run

from mixops.cli.main import cli

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "catalog"


def test_resources_without_version_are_an_error(project: Path) -> None:
    text = VALID_MANIFEST.replace('version: "1.0"\n', "# the version line was deleted\n")
    (project / "manifests" / "main.yaml").write_text(text)
    result = run(project, "validate")
    assert result.exit_code == 1, result.output
    assert "manifests/main.yaml:2:1: version: this document declares retrievers, taxonomies, clusters, tests, " in (
        result.output
    )
    assert 'add `version: "1.0"`' in result.output
    assert "valid:" not in result.output


def test_a_yaml_file_that_is_no_manifest_is_an_error(project: Path) -> None:
    (project / "manifests" / "compose.yaml").write_text("services:\n  web: {image: nginx}\n")
    result = run(project, "validate")
    assert result.exit_code == 1, result.output
    assert "manifests/compose.yaml:1:1: version: not a mixops manifest: no `version:` (keys: services)" in result.output
    assert "move the file out of the manifest paths" in result.output


def test_a_later_document_without_version_is_located(project: Path) -> None:
    extra = '---\nversion: "1.0"\nclusters: []\n---\n# second\nclusters:\n  - name: other\n'
    (project / "manifests" / "more.yaml").write_text(extra)
    result = run(project, "validate")
    assert result.exit_code == 1, result.output
    assert "manifests/more.yaml:6:1: version: this document declares clusters but has no `version:`" in result.output


def test_a_manifest_path_outside_the_project_is_refused(
    project: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outside = tmp_path_factory.mktemp("elsewhere") / "hosts.yaml"
    outside.write_text("localhost: 127.0.0.1\n")
    config = (
        (project / "mixops.yaml").read_text().replace("manifests: [manifests/]", f"manifests: [manifests/, {outside}]")
    )
    (project / "mixops.yaml").write_text(config)
    result = run(project, "validate")
    assert result.exit_code == 1, result.output
    assert f"{outside.as_posix()}: manifest path is outside the project directory" in result.output
    assert "0 " not in result.output.replace("0.0.1", "")  # never "0 resources in 1 file"


def _cli(project: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--no-color", "-C", str(project), *args], env={}, catch_exceptions=False)


def test_prune_refuses_while_a_manifest_has_a_problem(tmp_path: Path) -> None:
    project = tmp_path / "catalog"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns(".mixops", "__pycache__"))
    first = _cli(project, "apply", "--auto-approve", "--no-tests")
    assert first.exit_code == 0, first.output
    clusters = project / "manifests" / "clusters.yaml"
    original = clusters.read_text()
    clusters.write_text(original.replace('version: "1.0"\n', ""))

    pruned = _cli(project, "apply", "--auto-approve", "--prune", "--no-tests")
    assert pruned.exit_code == 1, pruned.output
    assert "manifests/clusters.yaml:" in pruned.output and "has no `version:`" in pruned.output
    assert "delete" not in pruned.output.lower()

    clusters.write_text(original)
    after = _cli(project, "plan", "--detailed-exitcode", "--no-tests")
    assert after.exit_code == 0, after.output  # both clusters are still live, unchanged


def _alias_bomb(text: str) -> str:
    lines = ['lol0: &lol0 "lol"'] + [f"lol{i}: &lol{i} [{', '.join([f'*lol{i - 1}'] * 10)}]" for i in range(1, 10)]
    return text + "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        (lambda t: t.replace("  - name: products", "\t- name: products", 1), "manifests/collections.yaml:11:1: "),
        (lambda t: t + "#" * (10 * 1024 * 1024), "manifests/collections.yaml: file is 10.0 MB, over the 10 MB limit"),
        (_alias_bomb, "(alias bomb?)"),
    ],
    ids=["tab", "too-big", "alias-bomb"],
)
def test_a_manifest_that_does_not_load_is_the_only_problem_reported(
    tmp_path: Path, damage: Callable[[str], str], problem: str
) -> None:
    """The seed's documents-only entries are not checked against the collections of the
    manifests that did load: the unread file may declare them (reviewer: four false seed
    errors came before the real one)."""
    project = tmp_path / "catalog"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns(".mixops", "__pycache__"))
    collections = project / "manifests" / "collections.yaml"
    collections.write_text(damage(collections.read_text()))
    result = _cli(project, "validate")
    assert result.exit_code == 1, result.output
    assert problem in result.output
    assert "data/seed.yaml" not in result.output
    assert result.output.count("\n") <= 3, result.output
