"""Validation's messages agree in number and article, through one helper (core/wording)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.validate.conftest import VALID_MANIFEST, run

from mixops.core.wording import action_counts, count, listing, plural, verb, with_article


@pytest.mark.parametrize(
    ("noun", "expected"),
    [("taxonomy", "taxonomies"), ("retriever", "retrievers"), ("cluster", "clusters"), ("match", "matches"),
     ("key", "keys"), ("index", "indexes"), ("file", "files"), ("class", "classes")],
)  # fmt: skip
def test_plural(noun: str, expected: str) -> None:
    assert plural(noun) == expected


def test_count_and_article() -> None:
    assert [count(1, "taxonomy"), count(0, "cluster"), count(10_000, "test")] == [
        "1 taxonomy",
        "0 clusters",
        "10,000 tests",
    ]
    assert [with_article(w) for w in ("integer", "string", "array", "unique name", "URL", "number")] == [
        "an integer",
        "a string",
        "an array",
        "a unique name",
        "a URL",
        "a number",
    ]


def test_lists_and_plan_actions_read_as_english() -> None:
    assert [listing([]), listing(["a"]), listing(["a", "b"]), listing(["a", "b", "c"])] == [
        "",
        "a",
        "a and b",
        "a, b and c",
    ]
    assert verb(1, "is", "are") == "is" and verb(2, "is", "are") == "are"
    # One phrase per action everywhere (promote once said `1 to version`, plan `1 new version`).
    assert action_counts({"create": 1, "version": 1}) == (
        "1 to create, 0 to update, 1 new version, 0 to replace, 0 to delete"
    )
    assert action_counts({"version": 2, "delete": 1}, zeros=False) == "2 new versions, 1 to delete"


def test_validate_summary_agrees_in_number(project: Path) -> None:
    text = VALID_MANIFEST.split("tests:\n")[0]  # one taxonomy, one cluster, no test
    (project / "manifests" / "main.yaml").write_text(text)
    result = run(project, "validate")
    assert result.exit_code == 0, result.output
    assert result.output == "valid: 2 retrievers, 1 taxonomy, 1 cluster, 0 tests in 1 file (environment local)\n"


def test_no_kind_declared_is_plural(project: Path) -> None:
    retrievers = VALID_MANIFEST.split("retrievers:\n", 1)[1].split("taxonomies:\n")[0]
    manifest = 'version: "1.0"\nretrievers:\n' + retrievers.replace('"${{ params.top_k }}"', "20")
    manifest += "  - name: enricher\n    stages:\n      - stage_name: tag\n        config:\n"
    manifest += "          stage_id: taxonomy_enrich\n          parameters: {taxonomy_id: product_tags}\n"
    (project / "manifests" / "main.yaml").write_text(manifest)
    result = run(project, "validate")
    assert result.exit_code == 1
    assert "unknown taxonomy 'product_tags' (declare it: no taxonomies are declared)" in result.output


def test_printable_escapes_only_what_would_not_print() -> None:
    from mixops.core.wording import printable

    assert printable("products/tags 'é'") == "products/tags 'é'"
    assert printable("a\x1b[31mb\x07\u200bc") == "a\\x1b[31mb\\x07\\u200bc"


def test_a_name_against_its_pattern_says_what_is_allowed_and_offers_a_clean_name(project: Path) -> None:
    """No regex in the message: what the name may hold, and a near valid name when there is one."""
    manifest = project / "manifests" / "main.yaml"
    manifest.write_text(manifest.read_text().replace("  - name: search\n", "  - name: recherche élargie\n", 1))
    result = run(project, "validate")
    assert result.exit_code == 1
    assert (
        "retrievers[0].name: 'recherche élargie' is not a valid name: letters, digits, '_', '.' and '-', "
        "starting with a letter or digit (did you mean 'recherche_elargie'?)"
    ) in result.output, result.output
    assert "pattern" not in result.output
