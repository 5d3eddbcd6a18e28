"""The extractor catalog (`GET /v1/collections/features/extractors`) of the local backend.

The SDK documents it (`list_feature_extractors`, no key) as a list of
FeatureExtractorResponseModel. The plan trusts what it lists to say which feature URIs a
collection will have before it exists, so the local backend's answer must fit the SDK's
model and list exactly the URIs a collection created with that extractor gets.
"""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from mixpeek.models.feature_extractor_response_model import FeatureExtractorResponseModel
from tests.local.conftest import make_client

ROUTE = "/v1/collections/features/extractors"


async def test_it_fits_the_sdk_model_and_needs_no_key(app: FastAPI) -> None:
    async with make_client(app, namespace=None, key=None) as anonymous:
        response = await anonymous.get(ROUTE)
    assert response.status_code == 200, response.text
    listed = [FeatureExtractorResponseModel.model_validate(item) for item in response.json()]
    assert [(e.feature_extractor_name, e.version, e.feature_extractor_id) for e in listed] == [
        ("text_extractor", "v1", "text_extractor_v1")
    ]


async def test_it_lists_the_uris_a_created_collection_gets(client: httpx.AsyncClient) -> None:
    [extractor] = (await client.get(ROUTE)).json()
    name, version = extractor["feature_extractor_name"], extractor["version"]
    body = {
        "collection_name": "fresh",
        "source": {"type": "none"},
        "feature_extractor": {"feature_extractor_name": name, "version": version, "input_mappings": {"text": "title"}},
    }
    created = await client.post("/v1/collections", json=body)
    assert created.status_code == 200, created.text
    features = (await client.get(f"/v1/collections/{created.json()['collection_id']}/features")).json()["features"]
    listed = {
        (f"mixpeek://{name}@{version}/{ix['name']}", ix["index"]["name"]) for ix in extractor["required_vector_indexes"]
    }
    assert listed == {(f["feature_uri"], f["vector_index"]["name"]) for f in features}
