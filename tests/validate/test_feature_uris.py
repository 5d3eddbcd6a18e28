"""Feature URIs on collections the manifests declare, checked offline.

A declared collection's `feature_extractor` names its one extractor and version, so a
feature URI naming another one can never resolve on it, whether the plan creates the
collection, replaces it or keeps it: validate refuses it at the URI's line, with the
URIs the collection can have and the one most likely meant.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.validate.conftest import VALID_MANIFEST, run

C = "manifests/collections.yaml"
M = "manifests/main.yaml"
PRODUCTS = """\
version: "1.0"
collections:
  - name: products
    description: what shoppers search
    source: {type: none}
    feature_extractor:
      feature_extractor_name: text_extractor
      version: v1
      input_mappings: {text: [title]}
"""
URI = "mixpeek://text_extractor@v1/embedding"
# The retriever `search` and the cluster `groups` read products; `tagger` reads `tags`, not declared.
SEARCH_LINE = VALID_MANIFEST[: VALID_MANIFEST.index(URI)].count("\n") + 1
CLUSTER_LINE = VALID_MANIFEST[: VALID_MANIFEST.index(f'feature_uris: ["{URI}')].count("\n") + 1


def _write(project: Path, search_uri: str = URI, cluster_uri: str = URI, collections: str = PRODUCTS) -> None:
    first, _, rest = VALID_MANIFEST.partition(URI)
    middle, _, last = rest.partition(f'feature_uris: ["{URI}')
    text = f'{first}{search_uri}{middle}feature_uris: ["{cluster_uri}{last}'
    (project / M).write_text(text, encoding="utf-8")
    (project / C).write_text(collections, encoding="utf-8")


def test_the_extractor_s_uris_validate(project: Path) -> None:
    _write(project)
    result = run(project, "validate")
    assert result.exit_code == 0, result.output


def test_a_misspelt_extractor_is_refused_at_the_uri(project: Path) -> None:
    _write(project, search_uri="mixpeek://text_extractr@v1/embedding")
    result = run(project, "validate")
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{M}:{SEARCH_LINE}:17: retrievers[0].stages[0].config.parameters.searches[0].feature_uri: "
        "retriever 'search' uses feature 'mixpeek://text_extractr@v1/embedding', which collection 'products' "
        f"cannot have: it is built by text_extractor v1 ({C}:6), so its feature URIs start with "
        f"mixpeek://text_extractor@v1 (did you mean '{URI}'?)",
        "1 problem found",
    ]


def test_another_version_is_refused_on_a_cluster_too(project: Path) -> None:
    _write(project, search_uri="mixpeek://text_extractor@v2/embedding", cluster_uri="mixpeek://text_extractor@v2")
    result = run(project, "validate", "--format", "json")
    assert result.exit_code == 1
    import json

    problems = json.loads(result.output)["problems"]
    assert [(p["file"], p["line"], p["path"]) for p in problems] == [
        (M, SEARCH_LINE, "retrievers[0].stages[0].config.parameters.searches[0].feature_uri"),
        (M, CLUSTER_LINE, "clusters[0].vector_config.feature_uris[0]"),
    ]
    assert problems[0]["fix"] == f"did you mean '{URI}'?"
    assert "cluster 'groups' uses feature 'mixpeek://text_extractor@v2'" in problems[1]["message"]
    assert problems[1]["fix"] == "did you mean 'mixpeek://text_extractor@v1'?"


@pytest.mark.parametrize(
    "uri",
    [
        "mixpeek://text_extractor@v1/no_such_output",  # the outputs are the plan's to check
        "mixpeek://text_extractor@v1",  # the short form
        "mixpeek://other@v9/text_extractor_v1_embedding",  # the output names the index itself
        "text_extractor_v1_embedding",  # a bare index name
        "{{INPUT.feature}}",  # filled at execute time
    ],
)
def test_what_the_extractor_alone_cannot_rule_out_is_left_to_the_plan(project: Path, uri: str) -> None:
    _write(project, search_uri=uri)
    result = run(project, "validate")
    assert "cannot have" not in result.output


def test_collections_not_declared_or_built_from_features_are_not_checked_offline(project: Path) -> None:
    # `tagger` reads `tags`, which the manifests only reference: its features are the plan's to read.
    text = VALID_MANIFEST.replace(
        f'searches:\n              - feature_uri: "{URI}"\n                query: {{value:',
        'searches:\n              - feature_uri: "mixpeek://other@v1/embedding"\n                query: {value:',
    )
    assert text != VALID_MANIFEST
    (project / M).write_text(text, encoding="utf-8")
    (project / C).write_text(PRODUCTS.replace(
        "    feature_extractor:\n      feature_extractor_name: text_extractor\n      version: v1\n"
        "      input_mappings: {text: [title]}\n",
        "    features: [text_search]\n",
    ), encoding="utf-8")  # fmt: skip
    assert run(project, "validate").exit_code == 0
