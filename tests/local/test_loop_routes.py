"""Single-resource routes run on the event loop, but never wait there for the write lock.

While another writer holds the database (here: a second connection, as a bulk load
or another process would), a create must move to the thread pool and wait there:
other requests keep being served meanwhile, and the create succeeds once the lock
is released, written exactly once.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import httpx
from tests.local.conftest import SEARCH_STAGE


def body(name: str) -> dict[str, object]:
    return {"retriever_name": name, "stages": [SEARCH_STAGE], "collection_identifiers": ["my_collection"]}


async def test_create_waits_in_the_pool_while_another_writer_holds_the_lock(
    client: httpx.AsyncClient, db_path: Path
) -> None:
    existing = (await client.post("/v1/retrievers", json=body("existing"))).raise_for_status().json()
    other = sqlite3.connect(db_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # the write lock, held outside the app
    try:
        creating = asyncio.ensure_future(client.post("/v1/retrievers", json=body("blocked")))
        await asyncio.sleep(0.2)
        # The loop is free: a read through a loop-first route and a list through the pool both answer.
        got = await client.get(f"/v1/retrievers/{existing['retriever_id']}")
        assert got.status_code == 200 and got.json()["retriever_name"] == "existing"
        listed = await client.post("/v1/retrievers/list", json={})
        assert listed.status_code == 200
        assert not creating.done()  # still waiting for the lock, in the thread pool
    finally:
        other.rollback()
        other.close()
    created = await creating
    assert created.status_code == 200, created.text
    names = [r["retriever_name"] for r in (await client.post("/v1/retrievers/list", json={})).json()["results"]]
    assert names.count("blocked") == 1 and "existing" in names
