"""Namespaces: ``/v1/namespaces`` (bearer auth only; no X-Namespace)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body

from mixops.local.api.deps import LocalState, State, check_extra, with_warnings
from mixops.local.api.resources import Kind, delete_row, find, list_body, list_page
from mixops.local.api.schemas import CreateNamespaceRequest, ListRequest, PatchNamespaceRequest
from mixops.local.db import ROOT, Database, Row, UniqueViolation, now_iso
from mixops.local.ids import new_id
from mixops.local.listing import Page
from mixops.local.problems import ApiProblem, bad_request

router = APIRouter(tags=["namespaces"])


def _taken(name: str) -> ApiProblem:
    return ApiProblem(
        409, f"A namespace named '{name}' already exists", "conflict", "namespace_name_taken", {"namespace_name": name}
    )


def create_namespace(
    db: Database, name: str, extra: dict[str, Any] | None = None, namespace_id: str | None = None
) -> Row:
    body = {**(extra or {}), "namespace_name": name}
    nid = namespace_id or new_id("ns")
    body["namespace_id"] = nid
    try:
        return db.insert(ROOT, "namespace", nid, name, body)
    except UniqueViolation as exc:
        if exc.column == "name":
            raise _taken(name) from exc
        raise ApiProblem(409, f"Namespace id '{nid}' already exists", "conflict", "namespace_id_taken") from exc


def ensure_namespace(db: Database, identifier: str) -> str:
    """The id of the namespace named (or identified by) ``identifier``, creating it if missing.

    For in-process use (``target: local``, seeds); over HTTP a namespace must be created first,
    as on the real API.
    """
    row = db.get(ROOT, "namespace", identifier)
    if row is not None:
        return row.id
    try:
        return create_namespace(db, identifier).id
    except ApiProblem:
        # Another process created it between our read and our insert.
        row = db.get(ROOT, "namespace", identifier)
        if row is None:
            raise
        return row.id


def namespace_view(state: LocalState, row: Row) -> dict[str, Any]:
    db = state.db
    collections = db.list(row.id, "collection")
    docs = sum(db.count_documents(row.id, c.id) for c in collections)
    body = dict(row.body)
    return {
        "object": "namespace",
        "namespace_id": row.id,
        "namespace_name": row.name,
        "description": body.get("description"),
        "mode": body.get("mode") or ("standalone" if body.get("vector_configs") else "managed"),
        "feature_extractors": body.get("feature_extractors") or [],
        "vector_configs": body.get("vector_configs"),
        "payload_indexes": body.get("payload_indexes") or [],
        "auto_create_indexes": body.get("auto_create_indexes"),
        "adaptive_indexing": body.get("adaptive_indexing"),
        "features": body.get("features"),
        "document_count": docs,
        "document_count_complete": True,
        "collection_count": len(collections),
        "bucket_count": 0,
        "object_count": 0,
        "namespace_ready": True,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


# Namespaces live in the ROOT scope and their list bodies take no filters.
KIND = Kind("namespace", "namespaces", lambda state, _ns, row: namespace_view(state, row), filters=None)


@router.post("/namespaces")
def create(body: CreateNamespaceRequest, state: State) -> dict[str, Any]:
    warnings = check_extra(state, body)
    fields = body.model_dump(exclude_none=True, exclude={"namespace_name", "namespace_id"})
    fields = {k: v for k, v in fields.items() if k in type(body).model_fields}
    row = create_namespace(state.db, body.namespace_name, fields, body.namespace_id)
    return with_warnings(namespace_view(state, row), warnings)


@router.get("/namespaces/{namespace_identifier}")
def get(namespace_identifier: str, state: State) -> dict[str, Any]:
    return namespace_view(state, find(state, ROOT, "namespace", namespace_identifier))


@router.post("/namespaces/list")
def list_post(state: State, page: Page, body: Annotated[ListRequest | None, Body()] = None) -> dict[str, Any]:
    data, warnings = list_body(state, body)
    return with_warnings(list_page(state, ROOT, KIND, page, data), warnings)


@router.get("/namespaces")
def list_get(state: State, page: Page) -> dict[str, Any]:
    return list_page(state, ROOT, KIND, page, None)


@router.patch("/namespaces/{namespace_identifier}")
def patch(namespace_identifier: str, body: PatchNamespaceRequest, state: State) -> dict[str, Any]:
    warnings = check_extra(state, body)
    row = find(state, ROOT, "namespace", namespace_identifier)
    changes = body.model_dump(exclude_unset=True, exclude=set(body.model_extra or {}))
    if not changes:
        raise bad_request("Empty update: send at least one field to change", code="empty_update")
    new = dict(row.body)
    if "feature_extractors" in changes:
        # Append-only: existing extractors stay, new ones are added.
        have = list(new.get("feature_extractors") or [])
        have += [fe for fe in changes.pop("feature_extractors") or [] if fe not in have]
        new["feature_extractors"] = have
    new.update(changes)
    name = changes.get("namespace_name") or row.name
    try:
        updated = state.db.update(row, new, name=name)
    except UniqueViolation as exc:
        raise _taken(name) from exc
    return with_warnings(namespace_view(state, updated), warnings)


@router.delete("/namespaces/{namespace_identifier}")
def delete(namespace_identifier: str, state: State) -> dict[str, Any]:
    row = find(state, ROOT, "namespace", namespace_identifier)
    deleted = delete_row(state, ROOT, "namespace", row)
    task_id = new_id("task")
    state.db.put_record(
        ROOT,
        "task",
        "",
        task_id,
        {
            "task_id": task_id,
            "task_type": "api_namespaces_delete",
            "status": "COMPLETED",
            "inputs": [row.id],
            "outputs": None,
            "additional_data": {"namespace_id": row.id},
            "error": None,
            "created_at": now_iso(),
        },
    )
    # The real API deletes a namespace asynchronously; ours is done, so its task is COMPLETED.
    return {**deleted, "task_id": task_id}
