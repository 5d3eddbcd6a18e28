"""`collections:` and the application bindings at validate time: exactly one builder,
names of the SDK's format, references by name, each problem at FILE:LINE with its field."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.validate.conftest import run

C = "manifests/collections.yaml"

GOOD = """\
version: "1.0"
collections:
  - name: products
    source: {type: none}
    feature_extractor:
      feature_extractor_name: text_extractor
      version: v1
      input_mappings: {text: [title]}
    taxonomy_applications:
      - {taxonomy_id: tags}
cluster_applications:
  - {collection: shared_catalog, cluster_id: groups}
"""


def _line_of(text: str, needle: str) -> int:
    assert needle in text, needle
    return text[: text.index(needle)].count("\n") + 1


def test_collections_and_bindings_validate(project: Path) -> None:
    (project / C).write_text(GOOD)
    result = run(project, "validate")
    assert result.exit_code == 0, result.output
    assert "valid: 1 collection, 2 applications, 2 retrievers, 1 taxonomy, 1 cluster, 1 test" in result.output


CASES = [
    (
        "no-builder",
        GOOD.replace(
            "    feature_extractor:\n      feature_extractor_name: text_extractor\n      version: v1\n"
            "      input_mappings: {text: [title]}\n",
            "",
        ),
        "collections[0]",
        "a collection needs `feature_extractor` or `features`",
        "- name: products",
    ),
    (
        "two-builders",
        GOOD.replace("    source: {type: none}\n", "    source: {type: none}\n    features: [text_search]\n"),
        "collections[0]",
        "give `feature_extractor` or `features`, not both",
        "- name: products",
    ),
    (
        "bad-name",
        GOOD.replace("name: products", "name: my products"),
        "collections[0].name",
        "'my products' is not a valid name: 3 to 88 characters, each a letter, digit, '_' or '-'",
        "name: my products",
    ),
    (
        "unknown-taxonomy",
        GOOD.replace("{taxonomy_id: tags}", "{taxonomy_id: tgas}"),
        "collections[0].taxonomy_applications[0].taxonomy_id",
        "did you mean 'tags'",
        "taxonomy_id: tgas",
    ),
    (
        "unknown-cluster-in-binding",
        GOOD.replace("cluster_id: groups", "cluster_id: gruops"),
        "cluster_applications[0].cluster_id",
        "unknown cluster 'gruops'",
        "cluster_id: gruops",
    ),
    (
        "unknown-key",
        GOOD.replace("source: {type: none}", "source: {type: none}\n    extractor: x"),
        "collections[0].extractor",
        "",
        "extractor: x",
    ),
    (
        "bucket-without-ids",
        GOOD.replace("source: {type: none}", "source: {type: bucket}"),
        "collections[0].source",
        "source type 'bucket' requires `bucket_ids`",
        "source: {type: bucket}",
    ),
]


@pytest.mark.parametrize(("text", "path", "fragment", "marker"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_collection(project: Path, text: str, path: str, fragment: str, marker: str) -> None:
    (project / C).write_text(text)
    result = run(project, "validate")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    prefix = f"{C}:{_line_of(text, marker)}:"
    matching = [ln for ln in result.output.splitlines() if ln.startswith(prefix) and f": {path}: " in ln]
    assert matching, f"no line starting {prefix!r} with path {path!r} in:\n{result.output}"
    assert fragment in "\n".join(matching), result.output


def test_an_application_given_twice_is_one_problem_at_the_second(project: Path) -> None:
    text = GOOD + "taxonomy_applications:\n  - {collection: products, taxonomy_id: tags}\n"
    (project / C).write_text(text)
    result = run(project, "validate")
    assert result.exit_code == 1
    line = text.count("\n")  # the binding's line, the last one
    assert f"{C}:{line}:" in result.output
    assert "taxonomy 'tags' is applied to collection 'products' twice" in result.output


def test_applying_a_taxonomy_to_the_collection_it_reads_is_no_cycle(project: Path) -> None:
    # Taxonomy `tags` reads collection `tags` (and retriever `tagger`, which reads it too), and
    # `tags` applies taxonomy `tags`: the entry is a step of its own, after both.
    declared = GOOD.replace("name: products", "name: tags")
    (project / C).write_text(declared)
    result = run(project, "validate")
    assert result.exit_code == 0, result.output
