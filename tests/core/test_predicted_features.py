"""Feature URIs on a collection the plan builds, checked against the extractor catalog (pure).

No live collection can be read for a collection the plan creates, or replaces with a new
extractor. When the extractor catalog lists that extractor's outputs, the collection's
future vector indexes are known and each URI is checked against them, as a live one's
would be; when it does not (route absent, failed, extractor not listed, not read), the
plan says in a warning that only the extractor part was checked, and why.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from tests.support.fixtures import search_stage

from mixops.core.collection_checks import check_collections, needs_extractor_catalog, unchecked_features
from mixops.core.feature_uris import CATALOG_ROUTE, ExtractorCatalog, Output, catalog_from
from mixops.core.live import LiveCollection, LiveResource, LiveState, VectorIndexInfo
from mixops.core.stack import Stack
from mixops.ports.project import load_project, load_stack

PROJECT = "stack: shop\nmanifests: [manifests/]\nenvironments:\n  local: {target: local}\n"
QUERY = {"query": {"type": "text", "required": True}}
V1 = "feature_extractor: {feature_extractor_name: text_extractor, version: v1}"
V2 = "feature_extractor: {feature_extractor_name: text_extractor, version: v2}"
CATALOG = ExtractorCatalog(
    "present",
    f"{CATALOG_ROUTE} answers",
    {
        ("text_extractor", "v1"): (Output("embedding"),),
        ("text_extractor", "v2"): (Output("multilingual_e5_large_instruct_v1", "e5_large"),),
    },
)


def stack_of(tmp_path: Path, uri: str, builder: str = V1) -> Stack:
    """products (built by `builder`), and the retriever `search` on it with one search on `uri`."""
    stage = search_stage(10)
    stage["config"]["parameters"]["searches"][0]["feature_uri"] = uri
    search = {"name": "search", "collection_identifiers": ["products"], "input_schema": QUERY, "stages": [stage]}
    products = {"name": "products", "source": {"type": "none"}, **yaml.safe_load(builder)}
    text = yaml.safe_dump({"version": "1.0", "collections": [products], "retrievers": [search]}, sort_keys=False)
    (tmp_path / "mixops.yaml").write_text(PROJECT, encoding="utf-8")
    (tmp_path / "manifests").mkdir(exist_ok=True)
    (tmp_path / "manifests" / "main.yaml").write_text(text, encoding="utf-8")
    return load_stack(load_project(tmp_path), "local")


def empty(catalog: ExtractorCatalog | None = CATALOG) -> LiveState:
    return LiveState("shop-local", extractor_catalog=catalog)


def with_products_v1(catalog: ExtractorCatalog | None = CATALOG) -> LiveState:
    """products exists, built by text_extractor v1."""
    live = empty(catalog)
    spec = {"feature_extractor": {"feature_extractor_name": "text_extractor", "version": "v1"}}
    live.resources[("collection", "products")] = LiveResource("collection", "col_1", "products", spec, {}, "f")
    index = VectorIndexInfo("text_extractor_v1_embedding", "mixpeek://text_extractor@v1/embedding")
    live.collections["products"] = LiveCollection("col_1", "products", (index,))
    return live


def problems(stack: Stack, live: LiveState) -> list[str]:
    return [p.render() for f in check_collections(stack, live) for p in f.located]


def test_a_misspelt_output_on_a_collection_the_plan_creates(tmp_path: Path) -> None:
    stack = stack_of(tmp_path, "mixpeek://text_extractor@v1/text_embeding")
    assert needs_extractor_catalog(stack, empty(None))
    text = (tmp_path / "manifests" / "main.yaml").read_text(encoding="utf-8")
    line = text[: text.index("text_embeding")].count("\n") + 1
    col = text.splitlines()[line - 1].index("feature_uri") + 1  # a problem points at the key
    assert problems(stack, empty()) == [
        f"manifests/main.yaml:{line}:{col}: retrievers[0].stages[0].config.parameters.searches[0].feature_uri: "
        "retriever 'search' uses feature 'mixpeek://text_extractor@v1/text_embeding', "
        "which collection 'products' will not have: this plan creates it with text_extractor v1, whose feature "
        f"URIs are mixpeek://text_extractor@v1/embedding ({CATALOG_ROUTE}) "
        "(did you mean 'mixpeek://text_extractor@v1/embedding'?)"
    ]
    assert unchecked_features(stack, empty()) == []


@pytest.mark.parametrize(
    "uri", ["mixpeek://text_extractor@v1/embedding", "mixpeek://text_extractor@v1", "text_extractor_v1_embedding"]
)
def test_the_uris_it_will_have_pass(tmp_path: Path, uri: str) -> None:
    stack = stack_of(tmp_path, uri)
    findings = check_collections(stack, empty())
    assert [(f.collection, f.problem) for f in findings if f.uri is not None] == (
        [("products", None)] if uri.startswith("mixpeek://") else []
    )


def test_a_collection_replaced_with_a_new_extractor_gets_that_extractor_s_outputs(tmp_path: Path) -> None:
    # The v1 URI is validate's to refuse (another version); the v2 output is this check's.
    stack = stack_of(tmp_path, "mixpeek://text_extractor@v2/embedding", V2)
    [problem] = problems(stack, with_products_v1())
    assert "which collection 'products' will not have: this plan replaces it with text_extractor v2" in problem
    assert "whose feature URIs are mixpeek://text_extractor@v2/multilingual_e5_large_instruct_v1" in problem
    assert problem.endswith("(did you mean 'mixpeek://text_extractor@v2/multilingual_e5_large_instruct_v1'?)")
    # Its index's stored name, as the catalog gives it, addresses it too (mixpeek-api.md 3.6, rule 2).
    stored = stack_of(tmp_path, "mixpeek://text_extractor@v2/e5_large", V2)
    assert problems(stored, with_products_v1()) == []


def test_a_kept_collection_is_read_live_and_needs_no_catalog(tmp_path: Path) -> None:
    stack = stack_of(tmp_path, "mixpeek://text_extractor@v1/other")
    assert not needs_extractor_catalog(stack, with_products_v1(None))
    assert unchecked_features(stack, with_products_v1(None)) == []
    [problem] = problems(stack, with_products_v1(None))
    assert "which collection 'products' lacks (mixpeek://text_extractor@v1/embedding)" in problem


@pytest.mark.parametrize(
    ("catalog", "why"),
    [
        (None, f"the extractor catalog ({CATALOG_ROUTE}) was not read"),
        (ExtractorCatalog("absent", f"{CATALOG_ROUTE} answered HTTP 404 not_found"), "answered HTTP 404 not_found"),
        (ExtractorCatalog("present", "answers", {}), f"{CATALOG_ROUTE} lists no vector outputs for text_extractor v1"),
    ],
)
def test_without_the_outputs_the_plan_says_why_and_refuses_nothing(
    tmp_path: Path, catalog: ExtractorCatalog | None, why: str
) -> None:
    stack = stack_of(tmp_path, "mixpeek://text_extractor@v1/text_embeding")
    assert problems(stack, empty(catalog)) == []
    [warning] = unchecked_features(stack, empty(catalog))
    assert warning.startswith(
        "the feature URIs used on collection 'products', which this plan creates, are checked for their "
        "extractor (text_extractor v1) but not its outputs: "
    ), warning
    assert warning.endswith(why)


def test_a_collection_built_from_features_is_named_as_unchecked(tmp_path: Path) -> None:
    stack = stack_of(tmp_path, "mixpeek://text_extractor@v1/embedding", "features: [text_search]")
    assert not needs_extractor_catalog(stack, empty(None))
    assert unchecked_features(stack, empty()) == [
        "the feature URIs used on collection 'products', which this plan creates, are not checked before apply: "
        "it is built from `features`, and no documented field says which extractor a feature key selects"
    ]


def test_the_catalog_is_read_from_documented_fields_only() -> None:
    body = [
        {
            "feature_extractor_name": "text_extractor",
            "version": "v1",
            "required_vector_indexes": [{"name": "embedding", "index": {"name": "text_extractor_v1_embedding"}}],
        },
        {"feature_extractor_name": "image_extractor", "version": "v1", "required_vector_indexes": None},
        {"feature_extractor_name": "odd", "version": "v1", "required_vector_indexes": [{"name": ""}, "x"]},
        "not an extractor",
    ]
    catalog = catalog_from(body)
    assert catalog.status == "present"
    assert catalog.outputs == {("text_extractor", "v1"): (Output("embedding", "text_extractor_v1_embedding"),)}
    grouped = catalog_from({"text": body})
    assert (grouped.status, grouped.outputs) == ("unknown", {})
    assert grouped.evidence == f"{CATALOG_ROUTE} answered dict, not a list of extractors"
