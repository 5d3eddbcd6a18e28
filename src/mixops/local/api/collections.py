"""Collections and their documents: ``/v1/collections``."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query

from mixops.core.surfaces import COLLECTION_IMMUTABLE, COLLECTION_TRANSFORM_PATCHABLE
from mixops.local.api.contract import check_field
from mixops.local.api.deps import (
    LocalState,
    Namespace,
    State,
    check_extra,
    key_problems,
    read_body,
    with_warnings,
)
from mixops.local.api.resources import Kind, add_delete_route, add_list_routes, find, update_row
from mixops.local.api.schemas import (
    CreateCollectionRequest,
    ListDocumentsRequest,
    PatchCollectionRequest,
)
from mixops.local.applications import enricher_for
from mixops.local.db import Database, Row, UniqueViolation
from mixops.local.documents import document_view, ingest, parse_vectors, stored_fields
from mixops.local.engine.filters import compile_filter
from mixops.local.ids import collection_id as new_collection_id
from mixops.local.listing import Page, PageRequest, paginate, sort_items
from mixops.local.problems import ApiProblem, bad_request, invalid, missing_references, name_taken, not_found
from mixops.local.rules import immutable_fields
from mixops.local.seeded import load_waiting
from mixops.local.vector_indexes import derive_indexes

router = APIRouter(tags=["collections"])

_INTERNAL = ("text_fields",)


def create_collection(state: LocalState, ns: str, request: dict[str, Any]) -> Row:
    """Create a collection from a create-request dict (routes and seeds)."""
    indexes, text_fields = derive_indexes(request, state.embedder.dimensions)
    cid = request.get("collection_id") or new_collection_id()
    name = request["collection_name"]
    body = {k: v for k, v in request.items() if v is not None}
    body.update(
        collection_id=cid,
        collection_name=name,
        source=request.get("source") or {"type": "none"},
        enabled=request.get("enabled", True) if request.get("enabled") is not None else True,
        vector_indexes=indexes,
        text_fields=text_fields,
    )
    fe = body.get("feature_extractor")
    if isinstance(fe, dict):
        body["feature_extractor"] = {
            **fe,
            "feature_extractor_id": f"{fe['feature_extractor_name']}_{fe.get('version') or 'v1'}",
        }
    try:
        return state.db.insert(ns, "collection", cid, name, body)
    except UniqueViolation as exc:
        if exc.column == "name":
            raise name_taken("collection", name) from exc
        raise ApiProblem(409, f"Collection id '{cid}' already exists", "conflict", "collection_id_taken") from exc


def _extractor_of(body: dict[str, Any]) -> dict[str, Any]:
    """The read shape's ``feature_extractor`` (required in CollectionResponse).

    A collection built from ``features`` reports the extractor its first vector index
    comes from (the API resolves feature keys to an extractor); one built by a
    ``retriever_transform`` (or a seed collection of bring-your-own vectors) gets a
    placeholder, as the API documents for transform-based collections. The
    placeholder's name is the local backend's choice: the SDK does not give one.
    """
    fe = body.get("feature_extractor")
    if isinstance(fe, dict):
        return fe
    for ix in body.get("vector_indexes") or []:
        extractor, _, rest = str(ix.get("feature_uri", "")).removeprefix("mixpeek://").partition("@")
        version = rest.split("/", 1)[0]
        if extractor and version:
            return {
                "feature_extractor_name": extractor,
                "version": version,
                "feature_extractor_id": f"{extractor}_{version}",
            }
    return {"feature_extractor_name": "none", "version": "v1", "feature_extractor_id": "none_v1"}


def collection_view(db: Database, ns: str, row: Row) -> dict[str, Any]:
    out = {k: v for k, v in row.body.items() if k not in _INTERNAL}
    count = db.count_documents(ns, row.id)
    out["feature_extractor"] = _extractor_of(row.body)
    out.update(
        collection_id=row.id,
        collection_name=row.name,
        created_at=row.created_at,
        updated_at=row.updated_at,
        document_count=count,
        vector_count=count * len(row.body.get("vector_indexes") or []),
        lifecycle_state="active",
        schema_version=1,
        indexing_status="quiesced",
    )
    return out


KIND = Kind(
    "collection", "collections", lambda state, ns, row: collection_view(state.db, ns, row), degraded_warnings=True
)


# A collection is built by exactly one of these (CreateCollectionRequest).
BUILDERS = ("feature_extractor", "features", "retriever_transform")


def check_builder(request: dict[str, Any]) -> None:
    """422 unless the create body names exactly one of :data:`BUILDERS`."""
    given = [key for key in BUILDERS if request.get(key) not in (None, [], {})]
    if len(given) == 1:
        return
    said = "none of them" if not given else "both " + " and ".join(given)
    raise invalid(
        f"A collection needs exactly one of feature_extractor, features or retriever_transform; the body has {said}",
        code="collection_builder_required" if not given else "collection_builder_conflict",
        accepted=list(BUILDERS),
        given=given,
    )


@router.post("/collections")
def create(body: CreateCollectionRequest, state: State, ns: Namespace) -> dict[str, Any]:
    request, warnings = read_body(state, body)
    check_builder(request)
    check_applications(state, ns, None, request)
    row = create_collection(state, ns, request)
    # A seed's documents for a collection the manifests declare load when apply creates it.
    warnings += load_waiting(state, ns, row)
    return with_warnings(collection_view(state.db, ns, row), warnings)


@router.get("/collections/features")
def feature_catalog(state: State) -> dict[str, Any]:
    """FeatureDiscoveryResponse: the one feature the local backend can compute (text search)."""
    return {
        "modalities": [
            {
                "modality": "text",
                "base_feature": "text_search",
                "features": [
                    {
                        "feature_key": "text_search",
                        "feature_extractor_name": "text_extractor",
                        "version": "v1",
                        "dimensions": state.embedder.dimensions,
                        "description": "Local hashed n-gram text embeddings",
                    }
                ],
            }
        ],
        "custom_features": [],
        "full_res_multiplier": 1,
    }


@router.get("/collections/{collection_identifier}")
def get(collection_identifier: str, state: State, ns: Namespace) -> dict[str, Any]:
    return collection_view(state.db, ns, find(state, ns, "collection", collection_identifier))


add_list_routes(router, KIND, search_query=True)
add_delete_route(router, KIND, "collection_identifier", on_loop=False)


def check_applications(state: LocalState, ns: str, collection_id: str | None, request: dict[str, Any]) -> None:
    """422 unless every application names an existing resource by id (mixpeek-api.md 3.2).

    ClusterApplicationConfig documents its cluster as one that "must exist and use this
    collection as input": a new collection cannot carry one yet (attach it with PATCH
    once the cluster exists).
    """
    missing: dict[str, list[str]] = {}

    def need(kind: str, where: str, ident: Any) -> Row | None:
        row = state.db.get_by_id(ns, kind, str(ident))
        if row is None:
            missing.setdefault(where, []).append(str(ident))
        return row

    for i, app in enumerate(request.get("taxonomy_applications") or []):
        need("taxonomy", f"taxonomy_applications[{i}].taxonomy_id", app.get("taxonomy_id"))
        if app.get("target_collection_id"):
            need("collection", f"taxonomy_applications[{i}].target_collection_id", app["target_collection_id"])
    for i, app in enumerate(request.get("retriever_enrichments") or []):
        need("retriever", f"retriever_enrichments[{i}].retriever_id", app.get("retriever_id"))
    for i, app in enumerate(request.get("cluster_applications") or []):
        cluster = need("cluster", f"cluster_applications[{i}].cluster_id", app.get("cluster_id"))
        inputs = list((cluster.body.get("collection_ids") or []) if cluster else [])
        if cluster is not None and collection_id not in inputs:
            raise invalid(
                f"cluster_applications[{i}].cluster_id: cluster '{cluster.id}' does not use this collection as "
                "input (its collection_ids must include it)",
                code="cluster_not_on_collection",
                cluster_id=cluster.id,
                collection_ids=inputs,
            )
    if missing:
        raise missing_references(missing)


@router.patch("/collections/{collection_identifier}")
def patch(collection_identifier: str, body: PatchCollectionRequest, state: State, ns: Namespace) -> dict[str, Any]:
    """PATCH per core/surfaces.COLLECTION_PATCHABLE; applications are stored, not backfilled
    (existing documents get a new taxonomy only through apply-taxonomy)."""
    row = find(state, ns, "collection", collection_identifier)
    sent = set(body.model_fields_set) | set(body.model_extra or {})
    immutable = sorted(k for k in sent if k in COLLECTION_IMMUTABLE)
    if immutable:
        raise immutable_fields(immutable, " ".join(dict.fromkeys(COLLECTION_IMMUTABLE[k] for k in immutable)))
    warnings = check_extra(state, body)
    changes = body.model_dump(exclude_unset=True, exclude=set(body.model_extra or {}))
    if not changes:
        raise bad_request("Empty update: send at least one field to change", code="empty_update")
    # The SDK leaves this body untyped; its values are held to CreateCollectionRequest's types.
    problems = [p for key, value in changes.items() for p in check_field("CreateCollectionRequest", key, value)]
    if problems:
        raise key_problems(problems)
    transform = changes.get("retriever_transform")
    if transform is not None:
        if not isinstance(row.body.get("retriever_transform"), dict):
            raise invalid("retriever_transform: this collection has none to re-pin", code="immutable_field")
        other = sorted(set(transform) - set(COLLECTION_TRANSFORM_PATCHABLE))
        if other:
            raise immutable_fields(
                [f"retriever_transform.{k}" for k in other],
                "Only retriever_transform.retriever_version moves in place.",
            )
        changes["retriever_transform"] = {**row.body["retriever_transform"], **transform}
    check_applications(state, ns, row.id, changes)
    new = {**row.body, **changes}
    name = changes.get("collection_name") or row.name
    updated = update_row(state, row, name, new)
    if updated.name != row.name:  # a replacement taking the name gets the name's seed documents
        warnings += load_waiting(state, ns, updated)
    return with_warnings(collection_view(state.db, ns, updated), warnings)


@router.get("/collections/{collection_identifier}/features")
def features(collection_identifier: str, state: State, ns: Namespace) -> dict[str, Any]:
    row = find(state, ns, "collection", collection_identifier)
    out = []
    for i, ix in enumerate(row.body.get("vector_indexes") or []):
        uri = ix["feature_uri"]
        extractor, _, rest = uri.removeprefix("mixpeek://").partition("@")
        out.append(
            {
                "feature_address": uri,
                "feature_uri": uri,
                "feature_extractor_name": extractor,
                "version": rest.split("/", 1)[0],
                "vector_index": {
                    **ix["index"],
                    "type": "dense",
                    "description": f"Vectors of {uri} (local backend)",
                },
                "primary": i == 0,
            }
        )
    return {"features": out}


# -- documents -----------------------------------------------------------------------


@router.post("/collections/{collection_identifier}/documents")
def create_document(
    collection_identifier: str,
    state: State,
    ns: Namespace,
    body: Annotated[dict[str, Any], Body(examples=[{"title": "red shoes", "metadata": {}}])],
) -> dict[str, Any]:
    row = find(state, ns, "collection", collection_identifier)
    stored = ingest(state.db, state.embedder, ns, row.body, [body], enrich=enricher_for(state, ns, row.body))
    return document_view(ns, stored[0])


def _get_doc(state: LocalState, ns: str, row: Row, document_id: str) -> Any:
    doc = state.db.get_document(ns, row.id, document_id)
    if doc is None:
        raise not_found("document", document_id)
    return doc


@router.get("/collections/{collection_identifier}/documents/{document_id}")
def get_document(
    collection_identifier: str,
    document_id: str,
    state: State,
    ns: Namespace,
    return_vectors: bool = False,
    return_vector_names: bool = False,
) -> dict[str, Any]:
    row = find(state, ns, "collection", collection_identifier)
    doc = _get_doc(state, ns, row, document_id)
    vectors = state.db.document_vectors(ns, row.id, document_id) if (return_vectors or return_vector_names) else {}
    return document_view(ns, doc, vectors if return_vectors else None, sorted(vectors) if return_vector_names else None)


@router.patch("/collections/{collection_identifier}/documents/{document_id}")
def patch_document(
    collection_identifier: str, document_id: str, state: State, ns: Namespace, body: Annotated[dict[str, Any], Body()]
) -> dict[str, Any]:
    row = find(state, ns, "collection", collection_identifier)
    doc = _get_doc(state, ns, row, document_id)
    merged = dict(doc.body)
    for key, value in stored_fields(body).items():
        if key == "metadata" and isinstance(value, dict) and isinstance(merged.get("metadata"), dict):
            # A metadata key sent is set, an omitted key is kept, a key sent as null is removed.
            meta = dict(merged["metadata"])
            for mk, mv in value.items():
                if mv is None:
                    meta.pop(mk, None)
                else:
                    meta[mk] = mv
            merged["metadata"] = meta
        else:
            merged[key] = value
    kept = {
        name: vec
        for name, vec in state.db.document_vectors(ns, row.id, document_id).items()
        if not _is_text_index(row, name)
    }
    given = parse_vectors(row.body, body.get("vectors"))
    stored = ingest(
        state.db,
        state.embedder,
        ns,
        row.body,
        [{**merged, "vectors": {**kept, **{k: v.tolist() for k, v in given.items()}}}],
        enrich=enricher_for(state, ns, row.body),
    )
    return document_view(ns, stored[0])


def _is_text_index(row: Row, name: str) -> bool:
    return any(
        ix["name"] == name and ix["index"].get("inference_name") == "local_hashing_embedder"
        for ix in row.body.get("vector_indexes") or []
    )


@router.delete("/collections/{collection_identifier}/documents/{document_id}")
def delete_document(collection_identifier: str, document_id: str, state: State, ns: Namespace) -> dict[str, Any]:
    row = find(state, ns, "collection", collection_identifier)
    if not state.db.delete_document(ns, row.id, document_id):
        raise not_found("document", document_id)
    return {"success": True, "message": f"Document '{document_id}' deleted"}


def _list_documents(state: LocalState, ns: str, row: Row, page: PageRequest, body: dict[str, Any]) -> dict[str, Any]:
    docs = state.cache.documents(state.db, ns, row.id)
    filters = body.get("filters")
    if filters:
        pred = compile_filter(filters, case_sensitive=bool(body.get("case_sensitive")))
        docs = [d for d in docs if pred(d)]
    search = body.get("search")
    if isinstance(search, str) and search:
        needle = search.lower()
        docs = [d for d in docs if needle in json.dumps(d, default=str).lower()]
    docs = sort_items(list(docs), body)
    result = paginate(docs, page.merged(body))
    results = []
    names = body.get("return_vector_names")
    for d in result.items:
        stored = state.db.get_document(ns, row.id, d["document_id"])
        if stored is None:
            continue
        vectors = state.db.document_vectors(ns, row.id, d["document_id"]) if body.get("return_vectors") or names else {}
        if isinstance(names, list):
            vectors = {k: v for k, v in vectors.items() if k in names}
        view = document_view(
            ns, stored, vectors if body.get("return_vectors") else None, sorted(vectors) if names else None
        )
        select = body.get("select")
        if isinstance(select, list) and select:
            view = {k: v for k, v in view.items() if k in select or k in ("document_id", "collection_id")}
        results.append(view)
    pagination = result.pagination()
    return {
        "results": results,
        "pagination": pagination,
        "total_documents": result.total if result.include_total else None,
    }


@router.post("/collections/{collection_identifier}/documents/list")
def list_documents_post(
    collection_identifier: str,
    state: State,
    ns: Namespace,
    page: Page,
    body: Annotated[ListDocumentsRequest | None, Body()] = None,
) -> dict[str, Any]:
    row = find(state, ns, "collection", collection_identifier)
    if body is not None and body.model_extra:
        # This body is already strict on the real API (mixpeek-api.md 1.2).
        check_extra(state, body, strict=True)
    data = body.model_dump(exclude_none=True) if body else {}
    return _list_documents(state, ns, row, page, data)


@router.get("/collections/{collection_identifier}/documents")
def list_documents_get(
    collection_identifier: str,
    state: State,
    ns: Namespace,
    page: Page,
    filters: str | None = Query(None, description="URL-encoded JSON LogicalOperator"),
    search: str | None = Query(None, max_length=500),
    sort: str | None = Query(None, description="JSON SortOption or 'field:asc|desc'"),
) -> dict[str, Any]:
    row = find(state, ns, "collection", collection_identifier)
    body: dict[str, Any] = {"search": search}
    if filters:
        try:
            body["filters"] = json.loads(filters)
        except ValueError as exc:
            raise invalid("filters is not valid JSON", code="invalid_filters") from exc
        if not isinstance(body["filters"], dict):
            raise invalid("filters must be a JSON object (a LogicalOperator)", code="invalid_filters")
    if sort:
        try:
            parsed = json.loads(sort)
        except ValueError:
            field, _, direction = sort.partition(":")
            parsed = {"field": field, "direction": direction or "asc"}
        if not isinstance(parsed, dict):
            raise invalid("sort must be a JSON SortOption or 'field:direction'", code="invalid_sort")
        body["sort"] = parsed
    return _list_documents(state, ns, row, page, body)
