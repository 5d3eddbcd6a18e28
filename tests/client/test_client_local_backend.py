"""The client against the real local backend, in process: paging and retries through injected faults."""

from __future__ import annotations

from pathlib import Path

import httpx

from mixops.local.app import create_app
from mixops.ports.client import MixpeekClient

# A documented create body: a source and exactly one builder (CreateCollectionRequest).
COLLECTION = {"source": {"type": "bucket", "bucket_ids": ["bkt_1"]}, "features": ["text_search"]}


async def no_sleep(seconds: float) -> None:
    return None


def client_for(db: Path, fault_rate: float) -> tuple[MixpeekClient, object]:
    app = create_app(db, fault_rate=fault_rate, fault_seed=1)
    client = MixpeekClient(
        "http://local", api_key="sk_local", namespace="paging", transport=httpx.ASGITransport(app=app), sleep=no_sleep
    )
    return client, app


async def test_list_all_pages_through_faults(tmp_path: Path) -> None:
    db = tmp_path / "local.sqlite"
    client, app = client_for(db, fault_rate=0.0)
    async with client:
        await client.ensure_namespace("paging")
        for i in range(25):
            await client.request("POST", "/v1/collections", json={"collection_name": f"c{i:02d}", **COLLECTION})
    app.state.local.close()  # type: ignore[attr-defined]

    # Seed 1 at rate 0.5 injects 429s and 503s but no slow (real-time) faults on these pages.
    client, app = client_for(db, fault_rate=0.5)
    try:
        async with client:
            listed = await client.list_all("/v1/collections", page_size=10)
            assert sorted(c["collection_name"] for c in listed) == [f"c{i:02d}" for i in range(25)]
            assert client.stats.retries > 0, "the faults were met and retried"
            # Three pages, plus one request per retry: nothing else.
            assert client.stats.by_status[200] == 3
            assert client.stats.requests == 3 + client.stats.retries
            assert client.stats.retries == client.stats.by_status[429] + client.stats.by_status[503]
    finally:
        app.state.local.close()  # type: ignore[attr-defined]
