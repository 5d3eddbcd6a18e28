"""Helpers for client tests: pieces of a fake remote Mixpeek server and an instant sleep."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

API_KEY = "sk_test_TOPSECRET_0123456789"
NAMESPACE = "ns-test"
BASE_URL = "https://api.mixpeek.test"

Handler = Callable[[httpx.Request], Any]


class SleepRecorder:
    """Stands in for asyncio.sleep: records what the client asked for and returns at once."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def envelope(
    status: int, message: str, type_: str = "error", code: str | None = None, details: dict[str, Any] | None = None
) -> httpx.Response:
    error: dict[str, Any] = {"message": message, "type": type_}
    if code is not None:
        error["code"] = code
    if details is not None:
        error["details"] = details
    return httpx.Response(status, json={"success": False, "status": status, "error": error})


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.content) if request.content else None
