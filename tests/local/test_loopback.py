"""The backend over real loopback HTTP (uvicorn in a thread), as `mixops serve` runs it."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import httpx
import uvicorn
from tests.local.conftest import NAMESPACE

from mixops.local.app import create_app


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_over_loopback(db_path: Path, seed_file: Path) -> None:
    app = create_app(db_path, api_keys=["sk_loop"], seed_files=[seed_file], seed_namespace=NAMESPACE)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.02)
        headers = {"Authorization": "Bearer sk_loop", "X-Namespace": NAMESPACE}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=10) as c:
            r = c.post("/v1/retrievers/ret_clip_v1/execute", json={"inputs": {"query": "hiking boots"}})
            assert r.status_code == 200, r.text
            assert r.json()["documents"][0]["document_id"] == "p3"
            bad = c.get("/v1/retrievers", headers={"Authorization": "Bearer wrong"})
            assert bad.status_code == 401 and bad.json()["error"]["code"] == "invalid_api_key"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
    assert not thread.is_alive()
