"""The catalog example's collections through the CLI, as a user meets them (issue 15).

A copy of the example applied once to the embedded backend (its four collections created with
their seed documents, `product_tags` applied to `products`), copied again per test: a product
written afterwards gets its tags; an extractor change is a replacement that shows the documents
it loses and needs --allow-data-loss; prune never deletes a collection holding documents, nor
one the manifests still read; drift notices a collection edited or an entry removed by hand.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from mixops.cli.main import cli
from mixops.errors import ApiError
from mixops.local.inprocess import local_transport
from mixops.ports.client import MixpeekClient
from mixops.ports.project import load_project
from mixops.ports.target import connect

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "catalog"
SEED_PRODUCTS = 358


def mixops(root: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--no-color", "-C", str(root), *args], env={"NO_COLOR": "1"})


@pytest.fixture(scope="module")
def applied_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("example") / "catalog"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".mixops", "__pycache__"))
    result = mixops(root, "apply", "--auto-approve", "--no-tests")
    assert result.exit_code == 0, result.output
    assert "Apply complete: 14 done, 0 failed, 0 not started." in result.output
    return root


@pytest.fixture
def applied(applied_base: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "catalog"
    shutil.copytree(applied_base, dest)
    return dest


@asynccontextmanager
async def api(root: Path) -> AsyncIterator[MixpeekClient]:
    """A client on the example's local namespace, for what a user or a service does by hand."""
    project = load_project(root, local_backend=local_transport)
    async with connect(project, "local") as client:
        yield client


async def collection(root: Path, name: str) -> dict[str, Any]:
    async with api(root) as client:
        return await client.get_collection(name)


async def documents(root: Path, name: str) -> int:
    async with api(root) as client:
        found = await client.get_collection(name)
        body = {"limit": 1, "include_total": True}
        out = await client.request("POST", f"/v1/collections/{found['collection_id']}/documents/list", json=body)
        return int(out["total_documents"])


async def add_product(root: Path, **fields: Any) -> dict[str, Any]:
    """POST a document to products (as the shop's ingestion would), then read it back."""
    async with api(root) as client:
        cid = (await client.get_collection("products"))["collection_id"]
        made = await client.request("POST", f"/v1/collections/{cid}/documents", json=fields)
        return dict(await client.request("GET", f"/v1/collections/{cid}/documents/{made['document_id']}"))


def edit(root: Path, file: str, change: Any) -> None:
    path = root / file
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def products_of(data: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in data["collections"] if c["name"] == "products")


# --- a taxonomy applied to a collection is observable -------------------------------------------


def test_a_product_written_after_apply_gets_its_tags(applied: Path) -> None:
    doc = asyncio.run(
        add_product(
            applied,
            title="Lightweight trail running shoes",
            description="Grippy trail running shoes for muddy mountain runs.",
            department="footwear",
            in_stock=True,
        )
    )
    # product_tags appends the two closest tag_catalog slugs to `tag`.
    assert doc["tag"] == ["trail-running", "running"], doc

    # The seed's products loaded inside the create, before the entry was attached: not tagged
    # (a backfill would be an explicit step).
    async def seed_product() -> dict[str, Any]:
        async with api(applied) as client:
            cid = (await client.get_collection("products"))["collection_id"]
            return dict(await client.request("GET", f"/v1/collections/{cid}/documents/doc_prod0001"))

    assert "tag" not in asyncio.run(seed_product())
    # Writing documents is not a change of the manifests.
    assert mixops(applied, "plan", "--detailed-exitcode", "--no-tests").exit_code == 0


# --- an extractor change replaces the collection, and loses its documents ---------------------


def test_an_extractor_change_shows_the_documents_lost_and_needs_allow_data_loss(applied: Path) -> None:
    asyncio.run(add_product(applied, title="Hand-added wool socks", description="Added by the shop, not the seed."))
    before = asyncio.run(collection(applied, "products"))
    edit(
        applied,
        "manifests/collections.yaml",
        lambda d: products_of(d)["feature_extractor"].update(include_all_source_fields=True),
    )

    refused = mixops(applied, "plan", "--no-tests")
    assert refused.exit_code == 1, refused.output
    assert (
        "collection 'products' would be replaced (feature_extractor cannot change in place), and it holds "
        f"{SEED_PRODUCTS + 1} documents, which would be lost" in refused.output
    )
    assert "--allow-data-loss" in refused.output and "Traceback" not in refused.output
    assert mixops(applied, "apply", "--auto-approve", "--no-tests").exit_code == 1
    assert asyncio.run(collection(applied, "products"))["collection_id"] == before["collection_id"]  # untouched

    shown = mixops(applied, "plan", "--no-tests", "--allow-data-loss", "--format", "json")
    assert shown.exit_code == 0, shown.output
    step = next(s for s in json.loads(shown.stdout)["steps"] if s["name"] == "products")
    assert (step["action"], step["documents"], step["replace_reasons"]) == (
        "replace",
        SEED_PRODUCTS + 1,
        ["feature_extractor"],
    )
    text = mixops(applied, "plan", "--no-tests", "--allow-data-loss")
    assert '-/+ collection "products" must be replaced' in text.output
    assert f"# holds {SEED_PRODUCTS + 1} documents, lost with it (--allow-data-loss)" in text.output

    done = mixops(applied, "apply", "--auto-approve", "--allow-data-loss")
    assert done.exit_code == 0, done.output
    tests_line = next(line for line in done.output.splitlines() if line.startswith("Tests against the applied"))
    assert ", 0 failed, 0 skipped" in tests_line, done.output
    after = asyncio.run(collection(applied, "products"))
    assert after["collection_id"] != before["collection_id"]
    assert after["feature_extractor"]["include_all_source_fields"] is True
    # What happens to the documents: the hand-added one is gone with the old collection; the
    # local backend loads the seed's products again into the replacement when it takes the name
    # (on the hosted API nothing reloads them: the new collection starts empty).
    assert asyncio.run(documents(applied, "products")) == SEED_PRODUCTS

    # product_tags is attached to the replacement; the next plan is empty.
    async def tags_id() -> str:
        async with api(applied) as client:
            return str((await client.request("GET", "/v1/taxonomies/product_tags"))["taxonomy_id"])

    assert [e["taxonomy_id"] for e in after["taxonomy_applications"]] == [asyncio.run(tags_id())]
    assert mixops(applied, "plan", "--detailed-exitcode", "--no-tests").exit_code == 0


# --- prune never deletes a collection holding documents without the flag ------------------------


def _without_categories(root: Path) -> None:
    edit(
        root,
        "manifests/collections.yaml",
        lambda d: d.update(collections=[c for c in d["collections"] if c["name"] != "categories"]),
    )
    edit(
        root,
        "data/seed.yaml",
        lambda d: d.update(collections=[c for c in d["collections"] if c["collection_name"] != "categories"]),
    )


def _without_category_readers(root: Path) -> None:
    """The taxonomy level and the retriever that read categories, and their tests."""

    def taxonomies(d: dict[str, Any]) -> None:
        hierarchy = next(t for t in d["taxonomies"] if t["name"] == "product_hierarchy")
        hierarchy["config"]["hierarchical_nodes"] = hierarchy["config"]["hierarchical_nodes"][:1]

    edit(root, "manifests/taxonomies.yaml", taxonomies)
    edit(
        root,
        "manifests/retrievers.yaml",
        lambda d: d.update(retrievers=[r for r in d["retrievers"] if r["name"] != "category_matcher"]),
    )
    edit(
        root,
        "manifests/tests.yaml",
        lambda d: d.update(
            tests=[
                t
                for t in d["tests"]
                if t.get("retriever") != "category_matcher" and t.get("taxonomy") != "product_hierarchy"
            ]
        ),
    )


def test_prune_refuses_to_delete_a_collection_the_manifests_still_read(applied: Path) -> None:
    _without_categories(applied)
    refused = mixops(applied, "plan", "--prune", "--no-tests", "--allow-data-loss")
    assert refused.exit_code == 1, refused.output
    assert "collection 'categories' is no longer declared, but retriever 'category_matcher'" in refused.output
    assert asyncio.run(documents(applied, "categories")) == 11


def test_prune_deletes_a_collection_holding_documents_only_with_allow_data_loss(applied: Path) -> None:
    _without_categories(applied)
    _without_category_readers(applied)
    kept = mixops(applied, "plan", "--no-tests")  # without --prune: a warning, nothing deleted
    assert kept.exit_code == 0, kept.output
    assert "collection 'categories' is owned by this stack but no longer declared (--prune deletes it)" in kept.output

    refused = mixops(applied, "apply", "--auto-approve", "--prune", "--no-tests")
    assert refused.exit_code == 1, refused.output
    assert "collection 'categories' would be deleted, and it holds 11 documents, which would be lost" in refused.output
    assert asyncio.run(documents(applied, "categories")) == 11

    pruned = mixops(applied, "apply", "--auto-approve", "--prune", "--no-tests", "--allow-data-loss")
    assert pruned.exit_code == 0, pruned.output
    assert "- collection categories: deleted" in pruned.output
    assert mixops(applied, "plan", "--detailed-exitcode", "--prune", "--no-tests").exit_code == 0


def test_in_a_protected_environment_prune_also_needs_allow_delete(applied: Path) -> None:
    _without_categories(applied)
    _without_category_readers(applied)
    edit(applied, "mixops.yaml", lambda d: d["environments"]["local"].update(protect=True))
    refused = mixops(applied, "apply", "--auto-approve", "--prune", "--no-tests", "--allow-data-loss")
    assert refused.exit_code == 1, refused.output
    assert "--allow-delete" in refused.output
    assert asyncio.run(documents(applied, "categories")) == 11
    both = mixops(applied, "apply", "--auto-approve", "--prune", "--no-tests", "--allow-data-loss", "--allow-delete")
    assert both.exit_code == 0, both.output


def test_a_saved_plan_made_with_prune_names_the_flags_to_apply_it_with(applied: Path) -> None:
    """`plan --prune --allow-data-loss --out` says to apply with those flags; applying without
    them is refused naming --prune, not as an edited file."""
    _without_categories(applied)
    _without_category_readers(applied)
    plan_file = (applied / "p.json").as_posix()
    saved = mixops(applied, "plan", "--prune", "--allow-data-loss", "--no-tests", "--out", plan_file)
    assert saved.exit_code == 0, saved.output
    command = f"mixops -C {applied.as_posix()} apply {plan_file} --env local --prune --allow-data-loss"
    assert f"apply it with: {command}" in saved.output, saved.output
    bare = mixops(applied, "apply", plan_file, "--auto-approve", "--no-tests")
    assert bare.exit_code == 1, bare.output
    assert "was the file edited?" not in bare.output
    assert "(it has steps only --prune make; give it again when applying it: " in bare.output, bare.output
    assert asyncio.run(documents(applied, "categories")) == 11
    done = mixops(applied, *command.split()[3:], "--auto-approve", "--no-tests")
    assert done.exit_code == 0, done.output
    assert "- collection categories: deleted" in done.output


def test_in_a_protected_environment_one_refusal_names_both_flags(applied: Path) -> None:
    """Without either flag, the first refusal already says what the delete needs: not
    --allow-delete first, then --allow-data-loss on the next try."""
    _without_categories(applied)
    _without_category_readers(applied)
    edit(applied, "mixops.yaml", lambda d: d["environments"]["local"].update(protect=True))
    refused = mixops(applied, "apply", "--auto-approve", "--prune", "--no-tests")
    assert refused.exit_code == 1, refused.output
    text = " ".join(refused.output.split())
    assert "collection 'categories' would be deleted, but environment 'local' is protected" in text, text
    assert "collection 'categories' would be deleted, and it holds 11 documents, which would be lost" in text, text
    assert asyncio.run(documents(applied, "categories")) == 11


# --- drift ----------------------------------------------------------------------------------------


def test_drift_notices_a_collection_edited_or_an_entry_removed_by_hand(applied: Path) -> None:
    clean = mixops(applied, "drift")
    assert clean.exit_code == 0, clean.output
    assert "No drift: the 14 resources this stack owns" in clean.output

    async def by_hand() -> None:
        async with api(applied) as client:
            products = await client.get_collection("products")
            body = {"description": "edited in the console", "taxonomy_applications": []}
            await client.patch_collection(products["collection_id"], body)

    asyncio.run(by_hand())
    drifted = mixops(applied, "drift", "--format", "json")
    assert drifted.exit_code == 2, drifted.output
    items = {(i["kind"], i["name"]): i for i in json.loads(drifted.stdout)["items"]}
    assert set(items) == {("collection", "products"), ("application", "products/taxonomy/product_tags")}
    changes = {c["path"]: c for c in items[("collection", "products")]["changes"]}
    assert changes["description"]["live"] == "edited in the console"
    assert items[("application", "products/taxonomy/product_tags")]["status"] == "deleted"
    text = mixops(applied, "drift")
    assert "  - application products/taxonomy/product_tags: deleted out of band" in text.output

    # An edit only in git is not drift.
    restored = mixops(applied, "apply", "--auto-approve", "--no-tests")
    assert restored.exit_code == 0, restored.output
    edit(applied, "manifests/collections.yaml", lambda d: products_of(d).update(description="Products (new wording)"))
    assert mixops(applied, "drift").exit_code == 0


REVIEWS = """
  - name: reviews
    source: {type: none}
    input_schema: INPUT_SCHEMA
    feature_extractor:
      feature_extractor_name: text_extractor
      version: v1
      input_mappings: {text: [title]}
"""


async def _post(root: Path, path: str, body: dict[str, Any]) -> Any:
    async with api(root) as client:
        return await client.request("POST", path, json=body)


def _with_reviews(root: Path, input_schema: str) -> int:
    """Declare a collection `reviews` with this `input_schema`; returns the line of that key."""
    path = root / "manifests" / "collections.yaml"
    text = path.read_text(encoding="utf-8") + REVIEWS.replace("INPUT_SCHEMA", input_schema)
    path.write_text(text, encoding="utf-8")
    return text[: text.index("input_schema:")].count("\n") + 1


def test_a_collection_input_schema_is_the_sdk_bucket_schema(applied: Path) -> None:
    """The SDK's CreateCollectionRequest types `input_schema` as BucketSchemaInput, whose
    `properties` is required: a schema of bare fields (as a retriever's input_schema is
    written) passed validate and plan, then failed apply with a 422 halfway through."""
    line = _with_reviews(applied, "{title: {type: string}}")
    bare = mixops(applied, "validate")
    assert bare.exit_code == 1, bare.output
    assert f"manifests/collections.yaml:{line}:" in bare.output
    assert "collections[4].input_schema: " in bare.output
    assert "input_schema: {properties: {title: {type: string}}}" in bare.output  # the fix, with the user's field
    assert "FAILED" not in bare.output

    shutil.copy(EXAMPLE / "manifests" / "collections.yaml", applied / "manifests" / "collections.yaml")
    _with_reviews(applied, "{properties: {title: {type: keyword}}}")
    wrong_type = mixops(applied, "validate")
    assert wrong_type.exit_code == 1, wrong_type.output
    assert "collections[4].input_schema.properties.title.type: " in wrong_type.output
    assert "'keyword' is not a valid type" in wrong_type.output
    # The local backend refuses both bodies too: it is never more lenient than validate.
    extractor = {"feature_extractor_name": "text_extractor", "version": "v1", "input_mappings": {"text": ["title"]}}
    for schema in ({"title": {"type": "string"}}, {"properties": {"title": {"type": "keyword"}}}):
        body = {
            "collection_name": "reviews",
            "source": {"type": "none"},
            "input_schema": schema,
            "feature_extractor": extractor,
        }
        with pytest.raises(ApiError) as refused:
            asyncio.run(_post(applied, "/v1/collections", body))
        assert refused.value.status == 422, refused.value
        assert "input_schema" in str(refused.value), refused.value

    shutil.copy(EXAMPLE / "manifests" / "collections.yaml", applied / "manifests" / "collections.yaml")
    _with_reviews(applied, "{properties: {title: {type: string, description: Review title}}}")
    done = mixops(applied, "apply", "--auto-approve", "--no-tests")
    assert done.exit_code == 0, done.output
    assert "+ collection reviews: created" in done.output
    again = mixops(applied, "plan", "--detailed-exitcode", "--no-tests")
    assert again.exit_code == 0, again.output
