"""Walking every page of a Mixpeek list endpoint.

List envelopes differ by kind (``results`` with ``total_count``, or with ``total``; a typed
or untyped ``pagination`` object; ``warnings`` or none), so :func:`read_page` reads each
through its :class:`Envelope`, the fields the SDK documents for that list, into one
:class:`Page`. It reads nothing else: a field the API does not document for a list is
not evidence of anything. :func:`collect` then pages with ``limit`` and ``cursor`` query parameters:

* it follows ``pagination.next_cursor`` while there is one;
* it stops on a short page (fewer than ``limit`` results);
* when the server gives no cursor on a full page but its total says more rows exist, it
  falls back to ``page=N`` numbering, bounded by that total;
* a cursor the server already gave, or a full page that brings nothing new, raises
  :class:`PaginationError` instead of looping forever.

Silently stopping early is the dangerous failure here: a reconciler that misses live
resources plans duplicate creates. So the stopping rules only trust what the server said.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from mixops.errors import PaginationError


@dataclass(frozen=True)
class Page:
    results: list[dict[str, Any]]
    next_cursor: str | None
    total: int | None
    namespace_unresolved: bool


@dataclass(frozen=True)
class Envelope:
    """The documented fields of one list response (mixpeek-api.md 1.5)."""

    total: str = "total_count"  # the whole listing's count: `total_count`, or `total` (retrievers)
    warnings: bool = False  # `warnings: [DegradedEntry]` (namespace unresolved) is documented


# Per list path; any other list is read as the common shape.
ENVELOPES: dict[str, Envelope] = {
    "/v1/retrievers/list": Envelope(total="total", warnings=True),
    "/v1/collections/list": Envelope(warnings=True),
}


def _as_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def read_page(body: Any, envelope: Envelope = Envelope()) -> Page:
    """Read a list envelope of the API (see mixpeek-api.md 1.5) by the fields it documents."""
    if not isinstance(body, dict):
        raise PaginationError(f"list response is not a JSON object: {type(body).__name__}")
    results = body.get("results")
    if results is None:
        results = []
    if not isinstance(results, list):
        raise PaginationError("list response 'results' is not a list")
    pagination = body.get("pagination")
    cursor = pagination.get("next_cursor") if isinstance(pagination, dict) else None
    # The count of the whole listing; retrievers default `total` to 0 even when rows
    # exist, so a total below what we hold is never trusted as a stop signal
    # (see _total_allows_more).
    total = _as_int(body.get(envelope.total))
    unresolved = False
    if envelope.warnings:
        warnings = body.get("warnings")
        unresolved = isinstance(warnings, list) and any(
            isinstance(w, dict) and w.get("resource") == "namespace" and w.get("reason") == "unresolved"
            for w in warnings
        )
    return Page(
        results=[r for r in results if isinstance(r, dict)],
        next_cursor=cursor if isinstance(cursor, str) and cursor else None,
        total=total,
        namespace_unresolved=unresolved,
    )


def _total_allows_more(total: int | None, held: int) -> bool:
    return total is not None and total > held


Fetch = Callable[[dict[str, Any]], Awaitable[Page]]


async def collect(fetch: Fetch, limit: int) -> list[dict[str, Any]]:
    """Every row of a listing; ``fetch`` sends one request with the given query parameters."""
    rows: list[dict[str, Any]] = []
    seen_cursors: set[str] = set()
    previous: list[dict[str, Any]] | None = None
    params: dict[str, Any] = {"limit": limit}
    page_number = 1
    while True:
        page = await fetch(params)
        if not page.results:
            # Some servers hand out a cursor that leads to one empty page; an empty page is
            # the end whatever else it says.
            return rows
        if page.results == previous:
            raise PaginationError(
                f"the server returned the same page twice after {len(rows)} rows; refusing to loop "
                "(is the list endpoint ignoring its cursor or page parameter?)"
            )
        previous = page.results
        rows.extend(page.results)
        if page.next_cursor is not None:
            # Followed even on a short page: a server may cap pages below our limit.
            if page.next_cursor in seen_cursors:
                raise PaginationError(
                    f"the server returned cursor {page.next_cursor!r} twice after {len(rows)} rows; "
                    "refusing to loop (is the list endpoint ignoring ?cursor=?)"
                )
            seen_cursors.add(page.next_cursor)
            params = {"limit": limit, "cursor": page.next_cursor}
            continue
        if len(page.results) < limit:
            return rows
        # A full page and no cursor: only a total saying there is more justifies another page.
        if not _total_allows_more(page.total, len(rows)):
            return rows
        if seen_cursors:
            raise PaginationError(f"the server stopped giving cursors after {len(rows)} of {page.total} rows")
        page_number += 1
        params = {"limit": limit, "page": page_number}


__all__ = ["ENVELOPES", "Envelope", "Page", "PaginationError", "collect", "read_page"]
