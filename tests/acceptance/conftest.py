"""The acceptance suite's target: a Mixpeek API chosen by the environment, else `mixops serve`.

    MIXOPS_ACCEPTANCE_URL=https://api.mixpeek.com MIXOPS_ACCEPTANCE_API_KEY=sk_... \\
        pytest -m acceptance

Without both variables the suite starts `mixops serve` itself on loopback (its
defaults, plus strict unknown-key refusal where the flag exists) and runs
against it, so CI always runs it: it is never skipped.

Everything the suite creates lives in two throwaway namespaces with unique
names; a finalizer deletes them whether the tests passed or not (on a real API
they also carry a `ttl_seconds`, in case the process is killed before that).
Collections and documents are made through the API's documented routes:
`POST /v1/namespaces`, `POST /v1/collections`, `POST /v1/collections/{id}/documents`
(and, on a real API, `POST /v1/buckets` for the collections' source).
"""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.server import free_port

URL_VAR = "MIXOPS_ACCEPTANCE_URL"
KEY_VAR = "MIXOPS_ACCEPTANCE_API_KEY"
FEATURE_VAR = "MIXOPS_ACCEPTANCE_FEATURE_URI"  # the text embedding's URI on the target
SERVE_VAR = "MIXOPS_ACCEPTANCE_IS_SERVE"  # internal: the URL given is a `mixops serve` (test_cleanup.py)
LOCAL_FEATURE = "mixpeek://text_extractor@v1/embedding"
NAMESPACE_TTL = 3600  # real API only: the namespaces expire even if no finalizer runs

TEXT_EXTRACTOR = {"feature_extractor_name": "text_extractor", "version": "v1", "input_mappings": {"text": ["title"]}}

# Three kinds of product, eight each: the retriever test asks for running shoes first,
# the cluster test for three groups.
KINDS = {
    "running": ["running shoes", "trail running shoes", "road running sneakers", "lightweight running trainers"],
    "hiking": ["hiking boots", "waterproof hiking boots", "leather hiking boots", "mountain trekking boots"],
    "rain": ["rain jacket", "waterproof rain shell", "packable rain coat", "hooded rain poncho"],
}
PRODUCTS = [
    {"title": f"{prefix} {item}", "category": category}
    for category, items in KINDS.items()
    for item in items
    for prefix in ("classic", "new")
]
TAGS = [
    {"tag": "footwear", "title": "shoes boots sneakers trainers running hiking footwear"},
    {"tag": "outerwear", "title": "jacket coat shell poncho rain waterproof outerwear"},
]


@dataclass(frozen=True)
class Target:
    url: str
    key: str
    real: bool  # a Mixpeek API chosen by the environment (else our own `mixops serve`)
    feature_uri: str

    def client(self, namespace: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.key}"}
        if namespace:
            headers["X-Namespace"] = namespace
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)


def _serve_flags() -> list[str]:
    """Strict refusal of unknown keys: explicit while the flag exists (it may become the default)."""
    helptext = subprocess.run(
        [sys.executable, "-m", "mixops", "serve", "--help"], capture_output=True, text=True, check=True
    ).stdout
    return ["--strict-extra-keys"] if "--strict-extra-keys" in helptext else []


@pytest.fixture(scope="session")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    url, key = os.environ.get(URL_VAR), os.environ.get(KEY_VAR)
    if url and key:
        real = os.environ.get(SERVE_VAR) != "1"
        yield Target(url.rstrip("/"), key, real, os.environ.get(FEATURE_VAR, LOCAL_FEATURE))
        return
    if url or key:
        pytest.fail(f"set both {URL_VAR} and {KEY_VAR} (or neither, to run against `mixops serve`)")
    key = f"sk_acceptance_{uuid.uuid4().hex[:12]}"
    db = tmp_path_factory.mktemp("serve") / "backend.db"
    port = free_port()
    cmd = [sys.executable, "-m", "mixops", "serve", "--db", str(db), "--port", str(port), "--api-key", key]
    proc = subprocess.Popen([*cmd, *_serve_flags()], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/v1/namespaces", headers={"Authorization": f"Bearer {key}"}).status_code < 500:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                err = proc.stderr.read().decode() if proc.stderr else ""
                raise RuntimeError(f"mixops serve did not start: {err}")
            time.sleep(0.1)
        yield Target(base, key, False, LOCAL_FEATURE)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()


def _ok(response: httpx.Response, what: str) -> Any:
    assert response.status_code < 300, f"{what}: HTTP {response.status_code} {response.text[:500]}"
    return response.json() if response.content else None


def namespace_body(namespace: str, real: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"namespace_name": namespace, "description": "mixops acceptance run (throwaway)"}
    if real:
        body["ttl_seconds"] = NAMESPACE_TTL
    return body


def bucket_body(collection: str) -> dict[str, Any]:
    """Real API only: the bucket a collection's `source` names (the local backend has no buckets)."""
    fields = ("title", "category", "tag")
    return {
        "bucket_name": f"{collection}_src",
        "bucket_schema": {"properties": {f: {"type": "string"} for f in fields}},
    }


def collection_body(collection: str, source: dict[str, Any]) -> dict[str, Any]:
    return {
        "collection_name": collection,
        "description": "mixops acceptance data",
        "source": source,
        "feature_extractor": TEXT_EXTRACTOR,
    }


COLLECTIONS = (("acc_products", PRODUCTS), ("acc_tags", TAGS))


def _collection_source(api: httpx.Client, target: Target, name: str) -> dict[str, Any]:
    if not target.real:
        return {"type": "none"}  # the local backend's collections have no bucket upstream (README)
    bucket = _ok(api.post("/v1/buckets", json=bucket_body(name)), "bucket")
    return {"type": "bucket", "bucket_ids": [bucket["bucket_id"]]}


def provision(target: Target, namespace: str) -> None:
    """A namespace with the collections and documents the acceptance manifests use."""
    with target.client() as api:
        _ok(api.post("/v1/namespaces", json=namespace_body(namespace, target.real)), f"create namespace {namespace}")
    with target.client(namespace) as api:
        for name, docs in COLLECTIONS:
            body = collection_body(name, _collection_source(api, target, name))
            _ok(api.post("/v1/collections", json=body), f"create collection {name}")
            for doc in docs:
                _ok(api.post(f"/v1/collections/{name}/documents", json=doc), f"add a document to {name}")


def delete_namespace(target: Target, namespace: str) -> None:
    with target.client() as api:
        response = api.delete(f"/v1/namespaces/{namespace}", params={"force": "true"})
    if response.status_code not in (200, 202, 204, 404):
        # Said loudly: on a real API this namespace now needs deleting by hand.
        sys.stderr.write(f"acceptance: could not delete namespace {namespace}: HTTP {response.status_code}\n")


@pytest.fixture(scope="module")
def namespaces(target: Target, request: pytest.FixtureRequest) -> tuple[str, str]:
    """Two fresh namespaces (staging-like `a`, prod-like `b`), deleted after the module, pass or fail."""
    run = uuid.uuid4().hex[:8]
    names = (f"mixops-acc-{run}-a", f"mixops-acc-{run}-b")
    for ns in names:
        # Registered before creating: a failure half-way through provisioning still cleans up.
        request.addfinalizer(functools.partial(delete_namespace, target, ns))
    for ns in names:
        provision(target, ns)
    return names


def cli_env(target: Target) -> dict[str, str]:
    return {**os.environ, KEY_VAR: target.key, "NO_COLOR": "1"}


def run_mixops(target: Target, project: Path, *args: str, expect: int) -> str:
    """`mixops -C project ARGS` as a user runs it; asserts the exit code, returns stdout + stderr."""
    done = subprocess.run(
        [sys.executable, "-m", "mixops", "-C", str(project), *args],
        capture_output=True,
        text=True,
        env=cli_env(target),
        timeout=300,
    )
    out = done.stdout + done.stderr
    assert done.returncode == expect, f"mixops {' '.join(args)}: exit {done.returncode}, expected {expect}\n{out}"
    return out
