"""Fixtures for client tests: the remote server is played by small httpx.MockTransport handlers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from tests.client.client_fakes import API_KEY, BASE_URL, NAMESPACE, Handler, SleepRecorder

from mixops.ports.client import MixpeekClient


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
async def make_client(sleeps: SleepRecorder) -> AsyncIterator[Callable[..., MixpeekClient]]:
    made: list[MixpeekClient] = []

    def make(handler: Handler, **kwargs: Any) -> MixpeekClient:
        kwargs.setdefault("api_key", API_KEY)
        kwargs.setdefault("namespace", NAMESPACE)
        kwargs.setdefault("sleep", sleeps)
        client = MixpeekClient(BASE_URL, transport=httpx.MockTransport(handler), **kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()
