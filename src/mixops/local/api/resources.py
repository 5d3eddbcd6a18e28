"""What every stored kind's routes share: lookup, clone source, rename, delete and lists.

A route module describes its kind once with a :class:`Kind` (its read view, list
envelope and filter dialect) and keeps only the handlers specific to it. The wire
shapes produced here are the API's: ``{success, message, <kind>_id}`` for a delete,
404 ``<kind>_not_found``, 409 ``<kind>_name_taken``, and the kind's list envelope for
``POST /{kinds}/list`` and ``GET /{kinds}``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request
from pydantic import BaseModel

from mixops.local.api.deps import (
    LocalState,
    Namespace,
    State,
    check_extra,
    loop_first,
    sent_keys,
    unresolved_warning,
    with_warnings,
)
from mixops.local.api.schemas import ListRequest
from mixops.local.db import Row, UniqueViolation
from mixops.local.engine.filters import compile_filter
from mixops.local.listing import Page, PageRequest, PageResult, paginate, search_filter, sort_items
from mixops.local.problems import invalid, name_taken, not_found
from mixops.local.rules import CLOSED_PATCH, check_only

View = Callable[[LocalState, str, Row], dict[str, Any]]
Envelope = Callable[[PageResult], dict[str, Any]]


def counted_page(result: PageResult) -> dict[str, Any]:
    """The usual list envelope: ``results``, typed ``pagination``, ``total_count``."""
    return {"results": result.items, "pagination": result.pagination(), "total_count": result.total}


def totalled_page(result: PageResult) -> dict[str, Any]:
    """The retrievers' list envelope: ``total`` instead of ``total_count``, before ``pagination``."""
    return {"results": result.items, "total": result.total, "pagination": result.pagination()}


def _as_logical(filters: dict[str, Any]) -> dict[str, Any]:
    return filters


@dataclass(frozen=True)
class Kind:
    """A stored resource kind as its list and delete routes see it."""

    name: str  # the database kind; also the word in messages ("cluster")
    plural: str  # the URL segment under /v1 ("clusters")
    view: View
    envelope: Envelope = counted_page
    # The envelope documents `warnings: [DegradedEntry]` (collections, retrievers): an
    # unresolved namespace is named there as well as in the X-Namespace-Unresolved header.
    degraded_warnings: bool = False
    # Turns a list body's ``filters`` into a LogicalOperator; None: the kind takes no filters.
    filters: Callable[[dict[str, Any]], dict[str, Any]] | None = _as_logical


def find(state: LocalState, ns: str, kind: str, identifier: str) -> Row:
    """The ``kind`` resource with this id or, failing that, this name; else 404."""
    row = state.db.get(ns, kind, identifier)
    if row is None:
        raise not_found(kind, identifier)
    return row


def find_by_id(state: LocalState, ns: str, kind: str, id_: str) -> Row:
    """Like :func:`find` for the paths that accept an id only."""
    row = state.db.get_by_id(ns, kind, id_)
    if row is None:
        raise not_found(kind, id_)
    return row


def clone_source(state: LocalState, ns: str, kind: str, identifier: str, clone_name: str) -> Row:
    """The resource a clone copies; 422 when the clone would keep its name (names are unique)."""
    source = find(state, ns, kind, identifier)
    if clone_name == source.name:
        raise invalid("The clone needs a name different from the source's", code="clone_name_unchanged")
    return source


def patch_changes(body: BaseModel, kind: str) -> dict[str, Any]:
    """The fields a PATCH body sets, for a kind whose PATCH takes a closed list of fields.

    The kind's :data:`~mixops.local.rules.CLOSED_PATCH` entry decides: 400 ``empty_update``
    when the body sends nothing; 422 naming every other key it sends, undeclared ones
    included. 422 as well when it sets the name to null.
    """
    rule = CLOSED_PATCH[kind]
    check_only(sent_keys(body, rule.empty), rule.fields, rule.instead)
    changes = body.model_dump(exclude_unset=True)
    name = f"{kind}_name"
    if name in changes and not changes[name]:
        raise invalid(f"{name} cannot be null")
    return changes


def update_row(state: LocalState, row: Row, name: str, body: dict[str, Any]) -> Row:
    """Store ``row`` as ``name`` with ``body``; 409 when another resource of its kind already has the name."""
    try:
        return state.db.update(row, body, name=name)
    except UniqueViolation as exc:
        raise name_taken(row.kind, name) from exc


def delete_row(state: LocalState, ns: str, kind: str, row: Row) -> dict[str, Any]:
    """Delete ``row`` with what hangs off it; the API's delete confirmation."""
    state.db.delete(ns, kind, row.id)
    return {"success": True, "message": f"{kind.capitalize()} '{row.name}' deleted", f"{kind}_id": row.id}


def list_page(state: LocalState, ns: str, kind: Kind, page: PageRequest, body: dict[str, Any] | None) -> dict[str, Any]:
    """One page of ``kind``'s views: searched, filtered and sorted as ``body`` asks."""
    items = [kind.view(state, ns, r) for r in state.db.list(ns, kind.name)]
    if body:
        fields = (f"{kind.name}_id", f"{kind.name}_name", "description")
        items = search_filter(items, body.get("search"), fields)
        if kind.filters is not None and isinstance(body.get("filters"), dict):
            pred = compile_filter(kind.filters(body["filters"]), case_sensitive=bool(body.get("case_sensitive")))
            items = [i for i in items if pred(i)]
        items = sort_items(items, body)
    return kind.envelope(paginate(items, page.merged(body)))


def list_body(state: LocalState, body: ListRequest | None) -> tuple[dict[str, Any] | None, list[str]]:
    """A list request body as a dict, with the warnings naming its undeclared keys."""
    if body is None:
        return None, []
    return body.model_dump(exclude_none=True), check_extra(state, body)


def add_delete_route(router: APIRouter, kind: Kind, param: str, *, by_id: bool = False, on_loop: bool = True) -> None:
    """Register ``DELETE /{kinds}/{param}``: the resource, by id or name (``by_id``: by id only).

    ``on_loop``: run it with :func:`loop_first`; not for a kind whose delete grows with
    its data (a collection's documents).
    """
    lookup = find_by_id if by_id else find

    def delete(identifier: str, state: State, ns: Namespace) -> dict[str, Any]:
        return delete_row(state, ns, kind.name, lookup(state, ns, kind.name, identifier))

    # The path names its parameter per kind (`{cluster_id}`, `{taxonomy_identifier}`), as
    # the API's routes do; the alias takes it from there, and the OpenAPI document shows it.
    delete.__annotations__["identifier"] = Annotated[str, Path(alias=param)]
    router.add_api_route(f"/{kind.plural}/{{{param}}}", loop_first(delete) if on_loop else delete, methods=["DELETE"])


def add_list_routes(router: APIRouter, kind: Kind, *, search_query: bool = False) -> None:
    """Register ``POST /{kinds}/list`` and ``GET /{kinds}`` for a namespaced kind.

    ``search_query``: the GET form also takes ``?search=`` (collections, clusters).
    Call it where the routes belong in the module's order: routes match in order.
    """

    def degraded(request: Request, payload: dict[str, Any]) -> dict[str, Any]:
        entries = unresolved_warning(request) if kind.degraded_warnings else []
        return {**payload, "warnings": [*payload.get("warnings", []), *entries]} if entries else payload

    def list_post(
        request: Request, state: State, ns: Namespace, page: Page, body: Annotated[ListRequest | None, Body()] = None
    ) -> dict[str, Any]:
        data, warnings = list_body(state, body)
        return degraded(request, with_warnings(list_page(state, ns, kind, page, data), warnings))

    def list_get(request: Request, state: State, ns: Namespace, page: Page) -> dict[str, Any]:
        return degraded(request, list_page(state, ns, kind, page, None))

    def list_get_searched(
        request: Request, state: State, ns: Namespace, page: Page, search: str | None = Query(None, max_length=200)
    ) -> dict[str, Any]:
        return degraded(request, list_page(state, ns, kind, page, {"search": search} if search else None))

    router.add_api_route(f"/{kind.plural}/list", list_post, methods=["POST"])
    # Named list_get either way: the route's name makes its OpenAPI operationId.
    router.add_api_route(
        f"/{kind.plural}", list_get_searched if search_query else list_get, methods=["GET"], name="list_get"
    )
