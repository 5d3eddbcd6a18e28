"""Hostile input gets a 4xx in the error envelope, never a 500 or a silent guess."""

from __future__ import annotations

import copy

import httpx
import pytest
from fastapi import FastAPI
from tests.local.conftest import KEY, NAMESPACE, SEARCH_STAGE, assert_envelope, make_client


def _retriever(**extra: object) -> dict[str, object]:
    return {
        "retriever_name": "hostile",
        "collection_identifiers": ["my_collection"],
        "stages": [copy.deepcopy(SEARCH_STAGE)],
        **extra,
    }


def _raw(body: str) -> dict[str, object]:
    return {"content": body.encode(), "headers": {"content-type": "application/json"}}


async def test_a_lone_surrogate_in_a_body_is_a_400_naming_the_field(client: httpx.AsyncClient) -> None:
    raw = '{"retriever_name": "s1", "collection_identifiers": ["my_collection"], "description": "\\udfff", "stages": '
    raw += httpx.Response(200, json=[SEARCH_STAGE]).text + "}"
    err = assert_envelope(await client.post("/v1/retrievers", **_raw(raw)), 400)  # type: ignore[arg-type]
    assert err["code"] == "invalid_unicode" and "description" in err["message"]
    assert (await client.get("/v1/retrievers/s1")).status_code == 404


async def test_a_lone_surrogate_in_a_document_field_is_a_400(client: httpx.AsyncClient) -> None:
    raw = '{"title": "ok", "notes": {"\\ud800": 1}}'
    r = await client.post("/v1/collections/my_collection/documents", **_raw(raw))  # type: ignore[arg-type]
    assert assert_envelope(r, 400)["code"] == "invalid_unicode"


@pytest.mark.parametrize("name", ["bad\x00name", "../etc", "a/b", "tab\tname"])
async def test_names_that_are_not_path_identifiers_are_refused(client: httpx.AsyncClient, name: str) -> None:
    assert_envelope(await client.post("/v1/retrievers", json=_retriever(retriever_name=name)), 422)
    created = (await client.post("/v1/retrievers", json=_retriever())).json()
    assert_envelope(await client.patch(f"/v1/retrievers/{created['retriever_id']}", json={"retriever_name": name}), 422)


async def test_collection_names_follow_the_sdk_format(client: httpx.AsyncClient) -> None:
    body = {"source": {"type": "bucket", "bucket_ids": ["b"]}, "features": ["text_search"]}
    for name in ("ab", "has space", "../x", "n\x00ul"):
        assert_envelope(await client.post("/v1/collections", json={"collection_name": name, **body}), 422)
    assert (await client.post("/v1/collections", json={"collection_name": "ok-name_1", **body})).status_code == 200


@pytest.mark.parametrize("header", ["Authorization", "X-Namespace"])
async def test_a_repeated_auth_or_namespace_header_is_refused(app: FastAPI, header: str) -> None:
    async with make_client(app, namespace=None, key=None) as c:
        headers = [("Authorization", f"Bearer {KEY}"), ("X-Namespace", NAMESPACE)]
        headers.append((header, "Bearer other" if header == "Authorization" else "other-ns"))
        r = await c.get("/v1/retrievers", headers=httpx.Headers(headers))
        err = assert_envelope(r, 400)
        assert err["code"] == "duplicate_header" and header.lower() in err["message"]
