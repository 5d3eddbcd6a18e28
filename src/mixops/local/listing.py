"""List endpoints: pagination parameters, search, sort, and the page they select.

Every list route accepts ``limit`` (alias ``page_size``), ``offset``, ``page``, ``cursor``
(aliases ``next_cursor``, ``after``) and ``include_total``, as query parameters and, for
the POST ``/list`` forms, in the body (body values win). Cursors are opaque to clients:
url-safe base64 of the next offset. A cursor wins over page/offset.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query

from mixops.local.problems import bad_request

DEFAULT_LIMIT = 10


@dataclass(frozen=True)
class PageRequest:
    limit: int | None = None
    page_size: int | None = None
    offset: int | None = None
    page: int | None = None
    cursor: str | None = None
    include_total: bool = False

    def merged(self, body: dict[str, Any] | None) -> PageRequest:
        """Body pagination fields override the query's."""
        if not body:
            return self
        get = body.get
        cursor = get("cursor") or get("next_cursor") or get("after")
        return PageRequest(
            limit=_int_or(get("limit"), self.limit),
            page_size=_int_or(get("page_size"), self.page_size),
            offset=_int_or(get("offset"), self.offset),
            page=_int_or(get("page"), self.page),
            cursor=cursor if isinstance(cursor, str) else self.cursor,
            include_total=bool(get("include_total")) if "include_total" in body else self.include_total,
        )


def _int_or(value: Any, fallback: int | None) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else fallback


def page_query(
    limit: int | None = Query(None, ge=1, le=1000, description="Page size"),
    page_size: int | None = Query(None, ge=1, le=1000, description="Alias of limit; limit wins"),
    offset: int | None = Query(None, ge=0, le=10000, description="Rows to skip"),
    page: int | None = Query(None, ge=1, le=100000, description="1-based page; offset wins"),
    cursor: str | None = Query(None, max_length=512, description="Opaque cursor from pagination.next_cursor"),
    next_cursor: str | None = Query(None, max_length=512, description="Synonym of cursor"),
    after: str | None = Query(None, max_length=512, description="Synonym of cursor"),
    include_total: bool = Query(False, description="Compute totals (else they are null)"),
) -> PageRequest:
    return PageRequest(limit, page_size, offset, page, cursor or next_cursor or after, include_total)


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(raw)
        offset = value["o"]
        if not isinstance(offset, int) or offset < 0:
            raise ValueError(offset)
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise bad_request(
            "Invalid pagination cursor; pass back pagination.next_cursor unchanged", code="invalid_cursor"
        ) from exc
    return offset


@dataclass(frozen=True)
class PageResult:
    items: list[Any]
    total: int
    limit: int
    offset: int
    next_cursor: str | None
    include_total: bool

    def pagination(self) -> dict[str, Any]:
        """``PaginationResponse`` (typed pagination object of the API)."""
        page = self.offset // self.limit + 1
        total = self.total if self.include_total else None
        return {
            "total": total,
            "page": page,
            "page_size": self.limit,
            "total_pages": (-(-self.total // self.limit)) if self.include_total else None,
            "next_page": str(page + 1) if self.next_cursor else None,
            "previous_page": str(page - 1) if page > 1 else None,
            "next_cursor": self.next_cursor,
        }

    def offset_pagination(self) -> dict[str, Any]:
        """``PaginationMetadata`` (offset style: retriever executions list)."""
        return {
            "total": self.total,
            "limit": self.limit,
            "offset": self.offset,
            "has_next": self.next_cursor is not None,
        }


def paginate(items: Sequence[Any], req: PageRequest) -> PageResult:
    limit = req.limit or req.page_size or DEFAULT_LIMIT
    limit = max(1, min(limit, 1000))
    if req.cursor:
        offset = decode_cursor(req.cursor)
    elif req.offset is not None:
        offset = req.offset
    elif req.page is not None:
        offset = (max(req.page, 1) - 1) * limit
    else:
        offset = 0
    chunk = list(items[offset : offset + limit])
    more = offset + limit < len(items)
    return PageResult(
        chunk, len(items), limit, offset, encode_cursor(offset + limit) if more else None, req.include_total
    )


def search_filter(items: list[dict[str, Any]], search: Any, fields: Sequence[str]) -> list[dict[str, Any]]:
    """Wildcard search (``*`` matches anything) over id/name/description fields."""
    if not isinstance(search, str) or not search:
        return items
    import fnmatch

    pattern = search.lower() if "*" in search else f"*{search.lower()}*"
    return [it for it in items if any(fnmatch.fnmatchcase(str(it.get(f) or "").lower(), pattern) for f in fields)]


def sort_items(items: list[dict[str, Any]], body: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Apply ``sorts`` (wins) or ``sort`` from a list body; stable, None last."""
    if not body:
        return items
    sorts = body.get("sorts")
    if not isinstance(sorts, list):
        single = body.get("sort")
        sorts = [single] if isinstance(single, dict) else []
    out = list(items)
    for spec in reversed([s for s in sorts if isinstance(s, dict) and isinstance(s.get("field"), str)]):
        field = spec["field"]
        desc = str(spec.get("direction", "asc")).lower() == "desc"
        out.sort(key=_sort_key(field), reverse=desc)
    return out


def _sort_key(field: str) -> Callable[[dict[str, Any]], tuple[int, str, float]]:
    def key(item: dict[str, Any]) -> tuple[int, str, float]:
        value: Any = item
        for part in field.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is None:
            return (1, "", 0.0)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return (0, "", float(value))
        return (0, str(value), 0.0)

    return key


Page = Annotated[PageRequest, Depends(page_query)]
