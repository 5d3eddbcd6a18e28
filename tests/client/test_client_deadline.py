"""A server that accepts connections and never answers costs one request deadline, not
(max_retries + 1) x timeout (issue 11: `plan` took 186 s to fail)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from mixops.core.models.project import Environment
from mixops.errors import ApiError, ProjectError
from mixops.ports.client import DEFAULT_DEADLINE, MixpeekClient
from mixops.ports.target import DEADLINE_VAR, request_deadline


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Loopback only: the kernel completes each handshake (listen backlog), nobody ever reads."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


async def test_a_silent_server_fails_at_the_deadline_naming_it(silent_server: str) -> None:
    client = MixpeekClient(
        silent_server, api_key="sk_x", namespace="ns", timeout=0.2, max_retries=5, backoff_base=0.01, deadline=0.5
    )
    async with client:
        with pytest.raises(ApiError) as err:
            await client.request("POST", "/v1/retrievers/list", json={}, idempotent=True)
    assert err.value.info.code == "deadline_exceeded"
    assert "request deadline of 0.5s" in str(err.value) and DEADLINE_VAR in str(err.value)
    # Without the deadline all 6 attempts of 0.2 s would run.
    assert 1 <= client.stats.requests <= 3


async def test_without_a_deadline_every_retry_runs(silent_server: str) -> None:
    client = MixpeekClient(
        silent_server, api_key="sk_x", namespace="ns", timeout=0.05, max_retries=2, backoff_base=0.01, deadline=None
    )
    async with client:
        with pytest.raises(ApiError) as err:
            await client.request("GET", "/v1/retrievers/r")
    assert err.value.info.code == "read_timeout" and client.stats.requests == 3


def test_the_deadline_comes_from_the_variable_then_the_environment() -> None:
    env = Environment(target="local", request_deadline=90)
    assert request_deadline(env, {}) == 90
    assert request_deadline(env, {DEADLINE_VAR: "15"}) == 15
    assert request_deadline(Environment(target="local"), {}) == DEFAULT_DEADLINE
    for bad in ("0", "-1", "soon", "inf", "nan"):
        with pytest.raises(ProjectError, match=DEADLINE_VAR):
            request_deadline(env, {DEADLINE_VAR: bad})
