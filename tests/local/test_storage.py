"""Persistence: a restart keeps everything; two processes writing at once corrupt nothing."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

from tests.local.conftest import NAMESPACE, SEARCH_STAGE, make_client

from mixops.local.api.namespaces import ensure_namespace
from mixops.local.app import create_app
from mixops.local.db import Database
from mixops.local.seed import load_seed


async def test_restart_keeps_resources(db_path: Path, seed_file: Path) -> None:
    first = create_app(db_path, seed_files=[seed_file], seed_namespace=NAMESPACE)
    async with make_client(first) as c:
        rid = (
            await c.post(
                "/v1/retrievers",
                json={"retriever_name": "kept", "stages": [SEARCH_STAGE], "collection_identifiers": ["my_collection"]},
            )
        ).json()
        run = await c.post(f"/v1/retrievers/{rid['retriever_id']}/execute", json={"inputs": {"query": "boots"}})
    first.state.local.close()
    second = create_app(db_path, seed_files=[seed_file], seed_namespace=NAMESPACE)  # seeds again: no duplicates
    try:
        async with make_client(second) as c:
            got = (await c.get("/v1/retrievers/kept")).json()
            assert got["retriever_id"] == rid["retriever_id"]
            detail = await c.get(f"/v1/retrievers/kept/executions/{run.json()['execution_id']}")
            assert detail.status_code == 200
            docs = (await c.post("/v1/collections/my_collection/documents/list", json={"include_total": True})).json()
            assert docs["total_documents"] == 8
    finally:
        second.state.local.close()


def test_seed_loading_is_idempotent(db_path: Path, seed_file: Path) -> None:
    db = Database(db_path)
    try:
        first = load_seed(db, seed_file, "idem")
        again = load_seed(db, seed_file, "idem")
        assert first["documents"] == again["documents"] > 0
        assert again["collections"] == again["retrievers"] == 0
        ns = ensure_namespace(db, "idem")
        col = db.get(ns, "collection", "my_collection")
        assert col is not None and db.count_documents(ns, col.id) == 8
    finally:
        db.close()


def _writer(path: str, worker: int, count: int) -> None:
    db = Database(path)
    try:
        ns = ensure_namespace(db, "shared")
        for i in range(count):
            db.insert(ns, "retriever", f"ret_w{worker}_{i}", f"w{worker}-{i}", {"n": i})
            db.put_record(ns, "retriever_execution", f"ret_w{worker}_{i}", f"exec_w{worker}_{i}", {"i": i})
    finally:
        db.close()


def test_two_processes_write_at_once(db_path: Path) -> None:
    Database(db_path).close()
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(db_path), w, 60)) for w in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT COUNT(*) FROM resources WHERE kind = 'retriever'").fetchone()[0] == 120
        assert conn.execute("SELECT COUNT(*) FROM resources WHERE kind = 'namespace'").fetchone()[0] == 1
        assert conn.execute("SELECT COUNT(*) FROM records").fetchone()[0] == 120
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()
