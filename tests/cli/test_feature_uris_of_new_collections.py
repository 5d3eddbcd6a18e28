"""Feature URIs on collections the plan creates, or replaces with a new extractor.

There is no live collection to read their features from, so before this check a typo in
such a URI was found by apply, after the collection was created: a half-applied
namespace. Now plan refuses it at the URI's line, apply writes nothing, and the plan
made once it is fixed is the one it was before.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mixops.cli.main import cli

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "catalog"
RETRIEVERS = "manifests/retrievers.yaml"
URI = "mixpeek://text_extractor@v1/embedding"
# products' extractor, the one collection declaration with these input mappings.
PRODUCTS_EXTRACTOR = "      version: v1\n      input_mappings: {text: [title, description]}"


def mixops(root: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--no-color", "-C", str(root), *args], env={"NO_COLOR": "1"})


def edit(root: Path, file: str, old: str, new: str, count: int = 1) -> None:
    path = root / file
    text = path.read_text(encoding="utf-8")
    assert text.count(old) >= count, old
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def line_of(root: Path, file: str, needle: str) -> int:
    text = (root / file).read_text(encoding="utf-8")
    return text[: text.index(needle)].count("\n") + 1


@pytest.fixture
def fresh(tmp_path: Path) -> Path:
    root = tmp_path / "catalog"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".mixops", "__pycache__"))
    return root


def test_a_misspelt_extractor_on_a_collection_the_plan_creates(fresh: Path) -> None:
    bad = "mixpeek://text_extractr@v1/embedding"
    edit(fresh, RETRIEVERS, URI, bad)
    line = line_of(fresh, RETRIEVERS, bad)
    for args in (("plan",), ("apply", "--auto-approve")):
        result = mixops(fresh, *args)
        assert result.exit_code == 1, result.output
        assert (
            f"{RETRIEVERS}:{line}:17: retrievers[0].stages[0].config.parameters.searches[0].feature_uri: "
            f"retriever 'product_search' uses feature '{bad}', which collection 'products' cannot have: "
            "it is built by text_extractor v1 (manifests/collections.yaml:14)"
        ) in result.output
        assert f"(did you mean '{URI}'?)" in result.output
    # Nothing was written: fixed, the plan still creates everything.
    edit(fresh, RETRIEVERS, bad, URI)
    result = mixops(fresh, "plan", "--no-tests")
    assert result.exit_code == 0, result.output
    assert "Plan: 14 to create, 0 to update, 0 new versions, 0 to replace, 0 to delete" in result.output


def test_a_misspelt_output_on_a_collection_the_plan_creates(fresh: Path) -> None:
    # The extractor is right: which outputs it has comes from the extractor catalog.
    bad = "mixpeek://text_extractor@v1/text_embeding"
    edit(fresh, RETRIEVERS, URI, bad)
    line = line_of(fresh, RETRIEVERS, bad)
    assert mixops(fresh, "validate").exit_code == 0
    for args in (("plan",), ("apply", "--auto-approve")):
        result = mixops(fresh, *args)
        assert result.exit_code == 1, result.output
        assert result.output.splitlines()[-1] == (
            f"  {RETRIEVERS}:{line}:17: retrievers[0].stages[0].config.parameters.searches[0].feature_uri: "
            f"retriever 'product_search' uses feature '{bad}', which collection 'products' "
            "will not have: this plan creates it with text_extractor v1, whose feature URIs are "
            f"{URI} (GET /v1/collections/features/extractors) (did you mean '{URI}'?)"
        ), result.output
    github = mixops(fresh, "plan", "--format", "github")
    assert github.output.startswith(
        f"::error file={RETRIEVERS},line={line},col=17,title=mixops::"
        "retrievers[0].stages[0].config.parameters.searches[0].feature_uri: "
    ), github.output
    # Nothing was written: fixed, the plan still creates everything.
    edit(fresh, RETRIEVERS, bad, URI)
    result = mixops(fresh, "plan", "--no-tests")
    assert result.exit_code == 0, result.output
    assert "Plan: 14 to create, 0 to update, 0 new versions, 0 to replace, 0 to delete" in result.output


def test_the_old_extractor_s_uris_on_a_collection_replaced_with_a_new_one(fresh: Path) -> None:
    assert mixops(fresh, "apply", "--auto-approve", "--no-tests").exit_code == 0
    edit(fresh, "manifests/collections.yaml", PRODUCTS_EXTRACTOR, PRODUCTS_EXTRACTOR.replace("v1", "v2"))
    for args in (("plan", "--allow-data-loss"), ("apply", "--allow-data-loss", "--auto-approve")):
        result = mixops(fresh, *args)
        assert result.exit_code == 1, result.output
        refused = [ln for ln in result.output.splitlines() if "which collection 'products' cannot have" in ln]
        # Every search and cluster reading products, each at its own line.
        assert [ln.split(": ", 2)[:2] for ln in refused] == [
            ["manifests/clusters.yaml:16:22", "clusters[0].vector_config.feature_uris[0]"],
            [f"{RETRIEVERS}:25:17", "retrievers[0].stages[0].config.parameters.searches[0].feature_uri"],
            [f"{RETRIEVERS}:74:17", "retrievers[1].stages[0].config.parameters.searches[0].feature_uri"],
            [f"{RETRIEVERS}:78:17", "retrievers[1].stages[0].config.parameters.searches[1].feature_uri"],
        ], result.output
        assert "it is built by text_extractor v2" in refused[0]
        assert "(did you mean 'mixpeek://text_extractor@v2/embedding'?)" in refused[0]
    # With the new extractor's URIs the replacement plans; the local catalog lists no outputs
    # for text_extractor v2, so the plan says it checked only the extractor part.
    # The first three searches in retrievers.yaml, and the first cluster, read products.
    for file, n in ((RETRIEVERS, 3), ("manifests/clusters.yaml", 1)):
        edit(fresh, file, URI, URI.replace("@v1", "@v2"), count=n)
    result = mixops(fresh, "plan", "--allow-data-loss", "--no-tests")
    assert result.exit_code == 0, result.output
    assert (
        "the feature URIs used on collection 'products', which this plan replaces, are checked for their "
        "extractor (text_extractor v2) but not its outputs: GET /v1/collections/features/extractors lists no "
        "vector outputs for text_extractor v2"
    ) in " ".join(result.output.split())
    for file, n in ((RETRIEVERS, 3), ("manifests/clusters.yaml", 1)):
        edit(fresh, file, URI.replace("@v1", "@v2"), URI, count=n)
    # Nothing was replaced: with the old extractor back, there is nothing to do.
    edit(fresh, "manifests/collections.yaml", PRODUCTS_EXTRACTOR.replace("v1", "v2"), PRODUCTS_EXTRACTOR)
    result = mixops(fresh, "plan", "--no-tests")
    assert result.exit_code == 0, result.output
    assert "No changes." in result.output


def test_a_misspelt_output_on_a_collection_replaced_with_a_new_extractor(fresh: Path) -> None:
    # products is first built by an extractor the local catalog does not list, then replaced with
    # text_extractor v1, which it lists: the replacement's URIs are known before it exists.
    old_name = "      feature_extractor_name: other_text_extractor\n" + PRODUCTS_EXTRACTOR
    new_name = "      feature_extractor_name: text_extractor\n" + PRODUCTS_EXTRACTOR
    other, bad = "mixpeek://other_text_extractor@v1/embedding", "mixpeek://text_extractor@v1/text_embeding"
    edit(fresh, "manifests/collections.yaml", new_name, old_name)
    for file, n in ((RETRIEVERS, 3), ("manifests/clusters.yaml", 1)):  # the searches and cluster on products
        edit(fresh, file, URI, other, count=n)
    result = mixops(fresh, "apply", "--auto-approve", "--no-tests")
    assert result.exit_code == 0, result.output
    edit(fresh, "manifests/collections.yaml", old_name, new_name)
    for file, n in ((RETRIEVERS, 3), ("manifests/clusters.yaml", 1)):
        edit(fresh, file, other, bad, count=n)
    for args in (("plan", "--allow-data-loss"), ("apply", "--allow-data-loss", "--auto-approve")):
        result = mixops(fresh, *args)
        assert result.exit_code == 1, result.output
        text = " ".join(result.output.split())
        assert (
            f"{RETRIEVERS}:25:17: retrievers[0].stages[0].config.parameters.searches[0].feature_uri: "
            f"retriever 'product_search' uses feature '{bad}', which collection 'products' will "
            f"not have: this plan replaces it with text_extractor v1, whose feature URIs are {URI}"
        ) in text, result.output
        assert (
            f"manifests/clusters.yaml:16:22: clusters[0].vector_config.feature_uris[0]: cluster 'product_groups' uses feature '{bad}',"
            in text
        )
    # Nothing was replaced: fixed, the plan still replaces products.
    for file, n in ((RETRIEVERS, 3), ("manifests/clusters.yaml", 1)):
        edit(fresh, file, bad, URI, count=n)
    result = mixops(fresh, "plan", "--allow-data-loss", "--no-tests")
    assert result.exit_code == 0, result.output
    assert '-/+ collection "products" must be replaced' in result.output
