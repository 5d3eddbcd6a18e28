"""Bad input: one case per class of problem. Each must exit 1 with FILE:LINE and the field path,
a fix where one exists, and never a traceback; nothing is written anywhere."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.validate.conftest import VALID_MANIFEST, run

M = "manifests/main.yaml"


def _replace(old: str, new: str) -> str:
    assert old in VALID_MANIFEST, old
    return VALID_MANIFEST.replace(old, new, 1)


def _line_of(text: str, needle: str) -> int:
    assert needle in text, needle
    return text[: text.index(needle)].count("\n") + 1


# (id, manifest text, expected field path, expected message fragment, line marker or None)
CASES: list[tuple[str, str, str, str, str | None]] = [
    (
        "unknown-stage",
        _replace(
            'stage_id: feature_search\n          parameters:\n            searches:\n              - feature_uri: "mixpeek://text_extractor@v1/embedding"\n                query: {input_mode',
            'stage_id: feature_serch\n          parameters:\n            searches:\n              - feature_uri: "mixpeek://text_extractor@v1/embedding"\n                query: {input_mode',
        ),
        "retrievers[0].stages[0].config.stage_id",
        "did you mean 'feature_search'",
        "feature_serch",
    ),
    (
        "unknown-param",
        _replace("final_top_k:", "final_topk:"),
        "retrievers[0].stages[0].config.parameters.final_topk",
        "did you mean 'final_top_k'",
        "final_topk",
    ),
    (
        "unknown-top-field",
        _replace("  - name: search\n", "  - name: search\n    descripton: x\n"),
        "retrievers[0].descripton",
        "did you mean 'description'",
        "descripton",
    ),
    (
        "wrong-type",
        _replace("n_clusters: 4", "n_clusters: [4]"),
        "clusters[0].vector_config.algorithm_params.n_clusters",
        "",
        "n_clusters",
    ),
    (
        "kmeans-param-on-dbscan",
        _replace("clustering_method: kmeans", "clustering_method: dbscan"),
        "clusters[0].vector_config.algorithm_params.n_clusters",
        "unknown field",
        "n_clusters",
    ),
    (
        "unknown-clustering-method",
        _replace("clustering_method: kmeans", "clustering_method: kmean"),
        "clusters[0].vector_config",
        "did you mean 'kmeans'",
        "vector_config",
    ),
    (
        "missing-stages",
        _replace("    stages:\n      - stage_name: search\n", "    stagez:\n      - stage_name: search\n"),
        "retrievers[0].stagez",
        "unknown field",
        "stagez",
    ),
    (
        "bad-enum",
        _replace("stage_type: filter", "stage_type: filtr"),
        "retrievers[0].stages[0].stage_type",
        "filter",
        "filtr",
    ),
    (
        "bad-taxonomy-type",
        _replace("source_type: payload", "source_type: payloads"),
        "taxonomies[0].config.input_mappings[0].source_type",
        "payload",
        "input_mappings",
    ),
    (
        "duplicate-retriever",
        _replace("  - name: tagger\n", "  - name: search\n"),
        "retrievers[1].name",
        "duplicate retriever name 'search'",
        "- name: search\n    collection_identifiers: [tags]",
    ),
    (
        "unknown-retriever-ref",
        _replace("retriever_id: tagger", "retriever_id: taggr"),
        "taxonomies[0].config.retriever_id",
        "did you mean 'tagger'",
        "retriever_id: taggr",
    ),
    (
        "id-instead-of-name",
        _replace("retriever_id: tagger", "retriever_id: ret_abc123"),
        "taxonomies[0].config.retriever_id",
        "looks like a retriever id",
        "ret_abc123",
    ),
    (
        "collection-id-instead-of-name",
        _replace("collection_ids: [products]", "collection_ids: [col_abc1234567]"),
        "clusters[0].collection_ids[0]",
        "looks like a collection id",
        "col_abc1234567",
    ),
    (
        "unknown-template-input",
        _replace(
            'value: "{{INPUT.query}}"}\n            final_top_k', 'value: "{{INPUT.qeury}}"}\n            final_top_k'
        ),
        "retrievers[0].stages[0].config.parameters.searches[0].query.value",
        "did you mean 'query'",
        "qeury",
    ),
    (
        "unknown-param-placeholder",
        _replace("${{ params.top_k }}", "${{ params.topk }}"),
        "retrievers[0].stages[0].config.parameters.final_top_k",
        "unknown parameter 'topk'",
        "params.topk",
    ),
    (
        "bad-placeholder-syntax",
        _replace("${{ params.top_k }}", "${{ top_k }}"),
        "retrievers[0].stages[0].config.parameters.final_top_k",
        "invalid placeholder",
        "${{ top_k }}",
    ),
    (
        "unset-env",
        _replace("  - name: search\n", '  - name: search\n    description: "${{ env.MIXOPS_TEST_UNSET }}"\n'),
        "retrievers[0].description",
        "MIXOPS_TEST_UNSET is not set",
        "MIXOPS_TEST_UNSET",
    ),
    (
        "bad-param-default",
        _replace("{name: top_k, type: integer, default: 20}", "{name: top_k, type: integer, default: twenty}"),
        "parameters[0].default",
        "expected an integer",
        "default: twenty",
    ),
    (
        "placeholder-in-param-default",
        _replace("{name: top_k, type: integer, default: 20}", '{name: top_k, default: "${{ env.TOP_K }}"}'),
        "parameters[0].default",
        "placeholders are not resolved in parameter values",
        "default: ",
    ),
    (
        "bogus-filter-operator",
        _replace(
            "    stages:\n      - stage_name: search\n",
            "    stages:\n      - stage_name: only_active\n        config:\n          stage_id: attribute_filter\n"
            "          parameters: {field: status, operator: bogus_op, value: active}\n"
            "      - stage_name: search\n",
        ),
        "retrievers[0].stages[0].config.parameters.operator",
        "'bogus_op' is not a valid operator",
        "operator: bogus_op",
    ),
    (
        "negative-top-k",
        _replace('query: {value: "{{INPUT.query}}"}', 'query: {value: "{{INPUT.query}}"}\n                top_k: -5'),
        "retrievers[1].stages[0].config.parameters.searches[0].top_k",
        "input should be greater than or equal to 1, got -5",
        "top_k: -5",
    ),
    (
        "final-top-k-over-the-api-limit",
        _replace('final_top_k: "${{ params.top_k }}"', "final_top_k: 5001"),
        "retrievers[0].stages[0].config.parameters.final_top_k",
        "less than or equal to 5000, got 5001",
        "final_top_k: 5001",
    ),
    (
        "integer-of-400-digits",
        _replace("n_clusters: 4", "n_clusters: 4, random_state: 1" + "0" * 399),
        "clusters[0].vector_config.algorithm_params.random_state",
        "is out of range: integers must fit in 64 bits",
        "n_clusters",
    ),
    (
        "negative-n-clusters",
        _replace("n_clusters: 4", "n_clusters: -3"),
        "clusters[0].vector_config.algorithm_params.n_clusters",
        "input should be greater than or equal to 2, got -3",
        "n_clusters",
    ),
    (
        "template-where-clusters-take-no-input",
        _replace("n_clusters: 4", 'n_clusters: "4"'),
        "clusters[0].vector_config.algorithm_params.n_clusters",
        "input should be a valid integer, got '4'",
        "n_clusters",
    ),
    (
        "test-unknown-target",
        _replace("retriever: search\n    inputs", "retriever: serch\n    inputs"),
        "tests[0].retriever",
        "did you mean 'search'",
        "retriever: serch",
    ),
    (
        "test-missing-input",
        _replace("inputs: {query: running shoes}", "inputs: {}"),
        "tests[0].inputs",
        "requires input 'query'",
        "inputs: {}",
    ),
    (
        "test-unknown-input",
        _replace("inputs: {query: running shoes}", "inputs: {query: x, qery: y}"),
        "tests[0].inputs.qery",
        "has no input 'qery'",
        "qery",
    ),
    (
        "test-two-targets",
        _replace("retriever: search\n    inputs", "retriever: search\n    cluster: groups\n    inputs"),
        "tests[0]",
        "a test targets one resource",
        "name: shoes",
    ),
    (
        "cluster-no-collections",
        _replace("    collection_ids: [products]\n    vector_config", "    vector_config"),
        "clusters[0]",
        "collection_ids",
        "- name: groups",
    ),
    (
        "unsupported-version",
        _replace('version: "1.0"', 'version: "2.0"'),
        "version",
        "unsupported manifest version",
        "version",
    ),
    ("unquoted-version", _replace('version: "1.0"', "version: 1.0"), "version", "write it quoted", "version"),
    (
        "bad-filter-operator",
        _replace(
            '          stage_id: feature_search\n          parameters:\n            searches:\n              - feature_uri: "mixpeek://text_extractor@v1/embedding"\n                query: {input_mode',
            '          stage_id: feature_search\n          pre_filters: {AND: [{field: price, operator: greater, value: 3}]}\n          parameters:\n            searches:\n              - feature_uri: "mixpeek://text_extractor@v1/embedding"\n                query: {input_mode',
        ),
        "retrievers[0].stages[0].config.pre_filters",
        "unknown operator 'greater'",
        "pre_filters",
    ),
    (
        "name-bad-chars",
        _replace("  - name: groups", "  - name: my groups"),
        "clusters[0].name",
        "(did you mean 'my_groups'?)",
        "my groups",
    ),
]


@pytest.mark.parametrize(("text", "path", "fragment", "marker"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_manifest(project: Path, text: str, path: str, fragment: str, marker: str | None) -> None:
    (project / M).write_text(text)
    result = run(project, "validate")
    assert result.exit_code == 1, result.output
    out = result.output
    assert "Traceback" not in out
    line = _line_of(text, marker) if marker else 0
    expected_prefix = f"{M}:{line}:" if line else f"{M}:"
    matching = [ln for ln in out.splitlines() if ln.startswith(expected_prefix) and f": {path}: " in ln]
    assert matching, f"no line starting {expected_prefix!r} with path {path!r} in:\n{out}"
    assert fragment in "\n".join(matching), out


def test_every_problem_is_reported_not_only_the_first(project: Path) -> None:
    text = _replace("final_top_k:", "final_topk:").replace("retriever_id: tagger", "retriever_id: nope")
    text = text.replace("n_clusters: 4", "n_clusters: four")
    (project / M).write_text(text)
    result = run(project, "validate")
    assert result.exit_code == 1
    assert "final_topk" in result.output and "n_clusters" in result.output
    assert "3 problems found" in result.output or "problems found" in result.output


def test_problems_across_files_are_all_reported(project: Path) -> None:
    (project / "manifests" / "other.yaml").write_text('version: "1.0"\nretrievers:\n  - name: x\n    stages: []\n')
    (project / M).write_text(_replace("n_clusters: 4", "n_clusters: four"))
    result = run(project, "validate")
    assert "manifests/other.yaml:4:" in result.output and "retrievers[0].stages" in result.output
    assert "manifests/main.yaml:" in result.output


def test_missing_manifest_path(project: Path) -> None:
    result = run(project, "validate", "manifests/nope.yaml")
    assert result.exit_code == 1
    assert "nope.yaml" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "empty"),
        (b"# only a comment\n", "empty"),
        (b"- a\n- b\n", "mapping"),
        (b'version: "1.0"\nretrievers: [\n', "syntax error"),
        (b'version: "1.0"\nversion: "1.0"\n', "duplicate"),
        (b'version: "1.0"\nmetadata: {name: \xff\xfe}\n', "UTF-8"),
        (b'version: "1.0"\nx: !!python/object:os.system {}\n', "tag"),
    ],
    ids=["empty", "comment-only", "root-list", "syntax", "duplicate-key", "non-utf8", "python-tag"],
)
def test_bad_files(project: Path, content: bytes, fragment: str) -> None:
    (project / M).write_bytes(content)
    result = run(project, "validate")
    assert result.exit_code == 1
    assert f"{M}:" in result.output
    assert fragment.lower() in result.output.lower()
    assert "Traceback" not in result.output


def test_alias_bomb_is_refused_quickly(project: Path) -> None:
    lines = ['version: "1.0"', 'a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for i in range(1, 12):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 10)}]")
    (project / M).write_text("\n".join(lines) + "\n")
    result = run(project, "validate")
    assert result.exit_code == 1
    assert "alias" in result.output.lower()


def test_deep_nesting_is_refused(project: Path) -> None:
    (project / M).write_text('version: "1.0"\nmetadata: ' + "[" * 5000 + "]" * 5000 + "\n")
    result = run(project, "validate")
    assert result.exit_code == 1
    assert "deep" in result.output.lower() or "nesting" in result.output.lower()


def test_oversized_file_is_refused(project: Path) -> None:
    with (project / M).open("w") as f:
        f.write('version: "1.0"\nmetadata:\n  description: "')
        f.write("x" * (10 * 1024 * 1024 + 10))
        f.write('"\n')
    result = run(project, "validate")
    assert result.exit_code == 1
    assert "10 MB" in result.output or "too large" in result.output.lower()


def test_bad_project_file(project: Path) -> None:
    (project / "mixops.yaml").write_text("stack: shop\nenvironments:\n  staging: {api_url: https://x.test}\n")
    result = run(project, "validate")
    assert result.exit_code == 1
    assert "mixops.yaml:3:" in result.output and "environments.staging" in result.output
    assert "namespace" in result.output


def test_unknown_environment(project: Path) -> None:
    result = run(project, "validate", "--env", "prod")
    assert result.exit_code == 1
    assert "unknown environment 'prod'" in result.output


def test_env_parameter_of_wrong_type(project: Path) -> None:
    text = (project / "mixops.yaml").read_text().replace("parameters: {top_k: 40}", "parameters: {top_k: lots}")
    (project / "mixops.yaml").write_text(text)
    result = run(project, "validate", "--env", "staging")
    assert result.exit_code == 1
    assert "environments.staging.parameters.top_k" in result.output and "expected an integer" in result.output


def test_debug_shows_traceback_only_on_request(project: Path) -> None:
    (project / M).write_text(_replace("final_top_k:", "final_topk:"))
    quiet = run(project, "validate")
    assert "Traceback" not in quiet.output


def test_a_namespace_that_would_inject_an_http_header_is_refused(project: Path) -> None:
    config = (project / "mixops.yaml").read_text().replace("namespace: shop-staging", 'namespace: "a\\r\\nX-Evil: 1"')
    (project / "mixops.yaml").write_text(config)
    result = run(project, "validate", "--env", "staging")
    assert result.exit_code == 1
    assert "mixops.yaml:5:" in result.output and "environments.staging.namespace: invalid namespace" in result.output
    assert "3 to 64 letters, digits" in result.output
