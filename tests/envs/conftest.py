"""One `mixops serve` over loopback for the environment tests, and projects pointing at it.

The server is a real subprocess on a free port, given the catalog example's seed
documents for every namespace the tests use (one namespace per environment, as in a
real Mixpeek organisation): an apply that creates a collection there loads them.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "catalog"
KEY_VAR = "MIXOPS_ENVS_TEST_KEY"
KEY = "sk_envs_test"
NAMESPACES = ("cat-dev", "cat-staging", "cat-prod", "cat-export", "cat-drift", "cat-lock")


@dataclass(frozen=True)
class Server:
    url: str
    key: str

    def client(self, namespace: str) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.key}", "X-Namespace": namespace}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("backend")
    db_path = root / "backend.db"
    # The example's seed holds only documents (its collections are declared in its manifests):
    # one copy per namespace, so an apply creating a collection there loads its documents.
    data = root / "data"
    shutil.copytree(EXAMPLE / "data", data, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    seed = yaml.safe_load((data / "seed.yaml").read_text(encoding="utf-8"))
    seeds: list[str] = []
    for ns in NAMESPACES:
        path = data / f"seed-{ns}.yaml"
        path.write_text(yaml.safe_dump({**seed, "namespace": ns}, sort_keys=False), encoding="utf-8")
        seeds += ["--seed", str(path)]
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mixops", "serve", "--db", str(db_path), "--port", str(port), "--api-key", KEY, *seeds],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/v1/collections", headers={"Authorization": f"Bearer {KEY}"}).status_code < 500:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                err = proc.stderr.read().decode() if proc.stderr else ""
                raise RuntimeError(f"mixops serve did not start: {err}")
            time.sleep(0.05)
        yield Server(url, KEY)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()


def make_project(
    dest: Path, server: Server, environments: dict[str, dict[str, object]], *, copy_manifests: bool = True
) -> Path:
    """A copy of the catalog example whose environments point at `server`."""
    dest.mkdir(parents=True, exist_ok=True)
    if copy_manifests:
        shutil.copytree(EXAMPLE / "manifests", dest / "manifests")
    envs = {name: {"api_url": server.url, "api_key_env": KEY_VAR, **conf} for name, conf in environments.items()}
    config = {"stack": "catalog", "manifests": ["manifests/"], "environments": envs}
    (dest / "mixops.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return dest


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_VAR, KEY)


def cli_env() -> dict[str, str]:
    return {**os.environ, KEY_VAR: KEY, "NO_COLOR": "1"}
