"""A collection's applications over HTTP: taxonomies materialised on ingestion, the
apply-taxonomy backfill task, retriever enrichments, and the collection PATCH surface."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from tests.local.conftest import SEARCH_STAGE, TEXT_EXTRACTOR, assert_envelope

TAGS = [
    {"document_id": "t_foot", "label": "footwear", "title": "running shoes sneakers boots footwear"},
    {"document_id": "t_out", "label": "outdoor", "title": "hiking outdoor jacket waterproof"},
    {"document_id": "t_read", "label": "reading", "title": "book handbook learning"},
]
SOURCE = {"type": "bucket", "bucket_ids": ["bkt_products"]}


async def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _tagging(client: httpx.AsyncClient, *, top_k: int = 1) -> tuple[str, str]:
    """A tag node collection, its matcher retriever and a flat taxonomy copying `label` to `tag`."""
    nodes = await _ok(
        await client.post(
            "/v1/collections",
            json={"collection_name": "tag_nodes", "source": SOURCE, "feature_extractor": TEXT_EXTRACTOR},
        )
    )
    for tag in TAGS:
        await _ok(await client.post(f"/v1/collections/{nodes['collection_id']}/documents", json=tag))
    matcher = await _ok(
        await client.post(
            "/v1/retrievers",
            json={
                "retriever_name": "tag_matcher",
                "collection_identifiers": [nodes["collection_id"]],
                "input_schema": {"query": {"type": "text", "required": True}},
                "stages": [SEARCH_STAGE],
            },
        )
    )
    taxonomy = await _ok(
        await client.post(
            "/v1/taxonomies",
            json={
                "taxonomy_name": "product_tags",
                "config": {
                    "taxonomy_type": "flat",
                    "retriever_id": matcher["retriever_id"],
                    "input_mappings": [{"input_key": "query", "source_type": "payload", "path": "title"}],
                    "source_collection": {
                        "collection_id": nodes["collection_id"],
                        "enrichment_fields": [{"field_path": "label", "target_field": "tag"}],
                    },
                    "top_k": top_k,
                },
            },
        )
    )
    return str(taxonomy["taxonomy_id"]), str(matcher["retriever_id"])


async def _products(client: httpx.AsyncClient, **extra: Any) -> str:
    made = await _ok(
        await client.post(
            "/v1/collections",
            json={"collection_name": "shop", "source": SOURCE, "feature_extractor": TEXT_EXTRACTOR, **extra},
        )
    )
    return str(made["collection_id"])


async def _wait(client: httpx.AsyncClient, task_id: str) -> dict[str, Any]:
    for _ in range(400):
        task = await _ok(await client.get(f"/v1/tasks/{task_id}"))
        if task["status"] not in ("PENDING", "IN_PROGRESS"):
            return task
        await asyncio.sleep(0.05)
    raise AssertionError(f"task {task_id} did not finish")


async def test_a_document_ingested_into_a_collection_applying_a_taxonomy_gets_the_enrichment(
    client: httpx.AsyncClient,
) -> None:
    tax_id, _ = await _tagging(client)
    cid = await _products(client, taxonomy_applications=[{"taxonomy_id": tax_id}])
    doc = await _ok(await client.post(f"/v1/collections/{cid}/documents", json={"title": "red running shoes"}))
    assert doc["tag"] == "footwear"
    assert doc["_internal"][f"_taxonomy_{tax_id}_label"] == "footwear"
    assert doc["_internal"][f"_taxonomy_{tax_id}_id"] == "t_foot"
    assert isinstance(doc["_internal"][f"_taxonomy_{tax_id}_score"], float)
    # Read back, the enrichment is stored; the collection echoes its application.
    again = await _ok(await client.get(f"/v1/collections/{cid}/documents/{doc['document_id']}"))
    assert again["tag"] == "footwear"
    col = await _ok(await client.get(f"/v1/collections/{cid}"))
    assert col["taxonomy_applications"] == [{"taxonomy_id": tax_id}]
    # A PATCH of the document re-runs the application on the new content.
    patched = await _ok(
        await client.patch(f"/v1/collections/{cid}/documents/{doc['document_id']}", json={"title": "python handbook"})
    )
    assert patched["tag"] == "reading"


async def test_without_the_application_nothing_is_enriched_and_scroll_filters_narrow_it(
    client: httpx.AsyncClient,
) -> None:
    tax_id, _ = await _tagging(client)
    plain = await _products(client)
    doc = await _ok(await client.post(f"/v1/collections/{plain}/documents", json={"title": "hiking boots"}))
    assert "tag" not in doc and not any(k.startswith("_taxonomy_") for k in doc["_internal"])
    await _ok(
        await client.patch(
            f"/v1/collections/{plain}",
            json={
                "taxonomy_applications": [
                    {
                        "taxonomy_id": tax_id,
                        "scroll_filters": {"AND": [{"field": "category", "operator": "eq", "value": "hiking"}]},
                    }
                ]
            },
        )
    )
    kept = await _ok(
        await client.post(f"/v1/collections/{plain}/documents", json={"title": "hiking jacket", "category": "hiking"})
    )
    skipped = await _ok(
        await client.post(f"/v1/collections/{plain}/documents", json={"title": "hiking jacket", "category": "sale"})
    )
    assert kept["tag"] == "outdoor"
    assert "tag" not in skipped


async def test_top_k_above_one_records_the_ranked_assignments(client: httpx.AsyncClient) -> None:
    tax_id, _ = await _tagging(client, top_k=2)
    cid = await _products(client, taxonomy_applications=[{"taxonomy_id": tax_id}])
    doc = await _ok(await client.post(f"/v1/collections/{cid}/documents", json={"title": "waterproof hiking boots"}))
    ranked = doc["_internal"][f"_taxonomy_{tax_id}_assignments"]
    assert [a["label"] for a in ranked] == ["outdoor", "footwear"]
    assert ranked[0]["score"] >= ranked[1]["score"]


async def test_apply_taxonomy_backfills_existing_documents_as_a_task(client: httpx.AsyncClient) -> None:
    tax_id, _ = await _tagging(client)
    cid = await _products(client)
    titles = ["red running shoes", "waterproof hiking jacket", "machine learning handbook"]
    ids = [
        (await _ok(await client.post(f"/v1/collections/{cid}/documents", json={"title": t})))["document_id"]
        for t in titles
    ]
    # Not in taxonomy_applications yet: refused, nothing runs.
    err = assert_envelope(await client.post(f"/v1/collections/{cid}/apply-taxonomy", json={"taxonomy_id": tax_id}), 422)
    assert err["code"] == "taxonomy_not_applied"
    # Attaching it does not touch existing documents (a backfill is explicit).
    await _ok(await client.patch(f"/v1/collections/{cid}", json={"taxonomy_applications": [{"taxonomy_id": tax_id}]}))
    before = await _ok(await client.get(f"/v1/collections/{cid}/documents/{ids[0]}"))
    assert "tag" not in before
    started = await _ok(
        await client.post(f"/v1/collections/{cid}/apply-taxonomy", json={"taxonomy_id": tax_id, "batch_size": 100})
    )
    assert started["status"] == "PENDING"
    assert started["collection_id"] == cid and started["taxonomy_id"] == tax_id
    assert started["estimated_documents"] == 3
    task = await _wait(client, started["task_id"])
    assert task["status"] == "COMPLETED"
    assert task["task_type"] == "api_taxonomies_materialize"
    assert task["outputs"] == [{"processed_docs": 3, "enriched": 3, "errors": 0, "batches": 1}]
    tags = [(await _ok(await client.get(f"/v1/collections/{cid}/documents/{i}")))["tag"] for i in ids]
    assert tags == ["footwear", "outdoor", "reading"]


async def test_apply_taxonomy_scroll_filters_and_refusals(client: httpx.AsyncClient) -> None:
    tax_id, _ = await _tagging(client)
    cid = await _products(client)
    for title, category in [("hiking boots", "hiking"), ("running shoes", "running")]:
        await _ok(await client.post(f"/v1/collections/{cid}/documents", json={"title": title, "category": category}))
    await _ok(await client.patch(f"/v1/collections/{cid}", json={"taxonomy_applications": [{"taxonomy_id": tax_id}]}))
    only_hiking = {"AND": [{"field": "category", "operator": "eq", "value": "hiking"}]}
    started = await _ok(
        await client.post(
            f"/v1/collections/{cid}/apply-taxonomy", json={"taxonomy_id": tax_id, "scroll_filters": only_hiking}
        )
    )
    assert started["estimated_documents"] == 1
    assert (await _wait(client, started["task_id"]))["outputs"][0]["processed_docs"] == 1
    listed = await _ok(await client.post(f"/v1/collections/{cid}/documents/list", json={}))
    assert {d["category"]: "tag" in d for d in listed["results"]} == {"hiking": True, "running": False}

    url = f"/v1/collections/{cid}/apply-taxonomy"
    assert assert_envelope(await client.post(url, json={"taxonomy_id": "tax_nope"}), 404)["code"] == (
        "taxonomy_not_found"
    )
    assert assert_envelope(await client.post(url, json={"taxonomy_id": tax_id, "bogus": 1}), 422)["code"] == (
        "extra_forbidden"
    )
    assert_envelope(await client.post(url, json={"taxonomy_id": tax_id, "batch_size": 50}), 422)
    credits = {"taxonomy_id": tax_id, "budget_limits": {"max_credits": 5}}
    assert assert_envelope(await client.post(url, json=credits), 422)["code"] == "unsupported_budget"
    missing = assert_envelope(await client.post(url, json={}), 422)
    assert missing["code"] == "missing_field"
    assert_envelope(await client.post("/v1/collections/nope/apply-taxonomy", json={"taxonomy_id": tax_id}), 404)


async def test_a_time_budget_that_runs_out_cancels_the_backfill(client: httpx.AsyncClient) -> None:
    tax_id, _ = await _tagging(client)
    cid = await _products(client, taxonomy_applications=[{"taxonomy_id": tax_id}])
    await _ok(await client.post(f"/v1/collections/{cid}/documents", json={"title": "boots"}))
    started = await _ok(
        await client.post(
            f"/v1/collections/{cid}/apply-taxonomy",
            json={"taxonomy_id": tax_id, "budget_limits": {"max_time_ms": 0}},
        )
    )
    task = await _wait(client, started["task_id"])
    assert task["status"] == "CANCELED"
    assert task["additional_data"]["budget"] == {"max_time_ms": 0}
    assert task["additional_data"]["stopped_at"] == 0


async def test_a_retriever_enrichment_writes_result_fields_back(client: httpx.AsyncClient) -> None:
    _, matcher = await _tagging(client)
    cid = await _products(
        client,
        retriever_enrichments=[
            {
                "retriever_id": matcher,
                "input_mappings": [
                    {"input_key": "query", "source": {"source_type": "document_field", "path": "title"}}
                ],
                "write_back_fields": [
                    {"source_field": "label", "target_field": "best_tag"},
                    {"source_field": "label", "target_field": "all_tags", "mode": "all_as_array"},
                ],
            }
        ],
    )
    doc = await _ok(await client.post(f"/v1/collections/{cid}/documents", json={"title": "python learning book"}))
    assert doc["best_tag"] == "reading"
    assert doc["all_tags"][0] == "reading" and set(doc["all_tags"]) <= {"reading", "footwear", "outdoor"}


async def test_application_references_must_exist(client: httpx.AsyncClient) -> None:
    bad = {"collection_name": "shop", "source": SOURCE, "feature_extractor": TEXT_EXTRACTOR}
    err = assert_envelope(
        await client.post("/v1/collections", json={**bad, "taxonomy_applications": [{"taxonomy_id": "tax_gone"}]}),
        422,
    )
    assert "taxonomy_applications[0].taxonomy_id: tax_gone" in err["message"]
    cid = await _products(client)
    err = assert_envelope(
        await client.patch(
            f"/v1/collections/{cid}",
            json={
                "retriever_enrichments": [
                    {
                        "retriever_id": "ret_gone",
                        "input_mappings": [{"input_key": "q", "source": {"source_type": "constant", "value": "x"}}],
                        "write_back_fields": [{"source_field": "label", "target_field": "t"}],
                    }
                ]
            },
        ),
        422,
    )
    assert "retriever_enrichments[0].retriever_id: ret_gone" in err["message"]
    # A cluster application names a cluster that exists and reads this collection.
    cluster = await _ok(
        await client.post(
            "/v1/clusters",
            json={
                "cluster_name": "elsewhere",
                "collection_ids": ["col_products_v1"],
                "cluster_type": "vector",
                "vector_config": {
                    "clustering_method": "kmeans",
                    "algorithm_params": {"n_clusters": 2},
                    "feature_uris": ["mixpeek://text_extractor@v1/embedding"],
                },
            },
        )
    )
    err = assert_envelope(
        await client.patch(
            f"/v1/collections/{cid}", json={"cluster_applications": [{"cluster_id": cluster["cluster_id"]}]}
        ),
        422,
    )
    assert err["code"] == "cluster_not_on_collection"
    ok = await _ok(
        await client.patch(
            "/v1/collections/col_products_v1",
            json={"cluster_applications": [{"cluster_id": cluster["cluster_id"], "cooldown_seconds": 60}]},
        )
    )
    assert ok["cluster_applications"] == [{"cluster_id": cluster["cluster_id"], "cooldown_seconds": 60}]


async def test_collection_patch_surface(client: httpx.AsyncClient) -> None:
    cid = await _products(client)
    url = f"/v1/collections/{cid}"
    for key, value in [
        ("feature_extractor", TEXT_EXTRACTOR),
        ("source", SOURCE),
        ("features", ["text_search"]),
        ("input_schema", {"properties": {}}),
    ]:
        err = assert_envelope(await client.patch(url, json={key: value}), 422)
        assert err["code"] == "immutable_field" and err["details"]["fields"] == [key]
        assert "clone the collection" in err["message"]
    err = assert_envelope(await client.patch(url, json={"tiering_rules": []}), 422)
    assert "use tiering" in err["message"]
    err = assert_envelope(await client.patch(url, json={"bogus": 1}), 422)
    assert err["code"] == "extra_forbidden"
    # Nested entries are held to the SDK's application models.
    err = assert_envelope(await client.patch(url, json={"cluster_applications": [{"cluster_id": "c", "x": 1}]}), 422)
    assert err["code"] == "extra_forbidden" and "cluster_applications[0].x" in err["message"]
    err = assert_envelope(await client.patch(url, json={"schedule": {"trigger_type": "cron"}}), 422)
    assert err["code"] == "missing_field" and "schedule.schedule_config" in err["message"]
    assert_envelope(await client.patch(url, json={}), 400)
    # A retriever_transform pin moves only on a collection that has one.
    assert_envelope(await client.patch(url, json={"retriever_transform": {"retriever_version": 2}}), 422)
    done = await _ok(
        await client.patch(
            url,
            json={
                "description": "d",
                "enabled": False,
                "metadata": {"team": "search"},
                "schedule": {"trigger_type": "interval", "schedule_config": {"interval_seconds": 3600}},
            },
        )
    )
    assert (done["description"], done["enabled"], done["metadata"]) == ("d", False, {"team": "search"})
    assert done["schedule"]["trigger_type"] == "interval"


async def test_a_target_collection_receives_the_enriched_copy(client: httpx.AsyncClient) -> None:
    tax_id, _ = await _tagging(client)
    target = await _ok(
        await client.post(
            "/v1/collections",
            json={"collection_name": "shop_tagged", "source": SOURCE, "feature_extractor": TEXT_EXTRACTOR},
        )
    )
    cid = await _products(
        client, taxonomy_applications=[{"taxonomy_id": tax_id, "target_collection_id": target["collection_id"]}]
    )
    doc = await _ok(await client.post(f"/v1/collections/{cid}/documents", json={"title": "red running shoes"}))
    assert "tag" not in doc  # the source document stays as written
    copy = await _ok(await client.get(f"/v1/collections/{target['collection_id']}/documents/{doc['document_id']}"))
    assert copy["tag"] == "footwear" and copy["title"] == "red running shoes"
    assert copy["_internal"][f"_taxonomy_{tax_id}_label"] == "footwear"
