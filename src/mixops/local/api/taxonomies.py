"""Taxonomies: CRUD, clone, versions and on-demand execute (both paths)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic import Field as PydanticField
from starlette.exceptions import HTTPException as StarletteHTTPException

from mixops.local import output_defaults
from mixops.local.api.deps import (
    LocalState,
    Namespace,
    State,
    check_extra,
    loop_first,
    read_body,
    with_warnings,
)
from mixops.local.api.resources import (
    Kind,
    add_delete_route,
    add_list_routes,
    clone_source,
    counted_page,
    find,
    find_by_id,
    patch_changes,
    update_row,
)
from mixops.local.api.schemas import (
    CloneTaxonomyRequest,
    CreateTaxonomyRequest,
    ExecuteTaxonomyRequest,
    PatchTaxonomyRequest,
)
from mixops.local.db import Row, UniqueViolation, now_iso
from mixops.local.execution import execute_taxonomy
from mixops.local.ids import new_id
from mixops.local.listing import Page, paginate
from mixops.local.problems import invalid, missing_references, name_taken, not_found
from mixops.local.stage_catalog import normalise_stages

router = APIRouter(tags=["taxonomies"])


class _StageInstance(BaseModel):
    """A stage of RetrieverModelInput (the SDK's StageInstanceConfig): flat, no `config`."""

    model_config = ConfigDict(extra="forbid")
    stage_name: str = PydanticField(min_length=1)
    stage_id: str | None = None
    parameters: dict[str, Any] | None = None
    pre_filters: dict[str, Any] | None = None
    post_filters: dict[str, Any] | None = None
    stats: dict[str, Any] | None = None


class _RetrieverSchema(BaseModel):
    model_config = ConfigDict(extra="forbid")
    properties: dict[str, dict[str, Any]] | None = None


class _RetrieverModel(BaseModel):
    """The taxonomy execute's `retriever` override: the SDK's RetrieverModelInput (the fields the
    engine reads are typed; the rest of the read model is accepted and ignored)."""

    model_config = ConfigDict(extra="forbid")
    retriever_name: str
    input_schema: _RetrieverSchema
    collection_ids: list[str]
    stages: list[_StageInstance]
    retriever_id: str | None = None
    description: str | None = None
    visibility: str | None = None
    marketplace_listing_id: str | None = None
    requires_subscription: bool | None = None
    cache_config: dict[str, Any] | None = None
    created_at: str | None = None
    updated_at: str | None = None
    last_executed_at: str | None = None
    enabled: bool | None = None
    status: str | None = None
    usage_stats: dict[str, Any] | None = None
    collections: list[dict[str, Any]] | None = None
    metadata: dict[str, Any] | None = None
    tags: list[str] | None = None
    created_by: dict[str, Any] | None = None
    updated_by: dict[str, Any] | None = None
    version: int | None = None
    revision_history: list[dict[str, Any]] | None = None
    health: dict[str, Any] | None = None


def retriever_model_spec(raw: dict[str, Any]) -> dict[str, Any]:
    """A RetrieverModelInput override as the engine's retriever spec (the create shape's stages)."""
    try:
        model = _RetrieverModel.model_validate(raw)
    except ValidationError as exc:
        problems = [{"loc": ["body", "retriever", *e["loc"]], "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        first = problems[0]
        where = ".".join(str(p) for p in first["loc"][1:])
        raise invalid(f"{where}: {first['msg']}", code=str(first["type"]), validation_errors=problems) from None
    stages = []
    for stage in model.stages:
        config: dict[str, Any] = {"stage_id": stage.stage_id or stage.stage_name, "parameters": stage.parameters or {}}
        if stage.pre_filters:
            config["pre_filters"] = stage.pre_filters
        stages.append({"stage_name": stage.stage_name, "config": config})
    return {
        "retriever_name": model.retriever_name,
        "collection_identifiers": model.collection_ids,
        "input_schema": dict(model.input_schema.properties or {}),
        "stages": normalise_stages(stages),
    }


def validate_config(
    state: LocalState, ns: str, config: Any, where: str = "config", *, check_retrievers: bool = True
) -> dict[str, Any]:
    """Shape checks and referenced ids (retriever, collections) of a taxonomy config.

    `check_retrievers=False` when an execute carries a `retriever` override: the
    override runs instead, so the config may name a retriever that does not exist yet.
    """
    if not isinstance(config, dict):
        raise invalid(f"{where} must be an object (a flat or hierarchical taxonomy config)")
    kind = config.get("taxonomy_type", "flat")
    if kind not in ("flat", "hierarchical"):
        raise invalid(f"{where}.taxonomy_type must be 'flat' or 'hierarchical'", code="invalid_taxonomy_type")
    config = {**config, "taxonomy_type": kind}
    retrievers: list[Any] = []
    collections: list[Any] = []
    if kind == "flat":
        problems = []
        if not isinstance(config.get("retriever_id"), str):
            problems.append("retriever_id is required")
        if not isinstance(config.get("input_mappings"), list):
            problems.append("input_mappings is required (a list)")
        source = config.get("source_collection")
        if not isinstance(source, dict) or not isinstance(source.get("collection_id"), str):
            problems.append("source_collection.collection_id is required")
        if problems:
            raise invalid(f"{where}: " + "; ".join(problems), code="invalid_taxonomy_config", problems=problems)
        retrievers.append(config["retriever_id"])
        collections.append(config["source_collection"]["collection_id"])
    else:
        if isinstance(config.get("retriever_id"), str):
            retrievers.append(config["retriever_id"])
        nodes = config.get("hierarchical_nodes") or []
        if not isinstance(nodes, list) or not all(isinstance(n, dict) for n in nodes):
            raise invalid(f"{where}.hierarchical_nodes must be a list of objects")
        for i, node in enumerate(nodes):
            if not isinstance(node.get("collection_id"), str):
                raise invalid(f"{where}.hierarchical_nodes[{i}].collection_id is required")
            collections.append(node["collection_id"])
            if isinstance(node.get("parent_collection_id"), str):
                collections.append(node["parent_collection_id"])
            if isinstance(node.get("retriever_id"), str):
                retrievers.append(node["retriever_id"])
            elif not isinstance(config.get("retriever_id"), str):
                raise invalid(f"{where}.hierarchical_nodes[{i}] needs a retriever_id (or set one on the config)")
        collections += [c for c in config.get("inference_collections") or [] if isinstance(c, str)]
    missing: dict[str, list[str]] = {}
    bad_r = [
        r for r in dict.fromkeys(retrievers) if check_retrievers and state.db.get_by_id(ns, "retriever", r) is None
    ]
    bad_c = [c for c in dict.fromkeys(collections) if state.db.get_by_id(ns, "collection", c) is None]
    if bad_r:
        missing[f"{where}.retriever_id"] = bad_r
    if bad_c:
        missing[f"{where}.collection_id"] = bad_c
    if missing:
        raise missing_references(missing)
    return dict(config)


def taxonomy_view(row: Row, version: dict[str, Any] | None = None) -> dict[str, Any]:
    body = row.body
    config = output_defaults.taxonomy_config(version["config"] if version else body["config"])
    return {
        "taxonomy_id": row.id,
        "taxonomy_name": row.name,
        "description": body.get("description"),
        "config": config,
        "version": version["version"] if version else body.get("version", 1),
        "retriever_id": config.get("retriever_id"),
        "input_mappings": config.get("input_mappings"),
        "nodes": None,
        "ready": True,
        "created_at": row.created_at,
        "metadata": body.get("metadata") or {},
    }


KIND = Kind("taxonomy", "taxonomies", lambda _state, _ns, row: taxonomy_view(row))


def _version(state: LocalState, ns: str, row: Row, version: int | None) -> dict[str, Any] | None:
    if version is None or version == row.body.get("version", 1):
        return None
    record = state.db.get_record(ns, "taxonomy_version", f"{row.id}@{version}")
    if record is None:
        raise not_found("taxonomy version", f"{row.id}?version={version}")
    return record


def create_taxonomy(state: LocalState, ns: str, request: dict[str, Any], taxonomy_id: str | None = None) -> Row:
    config = validate_config(state, ns, request["config"])
    tid = taxonomy_id or new_id("tax")
    body = {k: v for k, v in request.items() if v is not None}
    body.update(taxonomy_id=tid, config=config, version=1)
    try:
        row = state.db.insert(ns, "taxonomy", tid, request["taxonomy_name"], body)
    except UniqueViolation as exc:
        if exc.column == "name":
            raise name_taken("taxonomy", request["taxonomy_name"]) from exc
        raise invalid(f"Taxonomy id '{tid}' already exists", code="taxonomy_id_taken") from exc
    _snapshot(state, ns, row.id, 1, config)
    return row


def _snapshot(state: LocalState, ns: str, taxonomy_id: str, version: int, config: dict[str, Any]) -> None:
    state.db.put_record(
        ns,
        "taxonomy_version",
        taxonomy_id,
        f"{taxonomy_id}@{version}",
        {"version": version, "config": config, "created_at": now_iso()},
    )


@router.post("/taxonomies")
@loop_first
def create(body: CreateTaxonomyRequest, state: State, ns: Namespace) -> dict[str, Any]:
    request, warnings = read_body(state, body)
    return with_warnings(taxonomy_view(create_taxonomy(state, ns, request)), warnings)


@router.get("/taxonomies/{taxonomy_identifier}")
@loop_first
def get(
    taxonomy_identifier: str, state: State, ns: Namespace, version: int | None = Query(None, ge=1)
) -> dict[str, Any]:
    row = find(state, ns, "taxonomy", taxonomy_identifier)
    return taxonomy_view(row, _version(state, ns, row, version))


add_list_routes(router, KIND)
add_delete_route(router, KIND, "taxonomy_identifier")


@router.patch("/taxonomies/{taxonomy_identifier}")
@loop_first
def patch(taxonomy_identifier: str, body: PatchTaxonomyRequest, state: State, ns: Namespace) -> dict[str, Any]:
    row = find(state, ns, "taxonomy", taxonomy_identifier)
    changes = patch_changes(body, "taxonomy")
    new = {**row.body, **changes}
    name = new["taxonomy_name"] if changes.get("taxonomy_name") else row.name
    new["taxonomy_name"] = name
    updated = update_row(state, row, name, new)
    return taxonomy_view(updated)


@router.post("/taxonomies/{taxonomy_identifier}/clone")
@loop_first
def clone(taxonomy_identifier: str, body: CloneTaxonomyRequest, state: State, ns: Namespace) -> dict[str, Any]:
    warnings = check_extra(state, body)
    source = clone_source(state, ns, "taxonomy", taxonomy_identifier, body.taxonomy_name)
    request = {
        "taxonomy_name": body.taxonomy_name,
        "description": body.description if body.description is not None else source.body.get("description"),
        "config": body.config if body.config is not None else source.body["config"],
        "metadata": source.body.get("metadata"),
    }
    row = create_taxonomy(state, ns, request)
    return with_warnings({"taxonomy": taxonomy_view(row), "source_taxonomy_id": source.id}, warnings)


def _versions_served(state: LocalState) -> None:
    """Without taxonomy versions (Settings.taxonomy_versions) the routes answer as unknown ones do."""
    if not state.settings.taxonomy_versions:
        raise StarletteHTTPException(404, "Not Found")


@router.post("/taxonomies/{taxonomy_id}/versions")
@loop_first
def create_version(
    taxonomy_id: str,
    state: State,
    ns: Namespace,
    body: Annotated[dict[str, Any], Body(examples=[{"config": {"taxonomy_type": "flat"}}])],
) -> dict[str, Any]:
    _versions_served(state)
    row = find_by_id(state, ns, "taxonomy", taxonomy_id)
    # The body is "a new config snapshot": either {config: {...}} or the config itself.
    config = body.get("config") if isinstance(body.get("config"), dict) else body
    config = validate_config(state, ns, config)
    version = int(row.body.get("version", 1)) + 1
    new = {**row.body, "config": config, "version": version}
    for key in ("description", "metadata"):
        if key in body and body is not config:
            new[key] = body[key]
    updated = state.db.update(row, new)
    _snapshot(state, ns, row.id, version, config)
    return taxonomy_view(updated)


@router.get("/taxonomies/{taxonomy_id}/versions")
def list_versions(taxonomy_id: str, state: State, ns: Namespace, page: Page) -> dict[str, Any]:
    _versions_served(state)
    row = find_by_id(state, ns, "taxonomy", taxonomy_id)
    records: list[dict[str, Any]] = sorted(
        state.db.list_records(ns, "taxonomy_version", row.id), key=lambda r: -int(r["version"])
    )
    views = [taxonomy_view(row, r) for r in records]
    return counted_page(paginate(views, page))


@router.post("/taxonomies/{taxonomy_identifier}/execute")
def execute(
    taxonomy_identifier: str,
    state: State,
    ns: Namespace,
    version: int | None = Query(None, ge=1),
    body: Annotated[ExecuteTaxonomyRequest | None, Body()] = None,
) -> dict[str, Any]:
    warnings = check_extra(state, body) if body else []
    if body is not None and body.join_mode == "batch":
        raise invalid("join_mode 'batch' is not supported through the API; use on_demand", code="batch_unsupported")
    # The path names a taxonomy that must exist, even when the body carries the config
    # to run (the API fetches the taxonomy by the path's identifier).
    inline = body.taxonomy if body else None
    row = state.db.get(ns, "taxonomy", taxonomy_identifier)
    if row is None:
        raise not_found("taxonomy", taxonomy_identifier)
    override = retriever_model_spec(body.retriever) if body and body.retriever is not None else None
    if inline:
        # The request's taxonomy (the seed's on-demand test) wins over the stored one.
        config = inline.get("config") if isinstance(inline.get("config"), dict) else None
        if config is None:
            raise invalid("taxonomy.config is required in an inline taxonomy", code="invalid_taxonomy_config")
        config = validate_config(
            state, ns, config, "taxonomy.config", check_retrievers=body is None or body.retriever is None
        )
        taxonomy = {
            **inline,
            "config": config,
            "taxonomy_id": row.id if row else taxonomy_identifier,
            "taxonomy_name": inline.get("taxonomy_name") or (row.name if row else taxonomy_identifier),
        }
    else:
        assert row is not None  # an unknown identifier without an inline taxonomy was refused above
        view = taxonomy_view(row, _version(state, ns, row, version))
        taxonomy = {**row.body, "config": view["config"], "taxonomy_id": row.id}
    documents = list(body.source_documents or []) if body else []
    result = execute_taxonomy(
        state.store(ns),
        taxonomy,
        documents,
        retriever_override=override,
        batch_size=(body.batch_size or 1000) if body else 1000,
    )
    return with_warnings(result, warnings)


# The verb-first path some Mixpeek pages still show runs the same handler.
router.add_api_route(
    "/taxonomies/execute/{taxonomy_identifier}",
    execute,
    methods=["POST"],
    name="execute_verb_first",
    deprecated=True,
)
