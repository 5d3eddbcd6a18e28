"""`plan --format github`: every plan problem from a manifest is annotated at its entry (issue 13 item 6).

The catalog example on the embedded backend (its collections applied), with a manifest
that names a collection the namespace lacks, or a feature URI its collection has no index for.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from tests.support.example import apply_collections_only

from mixops.cli.main import cli

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "catalog"

GHOST = """\
version: "1.0"
retrievers:
  - name: ghost_search
    collection_identifiers: [ghost_items]
    input_schema: {query: {type: text, required: true}}
    stages:
      - stage_name: search
        stage_type: filter
        config:
          stage_id: feature_search
          parameters:
            searches:
              - feature_uri: FEATURE
                query: {input_mode: text, value: "{{INPUT.query}}"}
                top_k: 10
            final_top_k: 5
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The example with its collections applied: the namespace has them, and their features."""
    root = tmp_path / "catalog"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".mixops"))
    asyncio.run(apply_collections_only(root))
    return root


def plan(project: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["-C", str(project), "plan", "--no-tests", *args], env={"NO_COLOR": "1"})


def test_a_missing_collection_is_annotated_at_its_collection_identifiers_entry(project: Path) -> None:
    (project / "manifests" / "ghost.yaml").write_text(
        GHOST.replace("FEATURE", "mixpeek://text_extractor@v1/embedding"), encoding="utf-8"
    )
    result = plan(project, "--format", "github")
    assert result.exit_code == 1, result.output
    assert result.output.splitlines() == [
        "::error file=manifests/ghost.yaml,line=4,col=30,title=mixops::retrievers[0].collection_identifiers[0]: "
        "collection 'ghost_items' does not exist in namespace 'catalog-local' "
        "(collections: categories, departments, products, tag_catalog)"
    ]
    # The text format reads as before: the header, then the problem without its location.
    text = plan(project)
    assert text.exit_code == 1
    # The text form names the place too (file:line:col: field: message).
    assert (
        "the plan cannot be made:\n  manifests/ghost.yaml:4:30: retrievers[0].collection_identifiers[0]: "
        "collection 'ghost_items' does not exist in namespace 'catalog-local'"
    ) in text.output


def test_a_missing_feature_is_annotated_at_its_feature_uri(project: Path) -> None:
    # products' own extractor with an output it lacks: only the live collection can tell.
    ghost = GHOST.replace("[ghost_items]", "[products]").replace("FEATURE", "mixpeek://text_extractor@v1/here")
    (project / "manifests" / "ghost.yaml").write_text(ghost, encoding="utf-8")
    result = plan(project, "--format", "github")
    assert result.exit_code == 1, result.output
    [line] = [ln for ln in result.output.splitlines() if ln.startswith("::error")]
    assert line.startswith(
        "::error file=manifests/ghost.yaml,line=13,col=17,title=mixops::"
        "retrievers[0].stages[0].config.parameters.searches[0].feature_uri: "
        "retriever 'ghost_search' uses feature 'mixpeek://text_extractor@v1/here', which collection 'products' lacks"
    ), line
