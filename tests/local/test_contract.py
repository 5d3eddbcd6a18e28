"""The local backend refuses what the API refuses: bodies are held to the SDK's request models.

Undeclared keys at any depth are a 422 ``extra_forbidden`` naming the key and the keys
accepted where it sits (the API since 2026-11-02); ``--lenient`` names them in
``warnings`` instead. A collection needs exactly one builder; identifiers in paths
must exist.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from tests.local.conftest import NAMESPACE, SEARCH_STAGE, TEXT_EXTRACTOR, assert_envelope, make_client
from tests.support.fixtures import TEXT_URI

from mixops.local.app import create_app


def _retriever(name: str = "contract_search") -> dict[str, Any]:
    return {
        "retriever_name": name,
        "collection_identifiers": ["my_collection"],
        "input_schema": {"query": {"type": "text", "required": True}},
        "stages": [copy.deepcopy(SEARCH_STAGE)],
    }


async def test_a_nested_undeclared_key_is_refused_with_the_accepted_keys(client: httpx.AsyncClient) -> None:
    body = _retriever()
    body["stages"][0]["colour"] = "blue"
    err = assert_envelope(await client.post("/v1/retrievers", json=body), 422)
    assert err["type"] == err["code"] == "extra_forbidden"
    assert "stages[0].colour" in err["message"]
    assert err["details"]["validation_errors"] == [
        {
            "loc": ["body", "stages", 0, "colour"],
            "msg": err["details"]["validation_errors"][0]["msg"],
            "type": "extra_forbidden",
        }
    ]
    accepted = err["details"]["accepted_fields_by_location"]["stages[0]"]
    assert {"stage_name", "stage_type", "config"} <= set(accepted)
    assert (await client.get("/v1/retrievers/contract_search")).status_code == 404


async def test_undeclared_keys_deep_in_a_taxonomy_config_are_refused(client: httpx.AsyncClient) -> None:
    config = {
        "taxonomy_type": "flat",
        "retriever_id": "ret_clip_v1",
        "input_mappings": [{"input_key": "query", "source_type": "payload", "path": "title", "weight": 2}],
        "source_collection": {"collection_id": "col_products_v1", "enrichment_fields": [{"field_path": "category"}]},
    }
    err = assert_envelope(await client.post("/v1/taxonomies", json={"taxonomy_name": "t1", "config": config}), 422)
    assert err["code"] == "extra_forbidden"
    assert "config.input_mappings[0].weight" in err["message"]
    assert "input_key" in err["details"]["accepted_fields"]


async def test_an_undeclared_filter_key_inside_a_stage_is_not_the_contracts_business(
    client: httpx.AsyncClient,
) -> None:
    # A stage's `config` is a free object in the SDK (the stage catalog checks it), and a
    # filter takes shorthand keys: neither is refused as undeclared.
    body = _retriever("free_config")
    body["stages"][0]["config"]["pre_filters"] = {"category": "running"}
    assert (await client.post("/v1/retrievers", json=body)).status_code == 200


async def test_a_missing_required_nested_key_is_refused(client: httpx.AsyncClient) -> None:
    body = _retriever("no_stage_name")
    del body["stages"][0]["stage_name"]
    err = assert_envelope(await client.post("/v1/retrievers", json=body), 422)
    assert err["code"] == "missing_field"
    assert "stages[0].stage_name" in err["message"]


async def test_lenient_mode_names_nested_keys_in_warnings(db_path: Path, seed_file: Path) -> None:
    app = create_app(db_path, seed_files=[seed_file], seed_namespace=NAMESPACE, strict_extra_keys=False)
    try:
        async with make_client(app) as c:
            body = _retriever("lenient")
            body["stages"][0]["colour"] = "blue"
            r = await c.post("/v1/retrievers", json=body)
            assert r.status_code == 200, r.text
            assert any("stages[0].colour" in w for w in r.json()["warnings"])
    finally:
        app.state.local.close()


@pytest.mark.parametrize(
    ("builders", "code"),
    [
        ({}, "collection_builder_required"),
        (
            {"feature_extractor": TEXT_EXTRACTOR, "features": ["text_search"]},
            "collection_builder_conflict",
        ),
    ],
)
async def test_a_collection_needs_exactly_one_builder(
    client: httpx.AsyncClient, builders: dict[str, Any], code: str
) -> None:
    body = {"collection_name": "built", "source": {"type": "bucket", "bucket_ids": ["bkt_1"]}, **builders}
    err = assert_envelope(await client.post("/v1/collections", json=body), 422)
    assert err["code"] == code
    assert "feature_extractor, features or retriever_transform" in err["message"]


async def test_a_collection_from_features_reads_back_with_its_extractor(client: httpx.AsyncClient) -> None:
    body = {"collection_name": "by_features", "source": {"type": "bucket", "bucket_ids": ["bkt_1"]}}
    r = await client.post("/v1/collections", json={**body, "features": ["text_search"]})
    assert r.status_code == 200, r.text
    got = (await client.get("/v1/collections/by_features")).json()
    assert got["feature_extractor"]["feature_extractor_id"] == "text_extractor_v1"


async def test_a_collection_without_source_is_refused(client: httpx.AsyncClient) -> None:
    err = assert_envelope(
        await client.post("/v1/collections", json={"collection_name": "nosource", "feature_extractor": TEXT_EXTRACTOR}),
        422,
    )
    assert err["code"] == "missing_field" and "source" in err["message"]


async def test_inline_taxonomy_execute_under_an_unknown_path_id_is_404(client: httpx.AsyncClient) -> None:
    taxonomy = {
        "taxonomy_name": "ghost",
        "config": {
            "taxonomy_type": "flat",
            "retriever_id": "ret_clip_v1",
            "input_mappings": [{"input_key": "query", "source_type": "payload", "path": "title"}],
            "source_collection": {"collection_id": "col_products_v1"},
        },
    }
    body = {"taxonomy": taxonomy, "source_documents": [{"title": "running shoes"}]}
    # Even the name the inline taxonomy carries: the API fetches the taxonomy by the path.
    for path in (
        "/v1/taxonomies/tax_nowhere/execute",
        "/v1/taxonomies/execute/phantom",
        "/v1/taxonomies/ghost/execute",
    ):
        err = assert_envelope(await client.post(path, json=body), 404)
        assert err["code"] == "taxonomy_not_found"


async def test_seed_only_adhoc_clustering_holds_its_config_to_the_seed(client: httpx.AsyncClient) -> None:
    body = {
        "collection_ids": ["col_products_v1", "col_products_v2"],
        "config": {
            "algorithm": "kmeans",
            "algorithm_params": {"n_clusters": 2},
            "feature_vector": {"vector_name": "text_extractor_v1_embedding", "dims": 3},
        },
    }
    err = assert_envelope(await client.post("/v1/clusters/execute", json=body), 422)
    assert err["code"] == "extra_forbidden" and "config.feature_vector.dims" in err["message"]


async def test_the_error_lists_accepted_keys_at_the_top_level_too(app: FastAPI) -> None:
    async with make_client(app, namespace=None) as c:
        err = assert_envelope(await c.post("/v1/namespaces", json={"namespace_name": "abc", "colour": 1}), 422)
        assert "namespace_name" in err["details"]["accepted_fields"]
        assert "Accepted fields:" in err["message"]


async def test_an_old_mixops_lease_collection_is_refused(client: httpx.AsyncClient) -> None:
    # Older mixops created its apply lease as a collection with no builder and no documented
    # source; the API refuses that body, so the local backend does too (no allowance by name).
    body = {"collection_name": "mixops_lock_catalog", "source": {"type": "none"}}
    err = assert_envelope(await client.post("/v1/collections", json=body), 422)
    assert err["code"] in {"collection_builder_required", "extra_forbidden", "invalid_request", "validation_error"}


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"source_documents": [{"title": "running shoes"}]}, id="without-taxonomy"),
        pytest.param(
            {
                "taxonomy": {"taxonomy_name": "t", "config": {"taxonomy_type": "flat"}},
                "retriever": {
                    "retriever_name": "r",
                    "collection_identifiers": ["col_products_v1"],
                    "stages": [{"stage_name": "s", "stage_type": "filter", "config": {"stage_id": "feature_search"}}],
                },
            },
            id="retriever-in-create-shape",
        ),
    ],
)
async def test_off_contract_taxonomy_execute_bodies_are_refused(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    # Both bodies were let through while mixops' own senders still used them.
    r = await client.post("/v1/taxonomies/execute/anything", json=body)
    assert r.status_code == 422, r.text


async def test_an_undeclared_stage_parameter_is_refused_where_the_sdk_types_the_stage(
    client: httpx.AsyncClient,
) -> None:
    # `config` and `parameters` are free objects in the request models, but the SDK types each
    # stage's parameters (StageParamsFeatureSearch, ...): an undeclared key there, at any depth,
    # is refused as the API refuses undeclared keys.
    body = _retriever("bad_parameter")
    body["stages"][0]["config"]["parameters"]["top_n"] = 5
    err = assert_envelope(await client.post("/v1/retrievers", json=body), 422)
    assert err["code"] == "extra_forbidden" and "stages[0].config.parameters.top_n" in err["message"]
    assert {"searches", "final_top_k"} <= set(
        err["details"]["accepted_fields_by_location"]["stages[0].config.parameters"]
    )
    deep = _retriever("bad_search")
    deep["stages"][0]["config"]["parameters"]["searches"][0]["boost"] = 2
    err = assert_envelope(await client.post("/v1/retrievers", json=deep), 422)
    assert "stages[0].config.parameters.searches[0].boost" in err["message"]
    # The ad-hoc execute and the flat stage shape of a taxonomy's retriever override too.
    adhoc = {"collection_identifiers": ["my_collection"], "stages": body["stages"], "inputs": {"query": "x"}}
    err = assert_envelope(await client.post("/v1/retrievers/execute", json=adhoc), 422)
    assert "stages[0].config.parameters.top_n" in err["message"]
    assert (await client.get("/v1/retrievers/bad_parameter")).status_code == 404


async def test_stages_the_sdk_does_not_type_keep_free_parameters(client: httpx.AsyncClient) -> None:
    # Seed 002's hybrid_search has no parameter model in the SDK: nothing to hold it to.
    body = _retriever("seed_alias")
    body["stages"] = [
        {
            "stage_name": "search",
            "stage_type": "filter",
            "config": {
                "stage_id": "hybrid_search",
                "parameters": {"feature_uri": TEXT_URI, "query_text": "{{INPUT.query}}", "top_k": 5},
            },
        }
    ]
    assert (await client.post("/v1/retrievers", json=body)).status_code == 200
