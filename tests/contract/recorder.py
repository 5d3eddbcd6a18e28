"""Every request mixops sends, recorded on the way to the in-process local backend.

`recording(calls)` swaps the local backend's transport factory for one that wraps it:
each request's method, path, query and JSON body is appended to `calls` with the
status and the decoded body of the answer. Nothing is changed on the way.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

import mixops.local.inprocess as inprocess


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    query: str
    body: Any  # decoded JSON, or None when the request had no body
    status: int
    response: Any  # decoded JSON, or None

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


def _json(content: bytes) -> Any:
    if not content.strip():
        return None
    try:
        return json.loads(content)
    except ValueError:
        return None


class RecordingTransport(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport, calls: list[Call]) -> None:
        self.inner = inner
        self.calls = calls

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        content = await request.aread()
        response = await self.inner.handle_async_request(request)
        data = await response.aread()
        self.calls.append(
            Call(
                method=request.method,
                path=request.url.path,
                query=request.url.query.decode(),
                body=_json(content),
                status=response.status_code,
                response=_json(data),
            )
        )
        return httpx.Response(response.status_code, headers=response.headers, content=data, request=request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@contextmanager
def recording(calls: list[Call]) -> Iterator[list[Call]]:
    original = inprocess.local_transport

    def wrapped(*args: Any, **kwargs: Any) -> httpx.AsyncBaseTransport:
        return RecordingTransport(original(*args, **kwargs), calls)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(inprocess, "local_transport", wrapped)
        yield calls
