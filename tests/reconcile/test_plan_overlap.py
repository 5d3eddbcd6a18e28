"""`mixops plan` against an API loads the manifests while the live read is in flight.

What a user must not notice: bad manifests are reported as soon as they are
found (not after the read gives up), a read error never shows a secret the
manifests brought, and against the embedded backend bad manifests create nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import yaml
from tests.reconcile.conftest import copy_example, edit, resource

from mixops.core.plan import PlanOptions
from mixops.errors import ApiError, ManifestError
from mixops.local.inprocess import local_transport
from mixops.ports.project import load_project
from mixops.ports.reconcile import plan_and_apply

KEY_VAR = "MIXOPS_OVERLAP_TEST_KEY"
SECRET_VAR = "MIXOPS_OVERLAP_TEST_SECRET"
SECRET = "s3cr3t-value-4711"

Reply = Callable[[], Awaitable[bytes]]


@asynccontextmanager
async def fake_api(reply: Reply) -> AsyncIterator[tuple[str, list[int]]]:
    """A loopback HTTP server answering every request with `reply()`; yields its URL and a hit counter."""
    hits: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                (
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length")
                ),
                0,
            )
            await reader.readexactly(length)
            hits.append(1)
            writer.write(await reply())
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", hits
    finally:
        server.close()
        await server.wait_closed()


def remote_project(tmp_path: Path, url: str) -> Path:
    """The catalog example with an extra environment on `url`."""
    root = copy_example(tmp_path / "catalog")
    config = yaml.safe_load((root / "mixops.yaml").read_text(encoding="utf-8"))
    config["environments"]["remote"] = {"api_url": url, "namespace": "remote-ns", "api_key_env": KEY_VAR}
    (root / "mixops.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return root


def break_manifest(root: Path) -> None:
    edit(root, "retrievers.yaml", lambda data: resource(data, "retrievers", "product_search").update(stagez=[]))


async def test_bad_manifests_reported_without_waiting_for_the_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_VAR, "sk_test")
    release = asyncio.Event()

    async def never_until_released() -> bytes:
        await release.wait()
        return b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"

    async with fake_api(never_until_released) as (url, _hits):
        root = remote_project(tmp_path, url)
        break_manifest(root)
        project = load_project(root, local_backend=local_transport)
        # The API never answers while the plan runs: only a plan that stops the read on bad
        # manifests finishes at all (the bound only keeps a regression from hanging the suite).
        planning = asyncio.ensure_future(plan_and_apply(project, "remote", PlanOptions()))
        await asyncio.wait([planning], timeout=120)
        finished = planning.done()
        release.set()
        if not finished:
            await asyncio.gather(planning, return_exceptions=True)
        assert finished, "plan waited for the live read before reporting bad manifests"
        with pytest.raises(ManifestError, match="stagez"):
            planning.result()
        release.set()


async def test_read_error_during_loading_masks_manifest_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_VAR, "sk_test")
    monkeypatch.setenv(SECRET_VAR, SECRET)

    async def echo_secret() -> bytes:
        body = f"proxy error near {SECRET}".encode()
        return b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)

    async with fake_api(echo_secret) as (url, hits):
        root = remote_project(tmp_path, url)
        edit(
            root,
            "retrievers.yaml",
            lambda data: resource(data, "retrievers", "product_search").update(
                description="key ${{ env." + SECRET_VAR + " }}"
            ),
        )
        project = load_project(root, local_backend=local_transport)
        with pytest.raises(ApiError) as caught:
            await plan_and_apply(project, "remote", PlanOptions())
    assert hits, "the live read reached the API"
    assert "not JSON" in str(caught.value)
    assert SECRET not in str(caught.value) and SECRET not in caught.value.info.message
    assert "***" in str(caught.value)


async def test_local_target_bad_manifests_create_no_database(tmp_path: Path) -> None:
    root = copy_example(tmp_path / "catalog")
    break_manifest(root)
    with pytest.raises(ManifestError):
        await plan_and_apply(load_project(root, local_backend=local_transport), "local", PlanOptions())
    assert not (root / ".mixops").exists()
