"""Issue 13 item 2 and issue 15 item 6: the local database follows the seed file.

Documents removed from a seed (or edited without an id) do not linger; a seed-only
collection whose settings changed is an error naming the fields and the reset; documents
for a collection a manifest declares wait until that collection is created over HTTP.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from tests.local.conftest import TEXT_EXTRACTOR, make_client

from mixops.errors import SeedError
from mixops.local.app import create_app
from mixops.local.seed import load_seed, reset_namespace

NS = "seed-sync"
DOCS = [
    {"document_id": "d1", "title": "red running shoes"},
    {"document_id": "d2", "title": "leather hiking boots"},
    {"title": "cotton yoga mat"},  # no id: derived from the content
]


def _write(path: Path, collections: list[dict[str, Any]], **extra: Any) -> Path:
    path.write_text(yaml.safe_dump({"collections": collections, **extra}), encoding="utf-8")
    return path


def _app(tmp_path: Path, seed: Path) -> Any:
    return create_app(tmp_path / "local.db", seed_files=[seed], seed_namespace=NS)


async def _titles(client: httpx.AsyncClient, collection: str) -> list[str]:
    listed = await client.post(f"/v1/collections/{collection}/documents/list", json={"limit": 100})
    assert listed.status_code == 200, listed.text
    return sorted(d["title"] for d in listed.json()["results"])


async def test_a_document_removed_from_the_seed_is_gone_on_the_next_load(tmp_path: Path) -> None:
    seed = _write(
        tmp_path / "seed.yaml", [{"collection_name": "shop", "feature_extractor": TEXT_EXTRACTOR, "documents": DOCS}]
    )
    app = _app(tmp_path, seed)
    async with make_client(app, NS) as client:
        added = await client.post("/v1/collections/shop/documents", json={"title": "added over the API"})
        assert added.status_code == 200, added.text
    app.state.local.close()
    # d2 removed, the id-less document edited (a new content id): both old versions go.
    _write(
        seed,
        [
            {
                "collection_name": "shop",
                "feature_extractor": TEXT_EXTRACTOR,
                "documents": [DOCS[0], {"title": "cotton yoga mat, thick"}],
            }
        ],
    )
    app = _app(tmp_path, seed)
    async with make_client(app, NS) as client:
        assert await _titles(client, "shop") == ["added over the API", "cotton yoga mat, thick", "red running shoes"]
        assert (await client.get("/v1/collections/shop/documents/d2")).status_code == 404
    app.state.local.close()


def test_loading_the_same_seed_twice_changes_nothing(tmp_path: Path) -> None:
    seed = _write(
        tmp_path / "seed.yaml", [{"collection_name": "shop", "feature_extractor": TEXT_EXTRACTOR, "documents": DOCS}]
    )
    app = _app(tmp_path, seed)
    again = load_seed(app, seed, NS)
    assert again == {"collections": 0, "documents": 3, "retrievers": 0, "pending": 0, "removed": 0}
    app.state.local.close()


def test_changed_settings_of_a_seed_only_collection_name_the_fields_and_the_reset(tmp_path: Path) -> None:
    seed = _write(
        tmp_path / "seed.yaml", [{"collection_name": "shop", "feature_extractor": TEXT_EXTRACTOR, "documents": DOCS}]
    )
    _app(tmp_path, seed).state.local.close()
    changed = {**TEXT_EXTRACTOR, "input_mappings": {"text": ["title", "description"]}}
    _write(seed, [{"collection_name": "shop", "feature_extractor": changed, "description": "d", "documents": DOCS}])
    with pytest.raises(SeedError) as caught:
        _app(tmp_path, seed)
    message = str(caught.value)
    assert "collections[0] (shop)" in message
    assert "feature_extractor.input_mappings, description differ" in message
    assert "`mixops local reset`" in message
    assert caught.value.needs_reset
    # The reset drops the namespace (documents added over the API too) and loads the seed again.
    outcome = reset_namespace(tmp_path / "local.db", NS, [seed])
    assert outcome["removed"]["collections"] == 1 and outcome["removed"]["documents"] == 3
    assert outcome["loaded"]["collections"] == 1 and outcome["loaded"]["documents"] == 3
    app = _app(tmp_path, seed)  # now in line: loads without an error
    app.state.local.close()


def test_a_collection_made_from_a_seed_typo_before_seeds_were_checked_is_detected(tmp_path: Path) -> None:
    """A database built before seed files were validated kept a misspelt key in the collection."""
    typo = {**TEXT_EXTRACTOR}
    typo["input_mapping"] = typo.pop("input_mappings")
    app = create_app(tmp_path / "local.db", seed_namespace=NS)
    from mixops.local.api.collections import create_collection
    from mixops.local.api.namespaces import ensure_namespace

    ns = ensure_namespace(app.state.local.db, NS)
    create_collection(app.state.local, ns, {"collection_name": "shop", "feature_extractor": typo})
    app.state.local.close()
    seed = _write(tmp_path / "seed.yaml", [{"collection_name": "shop", "feature_extractor": TEXT_EXTRACTOR}])
    with pytest.raises(SeedError, match=r"feature_extractor\.input_mapping, feature_extractor\.input_mappings differ"):
        _app(tmp_path, seed)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"collections": 3}, "collections: Input should be a valid list"),
        (
            {
                "collections": [
                    {
                        "collection_name": "p",
                        "feature_extractor": {"feature_extractor_name": "t", "version": "v1", "input_mapping": {}},
                    }
                ]
            },
            "input_mapping: Extra inputs are not permitted",
        ),
        (
            {"collections": [{"collection_name": "p", "description": "x", "documents": []}]},
            "settings (description) without a builder",
        ),
        ({"retrievers": [{"retriever_name": "r"}]}, "retrievers.0.stages: Field required"),
    ],
)
def test_a_malformed_seed_is_a_seed_error_naming_the_place(tmp_path: Path, data: Any, expected: str) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(SeedError) as caught:
        _app(tmp_path, seed)
    assert expected in str(caught.value)
    assert str(seed) in str(caught.value)


async def test_documents_for_a_declared_collection_load_when_it_is_created(tmp_path: Path) -> None:
    seed = _write(tmp_path / "seed.yaml", [{"collection_name": "products", "documents": DOCS}])
    app = _app(tmp_path, seed)
    assert load_seed(app, seed, NS)["pending"] == 3
    async with make_client(app, NS) as client:
        assert (await client.get("/v1/collections/products")).status_code == 404
        made = await client.post(
            "/v1/collections",
            json={
                "collection_name": "products",
                "source": {"type": "bucket", "bucket_ids": ["bkt_p"]},
                "feature_extractor": TEXT_EXTRACTOR,
            },
        )
        assert made.status_code == 200, made.text
        assert made.json()["document_count"] == 3
        assert "warnings" not in made.json()
        # A search finds them: they were embedded with the new collection's extractor.
        assert await _titles(client, "products") == ["cotton yoga mat", "leather hiking boots", "red running shoes"]
    app.state.local.close()


async def test_a_replacement_taking_the_name_gets_the_seed_documents(tmp_path: Path) -> None:
    seed = _write(tmp_path / "seed.yaml", [{"collection_name": "products", "documents": DOCS[:2]}])
    app = _app(tmp_path, seed)
    body = {"source": {"type": "bucket", "bucket_ids": ["bkt_p"]}, "feature_extractor": TEXT_EXTRACTOR}
    async with make_client(app, NS) as client:
        tmp = await client.post("/v1/collections", json={"collection_name": "products_next", **body})
        assert tmp.json()["document_count"] == 0
        renamed = await client.patch(
            f"/v1/collections/{tmp.json()['collection_id']}", json={"collection_name": "products"}
        )
        assert renamed.status_code == 200, renamed.text
        assert renamed.json()["document_count"] == 2
    app.state.local.close()


async def test_seed_documents_a_new_collection_refuses_are_a_create_warning(tmp_path: Path) -> None:
    docs = [{"document_id": "v1", "title": "x", "vectors": {"custom_vec": [0.1, 0.2]}}]
    seed = _write(tmp_path / "seed.yaml", [{"collection_name": "products", "documents": docs}])
    app = _app(tmp_path, seed)
    async with make_client(app, NS) as client:
        made = await client.post(
            "/v1/collections",
            json={
                "collection_name": "products",
                "source": {"type": "bucket", "bucket_ids": ["bkt_p"]},
                "feature_extractor": TEXT_EXTRACTOR,
            },
        )
        assert made.status_code == 200, made.text
        (warning,) = made.json()["warnings"]
        assert "seed documents not loaded" in warning and "custom_vec" in warning
    app.state.local.close()


async def test_reloading_a_seed_rewrites_only_changed_documents_and_backfills_nothing(tmp_path: Path) -> None:
    """Seeds load at every command: unchanged documents are not re-ingested, so a taxonomy
    attached since then does not enrich them implicitly (that is apply-taxonomy's job)."""
    from tests.local.test_collection_applications import _tagging

    docs = [{"document_id": "d1", "title": "red running shoes"}, {"document_id": "d2", "title": "hiking boots"}]
    seed = _write(
        tmp_path / "seed.yaml", [{"collection_name": "shop", "feature_extractor": TEXT_EXTRACTOR, "documents": docs}]
    )
    app = _app(tmp_path, seed)
    async with make_client(app, NS) as client:
        tax_id, _ = await _tagging(client)
        patched = await client.patch("/v1/collections/shop", json={"taxonomy_applications": [{"taxonomy_id": tax_id}]})
        assert patched.status_code == 200, patched.text
        first = (await client.get("/v1/collections/shop/documents/d1")).json()
    app.state.local.close()
    _write(
        seed,
        [
            {
                "collection_name": "shop",
                "feature_extractor": TEXT_EXTRACTOR,
                "documents": [docs[0], {"document_id": "d2", "title": "trail running shoes"}],
            }
        ],
    )
    app = _app(tmp_path, seed)
    async with make_client(app, NS) as client:
        same = (await client.get("/v1/collections/shop/documents/d1")).json()
        changed = (await client.get("/v1/collections/shop/documents/d2")).json()
    app.state.local.close()
    assert same["_internal"]["updated_at"] == first["_internal"]["updated_at"]
    assert "tag" not in same
    assert changed["title"] == "trail running shoes" and changed["tag"] == "footwear"


async def test_a_seed_collection_adopted_by_the_manifests_keeps_their_settings(tmp_path: Path) -> None:
    """After `--adopt`, apply owns the settings: a seed that differs is no longer an error."""
    seed = _write(
        tmp_path / "seed.yaml",
        [
            {
                "collection_name": "shop",
                "feature_extractor": TEXT_EXTRACTOR,
                "description": "from the seed",
                "documents": DOCS,
            }
        ],
    )
    app = _app(tmp_path, seed)
    async with make_client(app, NS) as client:
        adopted = await client.patch(
            "/v1/collections/shop",
            json={"description": "from the manifest", "metadata": {"managed_by": "mixops", "mixops_stack": "s"}},
        )
        assert adopted.status_code == 200, adopted.text
    app.state.local.close()
    app = _app(tmp_path, seed)  # no SeedError; the documents still follow the seed
    async with make_client(app, NS) as client:
        assert (await client.get("/v1/collections/shop")).json()["description"] == "from the manifest"
        assert len(await _titles(client, "shop")) == 3
    app.state.local.close()


def test_reset_also_rebuilds_a_namespace_the_seed_names(tmp_path: Path) -> None:
    seed = _write(
        tmp_path / "seed.yaml",
        [{"collection_name": "shop", "feature_extractor": TEXT_EXTRACTOR, "documents": DOCS}],
        namespace="named-in-seed",
    )
    _app(tmp_path, seed).state.local.close()
    outcome = reset_namespace(tmp_path / "local.db", NS, [seed])
    assert outcome["namespaces"] == [NS, "named-in-seed"]
    assert outcome["removed"]["collections"] == 1 and outcome["loaded"]["documents"] == 3
