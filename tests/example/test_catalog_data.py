"""The catalog example's sample data: well-formed, consistent, and reproducible.

The example is the first thing a user runs, and its manifests' tests name
document ids and field values from these files; a drift between the generator,
the committed data and the manifests would make the demo fail for reasons that
have nothing to do with mixops.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

CATALOG = Path(__file__).resolve().parents[2] / "examples" / "catalog"
DATA = CATALOG / "data"
DATA_FILES = ("products.jsonl", "tag_catalog.jsonl", "departments.jsonl", "categories.jsonl")
DOC_ID = re.compile(r"^doc_[A-Za-z0-9]+$")
DOC_REF = re.compile(r"\bdoc_[A-Za-z0-9]+\b")


def _rows(name: str) -> list[dict[str, Any]]:
    rows = []
    for number, line in enumerate((DATA / name).read_text(encoding="utf-8").splitlines(), start=1):
        value = json.loads(line)
        assert isinstance(value, dict), f"{name}:{number}: not a JSON object"
        rows.append(value)
    return rows


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("catalog_generate", DATA / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up in sys.modules while the class is built.
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


def _manifest_tests() -> list[dict[str, Any]]:
    tests: list[dict[str, Any]] = []
    for path in sorted((CATALOG / "manifests").glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            tests.extend(document.get("tests", []))
    return tests


@pytest.mark.parametrize("name", DATA_FILES)
def test_data_files_are_jsonl_with_unique_document_ids(name: str) -> None:
    rows = _rows(name)
    assert rows, f"{name} is empty"
    ids = [row.get("document_id") for row in rows]
    bad = [i for i in ids if not isinstance(i, str) or not DOC_ID.match(i)]
    assert not bad, f"{name}: ids not of the form doc_<alphanumerics>: {bad[:5]}"
    assert len(set(ids)) == len(ids), f"{name}: duplicate document ids"


def test_products_are_complete_and_plausible() -> None:
    products = _rows("products.jsonl")
    assert 300 <= len(products) <= 400
    for product in products:
        where = product["document_id"]
        assert product["title"].strip() and product["description"].strip(), where
        assert product["department"] in {"footwear", "apparel", "accessories"}, where
        assert isinstance(product["price"], float) and 0 < product["price"] < 1000, where
        assert isinstance(product["rating"], float) and 1.0 <= product["rating"] <= 5.0, where
        assert isinstance(product["in_stock"], bool), where
        assert product["tags"] == sorted(set(product["tags"])), where
    assert len({p["brand"] for p in products}) == 12
    # Filters in the manifests need both sides of these to exist.
    assert {p["in_stock"] for p in products} == {True, False}
    assert min(p["rating"] for p in products) < 3.0 < max(p["rating"] for p in products)


def test_taxonomy_nodes_cover_the_product_vocabulary() -> None:
    products = _rows("products.jsonl")
    tags = {row["tag"] for row in _rows("tag_catalog.jsonl")}
    used = {tag for product in products for tag in product["tags"]}
    assert used <= tags, f"product tags missing from tag_catalog: {sorted(used - tags)}"
    departments = {row["department"]: row["label"] for row in _rows("departments.jsonl")}
    categories = _rows("categories.jsonl")
    assert {row["parent_label"] for row in categories} == set(departments.values())
    assert {p["department"] for p in products} == set(departments)
    assert {p["category"] for p in products} == {row["category"] for row in categories}


def test_every_document_id_in_the_manifest_tests_exists() -> None:
    known = {row["document_id"] for name in DATA_FILES for row in _rows(name)}
    referenced = set()
    for test in _manifest_tests():
        referenced.update(DOC_REF.findall(json.dumps(test)))
    assert referenced, "the manifest tests reference no document ids; did the layout change?"
    assert referenced <= known, f"unknown document ids in manifest tests: {sorted(referenced - known)}"


def test_documents_from_ids_live_in_the_named_collection() -> None:
    by_collection = {name.removesuffix(".jsonl"): {r["document_id"] for r in _rows(name)} for name in DATA_FILES}
    for test in _manifest_tests():
        source = test.get("documents_from")
        if source:
            assert set(source["ids"]) <= by_collection[source["collection"]], test["name"]


def test_field_values_in_the_manifest_tests_occur_in_the_data() -> None:
    # A `match` on a value no product has (a typo, a renamed category) can never pass.
    rows = [row for name in DATA_FILES for row in _rows(name)]
    seen: dict[str, set[str]] = {}
    for row in rows:
        for key, value in row.items():
            seen.setdefault(key, set()).add(json.dumps(value))
    for test in _manifest_tests():
        expect = test["expect"]
        criteria = [expect.get("top_k", {}).get(k) for k in ("all_match", "any_match")]
        criteria.append(expect.get("absent", {}).get("match"))
        for crit in filter(None, criteria):
            for key, value in crit.items():
                assert json.dumps(value) in seen.get(key, set()), f"{test['name']}: {key}={value!r}"


def test_generator_reproduces_the_committed_files(tmp_path: Path) -> None:
    written = _generator().generate(tmp_path)
    assert sorted(p.name for p in written) == sorted(DATA_FILES)
    for name in DATA_FILES:
        assert (tmp_path / name).read_bytes() == (DATA / name).read_bytes(), (
            f"{name} differs from generate.py's output: run `python examples/catalog/data/generate.py`"
        )


def test_seed_holds_documents_for_every_collection_the_manifests_declare() -> None:
    seed = yaml.safe_load((DATA / "seed.yaml").read_text(encoding="utf-8"))
    files = {}
    for entry in seed["collections"]:
        # Documents only: the collections' settings are the manifests'.
        assert set(entry) == {"collection_name", "documents_file"}, entry
        assert (DATA / entry["documents_file"]).is_file(), entry["documents_file"]
        files[entry["collection_name"]] = entry["documents_file"]
    project = yaml.safe_load((CATALOG / "mixops.yaml").read_text(encoding="utf-8"))
    assert project["environments"]["local"]["seed"] == ["data/seed.yaml"]
    declared, used = {}, set()
    for path in (CATALOG / "manifests").glob("*.yaml"):
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            for collection in document.get("collections", []):
                declared[collection["name"]] = collection
            for retriever in document.get("retrievers", []):
                used.update(retriever.get("collection_identifiers", []))
            for cluster in document.get("clusters", []):
                used.update(cluster.get("collection_ids", []))
            for taxonomy in document.get("taxonomies", []):
                config = taxonomy["config"]
                if "source_collection" in config:
                    used.add(config["source_collection"]["collection_id"])
                used.update(node["collection_id"] for node in config.get("hierarchical_nodes", []))
    assert set(files) == set(declared), "a seed entry per declared collection, and no other"
    assert used <= set(declared), f"collections used by manifests but not declared: {sorted(used - set(declared))}"
    for name, collection in declared.items():
        fields = collection["feature_extractor"]["input_mappings"]["text"]
        first = _rows(files[name])[0]
        assert set(fields) <= set(first), f"{name}: unmapped fields {fields}"
    applied = [a["taxonomy_id"] for a in declared["products"].get("taxonomy_applications", [])]
    assert applied == ["product_tags"]


def test_example_stays_small() -> None:
    # Hidden directories (.mixops/ holds the local backend's database) are not shipped.
    shipped = [
        p
        for p in CATALOG.rglob("*")
        if p.is_file()
        and not any(part.startswith(".") or part == "__pycache__" for part in p.parts[len(CATALOG.parts) :])
    ]
    size = sum(p.stat().st_size for p in shipped)
    assert size < 400_000
