"""A search whose text or vector query has no value can never run: validate says where."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mixops.cli.main import cli

TEMPLATE = 'query: {input_mode: text, value: "{{INPUT.query}}"}'


def mixops(project: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["-C", str(project), *args], env={"NO_COLOR": "1"})


@pytest.fixture
def project(tmp_path: Path) -> Path:
    assert CliRunner().invoke(cli, ["init", str(tmp_path / "demo")]).exit_code == 0
    return tmp_path / "demo"


def with_query(project: Path, query: str) -> None:
    path = project / "manifests" / "retrievers.yaml"
    text = path.read_text()
    assert TEMPLATE in text
    path.write_text(text.replace(TEMPLATE, query))


@pytest.mark.parametrize("mode", ["text", "vector"])
def test_a_query_without_value_is_refused_at_its_line(project: Path, mode: str) -> None:
    with_query(project, f"query: {{input_mode: {mode}}}")
    result = mixops(project, "validate")
    assert result.exit_code == 1, result.output
    assert (
        "manifests/retrievers.yaml:18:17: retrievers[0].stages[0].config.parameters.searches[0].query: "
        f'a {mode} query needs `value` (add `value:`, for example "{{{{INPUT.query}}}}")'
    ) in result.output


def test_a_literal_value_or_the_legacy_text_key_is_fine(project: Path) -> None:
    with_query(project, "query: {input_mode: text, text: forgot my password}")
    assert mixops(project, "validate").exit_code == 0
