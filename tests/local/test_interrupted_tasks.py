"""A task whose process stopped is INTERRUPTED on the next read, and a waiting client hears it.

`mixops serve` runs a cluster execution in a thread; when that process is restarted or
killed, nothing will ever finish the task. The record names its runner (pid, host,
process start time); a later process on the same database answers INTERRUPTED for a
task whose runner is gone, and mixops' wait ends at once with that outcome instead of
polling PROCESSING until its timeout. Over loopback, as a user meets it.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn
from tests.local.conftest import NAMESPACE

from mixops.local.app import create_app
from mixops.local.db import ROOT, Database
from mixops.local.process import RUNNER_KEY, identity
from mixops.ports.client import MixpeekClient

KEY = "sk_restart"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _gone_process() -> dict[str, Any]:
    """The runner identity of a backend process that has since exited."""
    code = "import json; from mixops.local.process import identity; print(json.dumps(identity()))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return dict(json.loads(out.stdout))


def _task(runner: dict[str, Any], task_id: str, cluster_id: str) -> dict[str, Any]:
    return {
        "task_id": task_id,
        "task_type": "engine_cluster_build",
        "status": "PROCESSING",
        "inputs": [{"cluster_id": cluster_id}],
        "additional_data": {"cluster_id": cluster_id},
        RUNNER_KEY: runner,
    }


def test_a_task_left_by_a_stopped_process_is_interrupted(db_path: Path, seed_file: Path) -> None:
    app = create_app(db_path, api_keys=[KEY], seed_files=[seed_file], seed_namespace=NAMESPACE)
    db: Database = app.state.local.db
    ns = db.get(ROOT, "namespace", NAMESPACE)
    assert ns is not None
    db.put_record(ns.id, "task", "clust_gone", "task_gone", _task(_gone_process(), "task_gone", "clust_gone"))
    db.put_record(ns.id, "task", "clust_here", "task_here", _task(identity(), "task_here", "clust_here"))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.02)

        async def wait() -> tuple[dict[str, Any], dict[str, Any]]:
            url = f"http://127.0.0.1:{port}"
            async with MixpeekClient(url, api_key=KEY, namespace=NAMESPACE) as client:
                done = await client.wait_task("task_gone", timeout=30)
                here = await client.get_task("task_here")
                return done, here

        started = time.monotonic()
        done, here = asyncio.run(wait())
        # The wait ends on the first read, with the outcome and why (not after its 30 s).
        assert time.monotonic() - started < 10
        assert done["status"] == "INTERRUPTED"
        assert "stopped before it finished" in done["error"] and "execute again" in done["error"]
        assert RUNNER_KEY not in done
        # A task whose process is alive (this one) is still running.
        assert here["status"] == "PROCESSING"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
    # Stored so: the next reader needs no check.
    record = db.get_record(None, "task", "task_gone")
    assert record is not None and record["status"] == "INTERRUPTED"
