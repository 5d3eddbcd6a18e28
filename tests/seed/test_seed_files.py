"""Seed files against the manifests: documents for a collection nothing declares or builds
would wait forever, so they are a located problem (when every manifest was loaded)."""

from __future__ import annotations

from pathlib import Path

from mixops.ports.seedfile import check_seed_files


def _seed(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


DOCS_ONLY = "collections:\n  - collection_name: prodcts\n    documents: [{title: a}]\n"
BUILT = (
    "collections:\n  - collection_name: tags\n"
    "    feature_extractor: {feature_extractor_name: text_extractor, version: v1}\n"
)


def test_documents_for_an_undeclared_collection_are_a_problem_at_the_name(tmp_path: Path) -> None:
    seed = _seed(tmp_path / "seed.yaml", DOCS_ONLY)
    (problem,) = check_seed_files([seed], root=tmp_path, declared=["products"])
    assert problem.render() == (
        "seed.yaml:2:5: collections[0].collection_name: documents for collection 'prodcts', which no manifest "
        "declares (declared: products) (declare it under `collections:` in a manifest, or give this entry a "
        "feature_extractor to make it a seed-only collection)"
    )


def test_a_declared_or_seed_built_collection_is_fine(tmp_path: Path) -> None:
    seed = _seed(tmp_path / "seed.yaml", DOCS_ONLY)
    assert check_seed_files([seed], root=tmp_path, declared=["prodcts"]) == []
    other = _seed(tmp_path / "other.yaml", BUILT)
    docs_for_tags = _seed(tmp_path / "tags.yaml", "collections:\n  - {collection_name: tags, documents: []}\n")
    assert check_seed_files([other, docs_for_tags], root=tmp_path, declared=[]) == []


def test_without_the_manifests_nothing_is_cross_checked(tmp_path: Path) -> None:
    """`mixops validate PATH` loads only some manifests: no declared list, no false problem."""
    seed = _seed(tmp_path / "seed.yaml", DOCS_ONLY)
    assert check_seed_files([seed], root=tmp_path, declared=None) == []
