from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mixops.cli.main import cli

VALID_PROJECT = """\
stack: shop
manifests: [manifests/]
environments:
  local: {target: local}
  staging: {api_url: "https://api.mixpeek.com", namespace: shop-staging, api_key_env: MIXPEEK_API_KEY,
            parameters: {top_k: 40}}
"""

VALID_MANIFEST = """\
version: "1.0"
parameters:
  - {name: top_k, type: integer, default: 20}
retrievers:
  - name: search
    collection_identifiers: [products]
    input_schema:
      query: {type: text, required: true}
    stages:
      - stage_name: search
        stage_type: filter
        config:
          stage_id: feature_search
          parameters:
            searches:
              - feature_uri: "mixpeek://text_extractor@v1/embedding"
                query: {input_mode: text, value: "{{INPUT.query}}"}
            final_top_k: "${{ params.top_k }}"
  - name: tagger
    collection_identifiers: [tags]
    input_schema:
      query: {type: text, required: true}
    stages:
      - stage_name: match
        config:
          stage_id: feature_search
          parameters:
            searches:
              - feature_uri: "mixpeek://text_extractor@v1/embedding"
                query: {value: "{{INPUT.query}}"}
taxonomies:
  - name: tags
    config:
      taxonomy_type: flat
      retriever_id: tagger
      input_mappings: [{input_key: query, source_type: payload, path: title}]
      source_collection: {collection_id: tags}
clusters:
  - name: groups
    collection_ids: [products]
    vector_config:
      clustering_method: kmeans
      algorithm_params: {n_clusters: 4}
      feature_uris: ["mixpeek://text_extractor@v1/embedding"]
tests:
  - name: shoes
    retriever: search
    inputs: {query: running shoes}
    expect: {min_results: 1}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "mixops.yaml").write_text(VALID_PROJECT)
    (tmp_path / "manifests").mkdir()
    (tmp_path / "manifests" / "main.yaml").write_text(VALID_MANIFEST)
    return tmp_path


def run(project: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, ["-C", str(project), *args], env=env or {}, catch_exceptions=False)
