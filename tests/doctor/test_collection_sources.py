"""`mixops doctor` on declared collections whose source type the API lists but does not
document for users: an informative row, never blocking, gone once the collection exists."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mixops.cli.main import cli

COLLECTIONS = """\
version: "1.0"
collections:
  - name: faq
    source: {type: none}
    feature_extractor: {feature_extractor_name: text_extractor, version: v1, input_mappings: {text: [title]}}
  - name: faq_digest
    source: {type: collection, collection_id: articles}
    feature_extractor: {feature_extractor_name: text_extractor, version: v1, input_mappings: {text: [title]}}
"""


def mixops(project: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["-C", str(project), *args], env={"NO_COLOR": "1"})


@pytest.fixture
def project(tmp_path: Path) -> Path:
    assert CliRunner().invoke(cli, ["init", str(tmp_path / "demo")]).exit_code == 0
    root = tmp_path / "demo"
    (root / "manifests" / "collections.yaml").write_text(COLLECTIONS)
    return root


def rows(project: Path) -> dict[str, dict[str, object]]:
    result = mixops(project, "doctor", "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["ready"] is True
    return {str(c["item"]): c for c in report["checks"]}


def test_an_undocumented_source_type_is_named_and_does_not_block(project: Path) -> None:
    checks = rows(project)
    row = checks["source of faq"]
    assert row["status"] == "unknown" and row["blocking"] is False
    assert "source type 'none'" in str(row["detail"]) and "'bucket' and 'collection'" in str(row["detail"])
    assert "source of faq_digest" not in checks  # type collection is documented
    text = mixops(project, "doctor")
    assert text.exit_code == 0 and "source of faq" in text.output


def test_the_row_is_gone_once_the_collection_exists(project: Path) -> None:
    assert mixops(project, "apply", "--auto-approve", "--no-tests").exit_code == 0
    assert "source of faq" not in rows(project)
