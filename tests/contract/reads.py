"""Which response fields mixops reads, observed while it runs.

`tracking_reads(reads)` wraps every JSON body the client decodes in dict/list
subclasses that note each key looked up (``d[k]``, ``d.get(k)``, ``k in d``) as
``(route, "a.[].b")``, where route is the SDK route of the request ("GET
/v1/retrievers/{retriever_id}") or the request path when the SDK has none.
Copying a body (``dict(d)``, ``{**d}``, iteration) is not a read; values taken
from a copy are still tracked, with their own paths. Everything else about the
values is unchanged: they are real dicts and lists.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import yaml
from tests.contract.sdk_contract import find_route

from mixops.ports.client import MixpeekClient

Reads = set[tuple[str, str]]


class TrackedDict(dict[str, Any]):
    _reads: Reads | None = None
    _route = ""
    _path = ""

    def _note(self, key: object) -> None:
        if self._reads is not None and isinstance(key, str):
            self._reads.add((self._route, f"{self._path}.{key}" if self._path else key))

    def __getitem__(self, key: str) -> Any:
        self._note(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        self._note(key)
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        self._note(key)
        return super().__contains__(key)

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, Any]:
        return {k: copy.deepcopy(v, memo) for k, v in dict.items(self)}


class TrackedList(list[Any]):
    def __deepcopy__(self, memo: dict[int, Any]) -> list[Any]:
        return [copy.deepcopy(v, memo) for v in list.__iter__(self)]


def track(value: Any, reads: Reads, route: str, path: str = "") -> Any:
    if isinstance(value, dict):
        out = TrackedDict({k: track(v, reads, route, f"{path}.{k}" if path else k) for k, v in value.items()})
        out._reads, out._route, out._path = reads, route, path
        return out
    if isinstance(value, list):
        item = f"{path}.[]" if path else "[]"
        return TrackedList(track(v, reads, route, item) for v in value)
    return value


def route_key(method: str, path: str) -> str:
    route = find_route(method, path)
    return route.key if route else f"{method} {path}"


@contextmanager
def tracking_reads(reads: Reads) -> Iterator[Reads]:
    original = MixpeekClient._decode

    def decode(self: MixpeekClient, response: Any) -> Any:
        body = original(self, response)
        return track(body, reads, route_key(response.request.method, response.request.url.path))

    representers = [(yaml.SafeDumper, TrackedDict, yaml.SafeDumper.represent_dict)]
    representers.append((yaml.SafeDumper, TrackedList, yaml.SafeDumper.represent_list))
    for dumper, cls, fn in representers:
        dumper.add_representer(cls, fn)
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(MixpeekClient, "_decode", decode)
            yield reads
    finally:
        for dumper, cls, _ in representers:
            dumper.yaml_representers.pop(cls, None)
