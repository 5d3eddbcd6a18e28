"""Issue 13 item 2 from the command line: seed files checked by `mixops validate` like
manifests, a stale local database named with its fix, and `mixops local reset`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mixops.cli.main import cli
from mixops.errors import SeedError
from mixops.local.db import Database
from mixops.local.seed import load_seed


def mixops(project: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["-C", str(project), *args], env={"NO_COLOR": "1"})


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "proj"
    created = CliRunner().invoke(cli, ["init", str(project)], env={"NO_COLOR": "1"})
    assert created.exit_code == 0, created.output
    return project


def _seed(project: Path) -> Path:
    return project / "data" / "seed.yaml"


def test_validate_reports_a_seed_typo_at_its_place_with_did_you_mean(tmp_path: Path) -> None:
    project = _project(tmp_path)
    seed = _seed(project)
    text = seed.read_text(encoding="utf-8")
    assert "input_mappings:" in text
    seed.write_text(text.replace("input_mappings:", "input_mapping:", 1), encoding="utf-8")
    line = next(n for n, row in enumerate(seed.read_text().splitlines(), 1) if "input_mapping:" in row)
    result = mixops(project, "validate")
    assert result.exit_code == 1, result.output
    assert f"data/seed.yaml:{line}:" in result.output
    assert "input_mapping: unknown field 'input_mapping' (did you mean 'input_mappings'?)" in result.output
    assert "internal error" not in result.output


def test_validate_holds_a_seed_extractor_to_the_manifests_extractor_model(tmp_path: Path) -> None:
    """A seed-only collection's extractor is the manifests' FeatureExtractor: a field_passthrough
    entry without `source_path` (which the API requires) is refused at its place, not loaded."""
    project = _project(tmp_path)
    seed = _seed(project)
    text = seed.read_text(encoding="utf-8")
    assert "input_mappings:" in text
    seed.write_text(
        text.replace("input_mappings:", "field_passthrough: [{target_path: title}]\n      input_mappings:", 1),
        encoding="utf-8",
    )
    line = next(n for n, row in enumerate(seed.read_text().splitlines(), 1) if "field_passthrough:" in row)
    result = mixops(project, "validate")
    assert result.exit_code == 1, result.output
    assert f"data/seed.yaml:{line}:" in result.output
    assert "feature_extractor.field_passthrough[0].source_path: missing required field 'source_path'" in result.output
    assert "internal error" not in result.output


def test_validate_reports_a_seed_that_is_not_the_right_shape(tmp_path: Path) -> None:
    project = _project(tmp_path)
    _seed(project).write_text("collections: 3\n", encoding="utf-8")
    result = mixops(project, "validate")
    assert result.exit_code == 1, result.output
    assert "data/seed.yaml:1:1: collections: input should be a valid list, got 3" in result.output
    assert "TypeError" not in result.output and "internal error" not in result.output


def test_validate_reports_a_missing_documents_file_and_a_bad_line(tmp_path: Path) -> None:
    project = _project(tmp_path)
    (project / "data" / "more.jsonl").write_text('{"title": "ok"}\n[1, 2]\n', encoding="utf-8")
    _seed(project).write_text(
        "collections:\n"
        "  - collection_name: a_col\n"
        "    feature_extractor: {feature_extractor_name: text_extractor, version: v1}\n"
        "    documents_file: nowhere.jsonl\n"
        "  - collection_name: b_col\n"
        "    feature_extractor: {feature_extractor_name: text_extractor, version: v1}\n"
        "    documents_file: more.jsonl\n",
        encoding="utf-8",
    )
    result = mixops(project, "validate")
    assert result.exit_code == 1, result.output
    assert "data/seed.yaml:4:5: collections[0].documents_file: data/nowhere.jsonl: file does not exist" in result.output
    assert "data/more.jsonl:2:1: each line must be a JSON object" in result.output


def test_a_changed_seed_only_collection_is_refused_until_reset(tmp_path: Path) -> None:
    project = _project(tmp_path)
    applied = mixops(project, "apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    seed = _seed(project)
    text = seed.read_text(encoding="utf-8")
    seed.write_text(text.replace("version: v1", "version: v1\n      params: {dimensions: 8}", 1), encoding="utf-8")
    stale = mixops(project, "plan")
    assert stale.exit_code == 1, stale.output
    assert "feature_extractor.params differ" in stale.output
    # The command to run names the project directory, as the user named it with -C.
    assert f"`mixops -C {project.as_posix()} local reset --env local`" in stale.output

    reset = mixops(project, "local", "reset", "--env", "local")
    assert reset.exit_code == 0, reset.output
    assert "removed 1 collection (6 documents), 1 retriever, 0 taxonomies, 0 clusters" in reset.output
    assert "Loaded from 1 seed file: 1 collection, 6 documents" in reset.output
    assert f"Next: mixops -C {project.as_posix()} apply --env local" in reset.output
    again = mixops(project, "apply", "--auto-approve")
    assert again.exit_code == 0, again.output


def test_local_reset_refuses_an_api_environment(tmp_path: Path) -> None:
    project = _project(tmp_path)
    config = project / "mixops.yaml"
    config.write_text(
        config.read_text(encoding="utf-8")
        + "  prod:\n    api_url: https://api.mixpeek.com\n    namespace: prod-ns\n    api_key_env: K\n",
        encoding="utf-8",
    )
    result = mixops(project, "local", "reset", "--env", "prod")
    assert result.exit_code == 1, result.output
    assert "environment 'prod' is not a local environment" in result.output


def test_local_reset_reports_seed_problems_before_dropping_anything(tmp_path: Path) -> None:
    project = _project(tmp_path)
    assert mixops(project, "apply", "--auto-approve").exit_code == 0
    _seed(project).write_text("collections: [{collection_name: x, bogus: 1}]\n", encoding="utf-8")
    result = mixops(project, "local", "reset")
    assert result.exit_code == 1, result.output
    assert "data/seed.yaml:1:" in result.output and "bogus" in result.output
    assert "Reset" not in result.output


def _documents_file_project(tmp_path: Path, lines: list[str], *, bom: bool = False, newline: str = "\n") -> Path:
    """The init project with its seed collection's documents in data/articles.jsonl."""
    project = _project(tmp_path)
    text = _seed(project).read_text(encoding="utf-8")
    head = text[: text.index("    documents:\n")]
    _seed(project).write_text(head + "    documents_file: articles.jsonl\n", encoding="utf-8")
    body = newline.join(lines) + newline
    (project / "data" / "articles.jsonl").write_bytes(("\ufeff" if bom else "").encode() + body.encode("utf-8"))
    return project


# Characters JSON allows unescaped inside a string that str.splitlines() also splits on.
_LINE_BREAKING = "a\u2028b\u2029c\x85d\x0ce\x1cf\x1dg\x1eh\x0bi"


@pytest.mark.parametrize(
    ("bom", "newline", "title"), [(True, "\n", "plain"), (False, "\r\n", _LINE_BREAKING)], ids=["bom", "separators"]
)
def test_a_documents_file_with_a_bom_crlf_or_unicode_line_separators_loads(
    tmp_path: Path, bom: bool, newline: str, title: str
) -> None:
    """validate and the local backend read documents files alike: a UTF-8 BOM (as manifests
    accept it), CRLF line ends and line-breaking characters inside strings are all valid."""
    docs = [{"document_id": f"d{i}", "title": f"t{i} {title}", "body": "b"} for i in range(3)]
    lines = [json.dumps(d, ensure_ascii=False) for d in docs]
    project = _documents_file_project(tmp_path, lines, bom=bom, newline=newline)
    checked = mixops(project, "validate")
    assert checked.exit_code == 0, checked.output
    planned = mixops(project, "plan", "--no-tests")
    assert planned.exit_code == 0, planned.output
    reset = mixops(project, "local", "reset", "--env", "local")
    assert reset.exit_code == 0, reset.output
    assert "Loaded from 1 seed file: 1 collection, 3 documents" in reset.output


def test_a_bad_documents_line_is_named_at_its_line_after_line_separators(tmp_path: Path) -> None:
    lines = [json.dumps({"title": _LINE_BREAKING}, ensure_ascii=False), "[1, 2]"]
    project = _documents_file_project(tmp_path, lines)
    checked = mixops(project, "validate")
    assert checked.exit_code == 1, checked.output
    assert "data/articles.jsonl:2:1: each line must be a JSON object (one JSON object per line)" in checked.output
    assert "articles.jsonl:1" not in checked.output
    # The local backend's loader (behind plan, apply, doctor, test) names the same line.
    db = Database(tmp_path / "local.db")
    try:
        with pytest.raises(SeedError, match=r"articles\.jsonl:2: each line must be a JSON object"):
            load_seed(db, _seed(project))
    finally:
        db.close()
