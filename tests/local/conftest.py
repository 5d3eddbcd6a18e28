"""Fixtures for the local backend's HTTP tests: a seeded app on a temporary SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi import FastAPI
from tests.support.fixtures import search_stage

from mixops.local.app import create_app

NAMESPACE = "test-ns"
KEY = "sk_test"

PRODUCTS = [
    {"document_id": "p1", "title": "red running shoes", "category": "running", "price": 80, "brand": "acme"},
    {"document_id": "p2", "title": "blue trail running shoes", "category": "running", "price": 120, "brand": "zoom"},
    {"document_id": "p3", "title": "leather hiking boots", "category": "hiking", "price": 150, "brand": "acme"},
    {"document_id": "p4", "title": "waterproof hiking jacket", "category": "hiking", "price": 200, "brand": "peak"},
    {"document_id": "p5", "title": "cotton yoga mat", "category": "yoga", "price": 30, "brand": "zen"},
    {"document_id": "p6", "title": "machine learning handbook", "category": "books", "price": 45, "brand": "press"},
    {"document_id": "p7", "title": "deep learning for machines", "category": "books", "price": 55, "brand": "press"},
    {"document_id": "p8", "title": "white leather sneakers", "category": "casual", "price": 90, "brand": "acme"},
]

TEXT_EXTRACTOR = {"feature_extractor_name": "text_extractor", "version": "v1", "input_mappings": {"text": "title"}}
SEARCH_STAGE = search_stage(50, 5)


def seed_data() -> dict[str, Any]:
    half = len(PRODUCTS) // 2
    return {
        "collections": [
            {"collection_name": "my_collection", "feature_extractor": TEXT_EXTRACTOR, "documents": PRODUCTS},
            {
                "collection_name": "products_v1",
                "collection_id": "col_products_v1",
                "feature_extractor": TEXT_EXTRACTOR,
                "documents": PRODUCTS[:half],
            },
            {
                "collection_name": "products_v2",
                "collection_id": "col_products_v2",
                "feature_extractor": TEXT_EXTRACTOR,
                "documents": PRODUCTS[half:],
            },
        ],
        "retrievers": [
            {
                "retriever_id": "ret_clip_v1",
                "retriever_name": "clip_v1",
                "collection_identifiers": ["products_v1"],
                "input_schema": {"query": {"type": "text", "required": True}},
                "stages": [SEARCH_STAGE],
            },
        ],
    }


@pytest.fixture
def seed_file(tmp_path: Path) -> Path:
    path = tmp_path / "seed.yaml"
    path.write_text(yaml.safe_dump(seed_data()), encoding="utf-8")
    return path


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "local.db"


@pytest.fixture
def app(db_path: Path, seed_file: Path) -> Iterator[FastAPI]:
    app = create_app(db_path, seed_files=[seed_file], seed_namespace=NAMESPACE)
    yield app
    app.state.local.close()


def make_client(app: FastAPI, namespace: str | None = NAMESPACE, key: str | None = KEY) -> httpx.AsyncClient:
    headers = {}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    if namespace is not None:
        headers["X-Namespace"] = namespace
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://local", headers=headers)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(app) as c:
        yield c


@pytest.fixture
async def lenient_client(tmp_path: Path, seed_file: Path) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a seeded app in lenient mode (`mixops serve --lenient`)."""
    app = create_app(tmp_path / "lenient.db", seed_files=[seed_file], seed_namespace=NAMESPACE, strict_extra_keys=False)
    try:
        async with make_client(app) as c:
            yield c
    finally:
        app.state.local.close()


def assert_envelope(response: httpx.Response, status: int) -> dict[str, Any]:
    """The response is Mixpeek's error envelope with ``status``; returns its ``error``."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False
    assert body["status"] == status
    error = body["error"]
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["type"], str) and error["type"]
    assert "code" in error and "details" in error
    return dict(error)
