"""Retrievers: CRUD, clone, publish, execute (by id and ad-hoc) and stored executions."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Response

from mixops.core.models.retriever_stages import FeatureSearchParams, TaxonomyEnrichParams
from mixops.local.api.deps import (
    LocalState,
    Namespace,
    State,
    check_extra,
    declared,
    loop_first,
    read_body,
    sent_keys,
    with_warnings,
)
from mixops.local.api.resources import (
    Kind,
    add_delete_route,
    add_list_routes,
    clone_source,
    find,
    totalled_page,
    update_row,
)
from mixops.local.api.schemas import (
    AdhocExecuteRequest,
    CloneRetrieverRequest,
    CreateRetrieverRequest,
    ExecuteRetrieverRequest,
    PatchRetrieverRequest,
)
from mixops.local.db import Row, UniqueViolation, now_iso
from mixops.local.engine.stage_parsing import parse_stages
from mixops.local.execution import execute_pipeline
from mixops.local.ids import new_id
from mixops.local.listing import Page, paginate
from mixops.local.problems import invalid, missing_references, name_taken, not_found
from mixops.local.rules import RETRIEVER_IMMUTABLE, check_input_schema, immutable_fields
from mixops.local.stage_catalog import feature_uris_of, normalise_stages, stage_fusion

router = APIRouter(tags=["retrievers"])


def _resolve_collections(state: LocalState, ns: str, identifiers: list[str] | None) -> list[str]:
    ids: list[str] = []
    missing: list[str] = []
    for ident in identifiers or []:
        row = state.db.get(ns, "collection", ident)
        if row is None:
            missing.append(ident)
        elif row.id not in ids:
            ids.append(row.id)
    if missing:
        raise missing_references({"collection_identifiers": missing})
    return ids


def _validate_stages(state: LocalState, ns: str, stages: list[dict[str, Any]], collection_ids: list[str]) -> None:
    """Each stage's parameters against the models (422 naming the field, engine/stage_parsing.py);
    then the feature URIs must exist in the collections and referenced taxonomies must exist."""
    from mixops.local.engine.feature_uris import find_index

    parsed = [s.params for s in parse_stages(stages)]
    searched = [s.feature_uri for p in parsed if isinstance(p, FeatureSearchParams) for s in p.searches]
    infos = state.store(ns).resolve_collections(collection_ids) if collection_ids else []
    missing_uris = [
        uri
        for uri in dict.fromkeys(searched)
        if "{{" not in uri and infos and not any(find_index(info, uri) for info in infos)
    ]
    if missing_uris:
        raise invalid(
            "Feature URI(s) not found in the retriever's collections: " + ", ".join(missing_uris),
            code="feature_uri_not_found",
            feature_uris=missing_uris,
            collections=collection_ids,
        )
    missing_tax = [
        p.taxonomy_id
        for p in parsed
        if isinstance(p, TaxonomyEnrichParams)
        and "{{" not in p.taxonomy_id
        and state.db.get(ns, "taxonomy", p.taxonomy_id) is None
    ]
    if missing_tax:
        raise missing_references({"stages.config.parameters.taxonomy_id": missing_tax})


def retriever_view(row: Row) -> dict[str, Any]:
    body = row.body
    stages = [{**s, "parameters": s["config"].get("parameters") or {}} for s in body["stages"]]
    cols = list(body.get("collection_identifiers") or [])
    uris = feature_uris_of(body["stages"])
    return {
        "retriever_id": row.id,
        "retriever_name": row.name,
        "description": body.get("description"),
        "collection_ids": cols,
        "collection_identifiers": cols,
        "stages": stages,
        "input_schema": body.get("input_schema") or {},
        "budget_limits": body.get("budget_limits"),
        "feature_dependencies": [_address(u) for u in uris if "{{" not in u],
        "tags": body.get("tags") or [],
        "metadata": body.get("metadata") or {},
        "display_config": body.get("display_config"),
        "visibility": body.get("visibility") or "private",
        "requires_subscription": bool(body.get("requires_subscription")),
        "version": body.get("version", 1),
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "created_by": None,
        "updated_by": None,
        "fusion": stage_fusion(body["stages"]),
        "is_published": bool(body.get("is_published")),
        "marketplace_listing_id": body.get("marketplace_listing_id"),
    }


def _address(uri: str) -> dict[str, Any]:
    rest = uri.removeprefix("mixpeek://")
    extractor, _, tail = rest.partition("@")
    version, _, output = tail.partition("/")
    return {"scheme": "mixpeek", "extractor": extractor, "version": version, "output": output or None}


def create_retriever(state: LocalState, ns: str, request: dict[str, Any], retriever_id: str | None = None) -> Row:
    """Create from a create-request dict (routes, clone and seeds)."""
    collection_ids = _resolve_collections(state, ns, request.get("collection_identifiers"))
    stages = normalise_stages(request["stages"])
    _validate_stages(state, ns, stages, collection_ids)
    rid = retriever_id or new_id("ret")
    body = {k: v for k, v in request.items() if v is not None}
    body.update(retriever_id=rid, collection_identifiers=collection_ids, stages=stages, version=1, is_published=False)
    try:
        return state.db.insert(ns, "retriever", rid, request["retriever_name"], body)
    except UniqueViolation as exc:
        if exc.column == "name":
            raise name_taken("retriever", request["retriever_name"]) from exc
        raise invalid(f"Retriever id '{rid}' already exists", code="retriever_id_taken") from exc


@router.post("/retrievers")
@loop_first
def create(body: CreateRetrieverRequest, state: State, ns: Namespace) -> dict[str, Any]:
    request, warnings = read_body(state, body)
    return with_warnings(retriever_view(create_retriever(state, ns, request)), warnings)


@router.get("/retrievers/stages")
def stage_catalog() -> list[dict[str, Any]]:
    from mixops.local.stage_catalog import CATALOG

    return [
        {"stage_id": sid, "description": desc, "category": cat, "icon": cat}
        for sid, (cat, desc) in sorted(CATALOG.items())
    ]


@router.get("/retrievers/{retriever_id}")
@loop_first
def get(retriever_id: str, state: State, ns: Namespace) -> dict[str, Any]:
    return retriever_view(find(state, ns, "retriever", retriever_id))


def _mongo_to_logical(filters: dict[str, Any]) -> dict[str, Any]:
    """Retriever list filters are a raw Mongo-style dict; ``$in`` etc. map to operators."""
    return {
        k: ({op.lstrip("$"): v for op, v in val.items()} if isinstance(val, dict) else val)
        for k, val in filters.items()
    }


KIND = Kind(
    "retriever",
    "retrievers",
    lambda _state, _ns, row: retriever_view(row),
    envelope=totalled_page,
    filters=_mongo_to_logical,
    degraded_warnings=True,
)
add_list_routes(router, KIND)
add_delete_route(router, KIND, "retriever_id")


@router.patch("/retrievers/{retriever_id}")
@loop_first
def patch(retriever_id: str, body: PatchRetrieverRequest, state: State, ns: Namespace) -> dict[str, Any]:
    row = find(state, ns, "retriever", retriever_id)
    sent = sent_keys(body, "send at least one field to change")
    refused = {k for k in sent if k in RETRIEVER_IMMUTABLE}
    if refused:
        raise immutable_fields(refused, " ".join(RETRIEVER_IMMUTABLE[k] for k in sorted(refused)))
    warnings = check_extra(state, body)
    changes = body.model_dump(exclude_unset=True, exclude=set(body.model_extra or {}))
    new = dict(row.body)
    if "stages" in changes:
        if row.body.get("is_published"):
            raise invalid(
                "stages cannot be changed while the retriever is published; unpublish or clone it",
                code="retriever_published",
            )
        if changes["stages"] is None:
            raise invalid("stages cannot be null", code="validation_error")
        new["stages"] = normalise_stages(changes.pop("stages"))
    if "input_schema" in changes:
        check_input_schema(row.body.get("input_schema"), changes["input_schema"])
    if "collection_identifiers" in changes:
        changes["collection_identifiers"] = _resolve_collections(state, ns, changes["collection_identifiers"])
    new.update(changes)
    if "stages" in sent or "collection_identifiers" in sent:
        _validate_stages(state, ns, new["stages"], new.get("collection_identifiers") or [])
    new["version"] = int(row.body.get("version", 1)) + 1
    name = new.get("retriever_name") or row.name
    updated = update_row(state, row, name, new)
    return with_warnings({"retriever": retriever_view(updated)}, warnings)


@router.post("/retrievers/{retriever_id}/clone")
@loop_first
def clone(retriever_id: str, body: CloneRetrieverRequest, state: State, ns: Namespace) -> dict[str, Any]:
    warnings = check_extra(state, body)
    source = clone_source(state, ns, "retriever", retriever_id, body.retriever_name)
    request = {
        k: v
        for k, v in source.body.items()
        if k
        in (
            "description",
            "collection_identifiers",
            "stages",
            "input_schema",
            "budget_limits",
            "tags",
            "display_config",
            "metadata",
            "visibility",
        )
    }
    request.update(declared(body))
    row = create_retriever(state, ns, request)
    return with_warnings({"retriever": retriever_view(row), "source_retriever_id": source.id}, warnings)


@router.post("/retrievers/{retriever_id}/publish")
@loop_first
def publish(
    retriever_id: str,
    state: State,
    ns: Namespace,
    body: Annotated[dict[str, Any] | None, Body()] = None,
) -> dict[str, Any]:
    """PublishRetrieverResponse; the body (PublishRetrieverRequest) is held to the SDK's
    keys by ``contract.py`` and otherwise ignored: nothing is served publicly here."""
    row = _set_published(state, ns, retriever_id, True)
    public_id = (body or {}).get("public_name") or row.name
    url = f"http://mixpeek.local/r/{public_id}"
    return {"public_id": public_id, "retriever_id": row.id, "public_url": url, "short_url": url}


@router.delete("/retrievers/{retriever_id}/publish")
@loop_first
def unpublish(retriever_id: str, state: State, ns: Namespace) -> dict[str, Any]:
    row = _set_published(state, ns, retriever_id, False)
    return {"success": True, "message": f"Retriever '{row.id}' unpublished"}


def _set_published(state: LocalState, ns: str, retriever_id: str, value: bool) -> Row:
    row = find(state, ns, "retriever", retriever_id)
    return state.db.update(row, {**row.body, "is_published": value})


# -- execution -----------------------------------------------------------------------


def _inputs_hash(inputs: Any) -> str:
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _run(
    state: LocalState, ns: str, config: dict[str, Any], request: dict[str, Any], retriever_id: str, kind: str
) -> dict[str, Any]:
    started = now_iso()
    result = execute_pipeline(state.store(ns), config, request)
    execution_id = new_id("exec")
    result = {"execution_id": execution_id, "retriever_id": retriever_id, **result}
    result["execution_id"] = execution_id
    stats = result.get("stage_statistics") or {}
    documents = result.get("documents") or []
    detail = {
        **result,
        "created_at": started,
        "completed_at": now_iso(),
        "current_stage": None,
        "stages_completed": len(stats.get("stages") or {}),
        "total_stages": len(config["stages"]),
        "documents_retained": True,
        "total_returned": len(documents),
        "inputs": request.get("inputs") or {},
        "inputs_hash": _inputs_hash(request.get("inputs") or {}),
        "collection_ids": config.get("collection_identifiers") or [],
        "duration_ms": stats.get("total_time_ms", 0),
        "credits_used": stats.get("credits_used", 0),
        "total_processed": max([s.get("input_count", 0) for s in (stats.get("stages") or {}).values()] or [0]),
    }
    state.db.put_record(ns, kind, retriever_id, execution_id, detail)
    return result


@router.post("/retrievers/execute")
def execute_adhoc(body: AdhocExecuteRequest, state: State, ns: Namespace, response: Response) -> dict[str, Any]:
    request, warnings = read_body(state, body)
    config = {
        "collection_identifiers": _resolve_collections(state, ns, request.get("collection_identifiers")),
        "stages": parse_stages(normalise_stages(request["stages"])),
        "input_schema": request.get("input_schema") or {},
        "budget_limits": request.get("budget_limits"),
    }
    response.headers["X-Execution-Mode"] = "adhoc"
    result = _run(state, ns, config, request, "", "adhoc_execution")
    result["execution_metadata"] = {"retriever_persisted": False, "execution_mode": "adhoc"}
    return with_warnings(result, warnings)


@router.get("/retrievers/executions/{execution_id}")
def get_adhoc_execution(execution_id: str, state: State, ns: Namespace) -> dict[str, Any]:
    record = state.db.get_record(ns, "adhoc_execution", execution_id)
    if record is None:
        raise not_found("execution", execution_id)
    return _adhoc_detail(record)


def _adhoc_detail(record: dict[str, Any]) -> dict[str, Any]:
    return {
        **record,
        "execution_mode": "adhoc",
        "timestamp": record["created_at"],
        "inputs": json.dumps(record.get("inputs") or {}),
    }


@router.post("/retrievers/executions/list")
def list_adhoc_executions(state: State, ns: Namespace, page: Page) -> dict[str, Any]:
    records = list(reversed(state.db.list_records(ns, "adhoc_execution", None)))
    result = paginate(records, page)
    return {
        "results": [_adhoc_summary(r) for r in result.items],
        "total": result.total,
        "pagination": result.offset_pagination(),
    }


@router.post("/retrievers/{retriever_id}/execute")
def execute(
    retriever_id: str, state: State, ns: Namespace, body: Annotated[ExecuteRetrieverRequest | None, Body()] = None
) -> dict[str, Any]:
    row = find(state, ns, "retriever", retriever_id)
    request, warnings = read_body(state, body)
    config = {k: row.body.get(k) for k in ("collection_identifiers", "input_schema", "budget_limits")}
    config["stages"] = parse_stages(row.body["stages"])  # validated once here; the engine runs them typed
    return with_warnings(_run(state, ns, config, request, row.id, "retriever_execution"), warnings)


@router.get("/retrievers/{retriever_id}/executions/{execution_id}")
def get_execution(retriever_id: str, execution_id: str, state: State, ns: Namespace) -> dict[str, Any]:
    row = find(state, ns, "retriever", retriever_id)
    record = state.db.get_record(ns, "retriever_execution", execution_id)
    if record is None or record.get("retriever_id") != row.id:
        raise not_found("execution", execution_id)
    return record


def _summary(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "execution_id": record["execution_id"],
        "status": record.get("status"),
        "created_at": record.get("created_at"),
        "completed_at": record.get("completed_at"),
        "duration_ms": record.get("duration_ms", 0),
        "credits_used": record.get("credits_used", 0),
        "total_processed": record.get("total_processed", 0),
        "total_returned": record.get("total_returned", 0),
        "inputs_hash": record.get("inputs_hash"),
        "query_summary": json.dumps(record.get("inputs") or {})[:200],
    }


def _adhoc_summary(record: dict[str, Any]) -> dict[str, Any]:
    """AdhocExecutionSummary: the summary plus the mode, the time and the stage counts."""
    return _summary(record) | {
        "execution_mode": "adhoc",
        "timestamp": record.get("created_at"),
        "stages_completed": record.get("stages_completed", 0),
        "total_stages": record.get("total_stages", 0),
        "collection_ids": record.get("collection_ids"),
    }


@router.post("/retrievers/{retriever_id}/executions/list")
def list_executions(
    retriever_id: str,
    state: State,
    ns: Namespace,
    page: Page,
    body: Annotated[dict[str, Any] | None, Body()] = None,
) -> dict[str, Any]:
    row = find(state, ns, "retriever", retriever_id)
    records = list(reversed(state.db.list_records(ns, "retriever_execution", row.id)))
    if body and isinstance(body.get("status"), str):
        records = [r for r in records if r.get("status") == body["status"]]
    result = paginate(records, page)
    return {"results": [_summary(r) for r in result.items], "pagination": result.offset_pagination()}


@router.get("/retrievers/{retriever_id}/executions")
def list_executions_get(retriever_id: str, state: State, ns: Namespace, page: Page) -> dict[str, Any]:
    return list_executions(retriever_id, state, ns, page, None)
