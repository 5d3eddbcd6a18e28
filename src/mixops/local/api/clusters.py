"""Clusters: CRUD, async execute with tasks, executions, and ad-hoc execute (seed 003)."""

from __future__ import annotations

import threading
from typing import Annotated, Any

from fastapi import APIRouter, Body

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
    counted_page,
    find,
    find_by_id,
    patch_changes,
    update_row,
)
from mixops.local.api.schemas import (
    AdhocClusterRequest,
    CreateClusterRequest,
    ExecuteClusterRequest,
    ListRequest,
    PatchClusterRequest,
)
from mixops.local.api.tasks import task_view
from mixops.local.db import Row, UniqueViolation, now_iso
from mixops.local.engine.errors import EngineError
from mixops.local.engine.feature_uris import find_index
from mixops.local.execution import ClusterSpec, run_clustering
from mixops.local.ids import new_id
from mixops.local.listing import Page, paginate, sort_items
from mixops.local.problems import invalid, missing_references, name_taken, not_found
from mixops.local.process import RUNNER_KEY, identity

router = APIRouter(tags=["clusters"])

# Keys of vector_config that ClusterMetadata shows at its top level under the same name.
_VECTOR_TOP = (
    "multi_feature_strategy",
    "effective_feature_method",
    "face_cluster_merge",
    "sample_size",
    "preprocessing_steps",
    "vis_n_components",
    "layout_stability",
    "normalize_features",
)
_METHODS = (
    "kmeans",
    "dbscan",
    "hdbscan",
    "agglomerative",
    "spectral",
    "gaussian_mixture",
    "mean_shift",
    "optics",
    "attribute_based",
)


def _feature_uris(vector_config: dict[str, Any]) -> list[str]:
    uris = vector_config.get("feature_uris")
    if isinstance(uris, list):
        return [str(u) for u in uris]
    single = vector_config.get("feature_uri")
    return [str(single)] if isinstance(single, str) else []


def _validate(state: LocalState, ns: str, request: dict[str, Any]) -> dict[str, Any]:
    collection_ids = request.get("collection_ids") or []
    sources = request.get("source_cluster_ids") or []
    if not collection_ids and not sources:
        raise invalid("collection_ids is required (unless source_cluster_ids is set)", code="validation_error")
    missing: dict[str, list[str]] = {}
    bad_c = [c for c in collection_ids if state.db.get_by_id(ns, "collection", c) is None]
    bad_s = [c for c in sources if state.db.get_by_id(ns, "cluster", c) is None]
    if bad_c:
        missing["collection_ids"] = bad_c
    if bad_s:
        missing["source_cluster_ids"] = bad_s
    if missing:
        raise missing_references(missing)
    ctype = request.get("cluster_type") or ("attribute" if request.get("attribute_config") else "vector")
    request = {**request, "cluster_type": ctype}
    if ctype == "vector":
        vc = request.get("vector_config")
        if not isinstance(vc, dict):
            raise invalid("vector_config is required when cluster_type is 'vector'", code="validation_error")
        if vc.get("clustering_method") not in _METHODS:
            raise invalid(
                f"vector_config.clustering_method must be one of {', '.join(_METHODS)}", code="validation_error"
            )
        uris = _feature_uris(vc)
        if not uris:
            raise invalid("vector_config.feature_uris needs at least one feature URI", code="validation_error")
        infos = state.store(ns).resolve_collections(collection_ids)
        absent = sorted({f"{u} (in {i.collection_id})" for u in uris for i in infos if find_index(i, u) is None})
        if absent:
            raise invalid(
                "Feature URI(s) missing from input collections: " + ", ".join(absent),
                code="feature_uri_not_found",
                missing=absent,
            )
    else:
        ac = request.get("attribute_config")
        if not isinstance(ac, dict) or not isinstance(ac.get("attributes"), list) or not ac["attributes"]:
            raise invalid(
                "attribute_config.attributes (a non-empty list) is required for attribute clusters",
                code="validation_error",
            )
    return request


def cluster_view(ns: str, row: Row) -> dict[str, Any]:
    """ClusterMetadata: the flattened read shape (mixpeek-api.md 6.3)."""
    b = row.body
    vc = b.get("vector_config") or {}
    ac = b.get("attribute_config") or {}
    out: dict[str, Any] = {
        "cluster_id": row.id,
        "cluster_name": row.name,
        "namespace_id": ns,
        "description": b.get("description"),
        "metadata": b.get("metadata") or {},
        "cluster_type": b.get("cluster_type"),
        "input_collections": b.get("collection_ids") or [],
        "source_cluster_ids": b.get("source_cluster_ids"),
        "feature_uris": _feature_uris(vc) or None,
        "algorithm": vc.get("clustering_method") if vc else ("attribute_based" if ac else None),
        "algorithm_params": vc.get("algorithm_params"),
        "hierarchical_vector": vc.get("hierarchical"),
        "max_hierarchy_depth": vc.get("max_hierarchy_depth"),
        "clustered_attributes": ac.get("attributes"),
        "hierarchical_grouping": ac.get("hierarchical_grouping"),
        "aggregation_method": ac.get("aggregation_method"),
        "enrich_source": bool(b.get("enrich_source_collection")),
        "source_enrichment_config": b.get("source_enrichment_config"),
        "llm_labeling": output_defaults.llm_labeling(b.get("llm_labeling")),
        "filters": b.get("filters"),
        "output_collection_ids": [],
        "output_collection_names": [],
        "num_clusters": b.get("num_clusters"),
        "num_documents_clustered": b.get("num_documents_clustered"),
        "execution_time_seconds": b.get("execution_time_seconds"),
        "quality_metrics": b.get("quality_metrics"),
        "status": b.get("status", "PENDING"),
        "error": b.get("error"),
        "last_execution_task_id": b.get("last_execution_task_id"),
        "last_run_id": b.get("last_run_id"),
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "last_executed_at": b.get("last_executed_at"),
        "completed_at": b.get("completed_at"),
    }
    for key in _VECTOR_TOP:
        out[key] = vc.get(key)
    out["face_cluster_merge"] = output_defaults.face_cluster_merge(out.get("face_cluster_merge"))
    return out


def cluster_model(row: Row) -> dict[str, Any]:
    """ClusterModel: the write-shaped PATCH response."""
    b = row.body
    keys = (
        "collection_ids",
        "source_cluster_ids",
        "cluster_name",
        "description",
        "metadata",
        "cluster_type",
        "vector_config",
        "attribute_config",
        "filters",
        "llm_labeling",
        "enrich_source_collection",
        "source_enrichment_config",
        "status",
        "last_run_id",
        "num_clusters",
    )
    out = {k: b.get(k) for k in keys}
    out.update(
        cluster_id=row.id,
        cluster_name=row.name,
        task_id=b.get("last_execution_task_id"),
        cluster_stats={"num_clusters": b.get("num_clusters") or 0},
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
    return out


KIND = Kind("cluster", "clusters", lambda state, ns, row: cluster_view(ns, row))


def create_cluster(state: LocalState, ns: str, request: dict[str, Any]) -> Row:
    request = _validate(state, ns, request)
    cid = new_id("clust")
    name = request.get("cluster_name") or f"cluster_{cid.removeprefix('clust_')}"
    body = {k: v for k, v in request.items() if v is not None}
    body.update(cluster_id=cid, cluster_name=name, status="PENDING")
    try:
        return state.db.insert(ns, "cluster", cid, name, body)
    except UniqueViolation as exc:
        raise name_taken("cluster", name) from exc


@router.post("/clusters")
@loop_first
def create(body: CreateClusterRequest, state: State, ns: Namespace) -> dict[str, Any]:
    request, warnings = read_body(state, body)
    return with_warnings(cluster_view(ns, create_cluster(state, ns, request)), warnings)


@router.get("/clusters/{cluster_identifier}")
@loop_first
def get(cluster_identifier: str, state: State, ns: Namespace) -> dict[str, Any]:
    return cluster_view(ns, find(state, ns, "cluster", cluster_identifier))


add_list_routes(router, KIND, search_query=True)
add_delete_route(router, KIND, "cluster_id", by_id=True)


@router.patch("/clusters/{cluster_identifier}")
@loop_first
def patch(cluster_identifier: str, body: PatchClusterRequest, state: State, ns: Namespace) -> dict[str, Any]:
    row = find(state, ns, "cluster", cluster_identifier)
    changes = patch_changes(body, "cluster")
    new = dict(row.body)
    vc = dict(new.get("vector_config") or {})
    for key in ("face_cluster_merge", "sample_size", "algorithm_params", "layout_stability"):
        if key in changes:
            value = changes.pop(key)
            if key == "face_cluster_merge" and value is None:
                continue  # null leaves it untouched
            if new.get("cluster_type") != "vector":
                raise invalid(f"{key} applies to vector clusters only", code="validation_error")
            vc[key] = value
    if vc:
        new["vector_config"] = vc
    if "source_cluster_ids" in changes:
        sources = changes["source_cluster_ids"] or []
        if row.id in sources:
            raise invalid("source_cluster_ids cannot include the cluster itself", code="validation_error")
        bad = [s for s in sources if state.db.get_by_id(ns, "cluster", s) is None]
        if bad:
            raise missing_references({"source_cluster_ids": bad})
    new.update(changes)
    name = new.get("cluster_name") or row.name
    updated = update_row(state, row, name, new)
    return cluster_model(updated)


# -- execution -----------------------------------------------------------------------


def _spec(row: Row, overrides: dict[str, Any]) -> ClusterSpec:
    b = row.body
    vc = b.get("vector_config") or {}
    return ClusterSpec(
        collection_ids=list(b.get("collection_ids") or []),
        algorithm=vc.get("clustering_method") or "attribute_based",
        algorithm_params=dict(vc.get("algorithm_params") or {}),
        feature_uris=_feature_uris(vc),
        attribute_config=b.get("attribute_config"),
        filters=overrides.get("filters") or b.get("filters"),
        sample_size=overrides.get("sample_size") or vc.get("sample_size"),
        normalize_features=bool(vc.get("normalize_features", True)),
        include_members=True,
    )


# ClusterExecutionCentroid.representative_ids: "capped upstream to a small sample (~16)" (SDK).
REPRESENTATIVES = 16


def _with_representatives(
    centroids: list[dict[str, Any]], members: list[dict[str, Any]], body: dict[str, Any]
) -> list[dict[str, Any]]:
    """Each centroid with a sample of its members as `representative_ids` (document order)."""
    collections = body.get("collection_ids") or []
    by_cluster: dict[str, list[dict[str, Any]]] = {}
    for m in members:
        reps = by_cluster.setdefault(str(m.get("cluster_id")), [])
        if len(reps) < REPRESENTATIVES:
            rep = {"document_id": str(m["document_id"])}
            if len(collections) == 1:  # the collection of each document is known only then
                rep["collection_id"] = str(collections[0])
            reps.append(rep)
    return [{**c, "representative_ids": by_cluster.get(str(c.get("cluster_id")), [])} for c in centroids]


def _run_in_background(
    state: LocalState, ns: str, row: Row, task_id: str, run_id: str, overrides: dict[str, Any]
) -> None:
    db = state.db
    task = db.get_record(ns, "task", task_id) or {}
    db.put_record(ns, "task", row.id, task_id, {**task, "status": "IN_PROGRESS"})
    started = now_iso()
    try:
        outcome = run_clustering(state.store(ns), _spec(row, overrides))
    except EngineError as exc:
        db.put_record(
            ns,
            "cluster_run",
            row.id,
            run_id,
            {
                "run_id": run_id,
                "cluster_id": row.id,
                "status": "failed",
                "num_clusters": 0,
                "num_points": 0,
                "created_at": started,
                "completed_at": now_iso(),
                "error_message": exc.message,
                "mode": "full",
            },
        )
        db.put_record(ns, "task", row.id, task_id, {**task, "status": "FAILED", "error": exc.message})
        _update_cluster(state, ns, row.id, {"status": "FAILED", "error": exc.message})
        return
    run = {
        "run_id": run_id,
        "cluster_id": row.id,
        "status": "completed",
        "num_clusters": outcome["num_clusters"],
        "num_points": outcome["num_points"],
        "created_at": started,
        "completed_at": now_iso(),
        "metrics": outcome["metrics"],
        "centroids": _with_representatives(outcome["centroids"], outcome.get("members") or [], row.body),
        "members": outcome.get("members"),
        "mode": overrides.get("mode") or "full",
        "vectors_retrieved": outcome["num_points"],
        "vectors_clustered": outcome["num_points"],
    }
    db.put_record(ns, "cluster_run", row.id, run_id, run)
    _update_cluster(
        state,
        ns,
        row.id,
        {
            "status": "COMPLETED",
            "error": None,
            "last_run_id": run_id,
            "num_clusters": outcome["num_clusters"],
            "num_documents_clustered": outcome["num_points"],
            "quality_metrics": outcome["metrics"],
            "execution_time_seconds": outcome["execution_time_ms"] / 1000.0,
            "last_executed_at": started,
            "completed_at": run["completed_at"],
        },
    )
    db.put_record(
        ns,
        "task",
        row.id,
        task_id,
        {**task, "status": "COMPLETED", "outputs": [{"run_id": run_id, "num_clusters": outcome["num_clusters"]}]},
    )


def _update_cluster(state: LocalState, ns: str, cluster_id: str, fields: dict[str, Any]) -> None:
    row = state.db.get_by_id(ns, "cluster", cluster_id)
    if row is not None:  # deleted while running: nothing to update
        state.db.update(row, {**row.body, **fields})


@router.post("/clusters/{cluster_id}/execute")
def execute(
    cluster_id: str, state: State, ns: Namespace, body: Annotated[ExecuteClusterRequest | None, Body()] = None
) -> dict[str, Any]:
    row = find_by_id(state, ns, "cluster", cluster_id)
    overrides, warnings = read_body(state, body)
    if overrides.get("mode") in ("assign", "composite"):
        raise invalid(
            f"mode '{overrides['mode']}' is not supported by the local backend; use 'full'", code="unsupported"
        )
    task_id = new_id("task")
    run_id = new_id("run")
    task = {
        "task_id": task_id,
        "task_type": "engine_cluster_build",
        "status": "PENDING",
        "inputs": [{"cluster_id": row.id}],
        "outputs": None,
        "additional_data": {"cluster_id": row.id, "run_id": run_id},
        "error": None,
        "created_at": now_iso(),
        RUNNER_KEY: identity(),  # so a reader can tell when this process is gone (local/process.py)
    }
    state.db.put_record(ns, "task", row.id, task_id, task)
    _update_cluster(state, ns, row.id, {"status": "PROCESSING", "last_execution_task_id": task_id})
    thread = threading.Thread(
        target=_run_in_background,
        args=(state, ns, row, task_id, run_id, overrides),
        name=f"cluster-{run_id}",
        daemon=True,
    )
    state.threads[:] = [t for t in state.threads if t.is_alive()]
    state.threads.append(thread)
    thread.start()
    return with_warnings(task_view(task), warnings)


def _run_view(record: dict[str, Any], include_vectors: bool) -> dict[str, Any]:
    out = {k: v for k, v in record.items() if k != "members"}
    if not include_vectors:
        out["centroids"] = [
            {k: v for k, v in c.items() if k != "centroid_vector"} for c in record.get("centroids") or []
        ]
    return out


@router.get("/clusters/{cluster_id}/executions")
def latest_execution(
    cluster_id: str, state: State, ns: Namespace, include_vectors: bool = False
) -> dict[str, Any] | None:
    row = find_by_id(state, ns, "cluster", cluster_id)
    runs = state.db.list_records(ns, "cluster_run", row.id)
    return _run_view(runs[-1], include_vectors) if runs else None


@router.post("/clusters/{cluster_id}/executions/list")
def list_executions(
    cluster_id: str,
    state: State,
    ns: Namespace,
    page: Page,
    body: Annotated[ListRequest | None, Body()] = None,
) -> dict[str, Any]:
    row = find_by_id(state, ns, "cluster", cluster_id)
    runs = [_run_view(r, False) for r in reversed(state.db.list_records(ns, "cluster_run", row.id))]
    data = body.model_dump(exclude_none=True) if body else None
    if data:
        runs = sort_items(runs, data)
    return counted_page(paginate(runs, page.merged(data)))


@router.get("/clusters/{cluster_id}/executions/{run_id}")
def get_execution(
    cluster_id: str, run_id: str, state: State, ns: Namespace, include_vectors: bool = False
) -> dict[str, Any]:
    record = state.db.get_record(ns, "cluster_run", run_id)
    if record is None or record.get("cluster_id") != cluster_id:
        raise not_found("cluster execution", run_id)
    return _run_view(record, include_vectors)


@router.post("/clusters/execute")
def execute_adhoc(body: AdhocClusterRequest, state: State, ns: Namespace) -> dict[str, Any]:
    """Seed 003: synchronous clustering with an inline config; nothing but the run is stored."""
    warnings = check_extra(state, body)
    config = body.config.model_dump(exclude_none=True)  # undeclared keys only in lenient mode
    algorithm = config.get("algorithm") or config.get("clustering_method")
    if algorithm not in _METHODS:
        raise invalid(f"config.algorithm must be one of {', '.join(_METHODS)}", code="validation_error")
    missing = [c for c in body.collection_ids if state.db.get(ns, "collection", c) is None]
    if missing:
        raise missing_references({"collection_ids": missing})
    raw_feature = config.get("feature_vector")
    feature: dict[str, Any] = raw_feature if isinstance(raw_feature, dict) else {}
    uri = feature.get("feature_address") or feature.get("feature_uri") or feature.get("vector_name")
    if algorithm != "attribute_based" and not isinstance(uri, str):
        raise invalid("config.feature_vector needs vector_name or feature_address", code="validation_error")
    spec = ClusterSpec(
        collection_ids=[state.db.get(ns, "collection", c).id for c in body.collection_ids],  # type: ignore[union-attr]
        algorithm=algorithm,
        algorithm_params=dict(config.get("algorithm_params") or {}),
        feature_uris=[uri] if isinstance(uri, str) else [],
        attribute_config=config.get("attribute_config"),
        filters=None,
        sample_size=body.sample_size,
        normalize_features=bool(config.get("normalize_features", True)),
        include_members=body.include_members,
    )
    created = now_iso()
    outcome = run_clustering(state.store(ns), spec)
    run_id = new_id("run")
    vector_name = outcome.get("vector_name")
    centroids = [
        {
            "cluster_id": f"cluster_{i + 1:03d}",
            "centroid_vector": c.get("centroid_vector") or [],
            "num_members": c["num_members"],
            "feature_dimensions": len(c.get("centroid_vector") or []),
            "vector_name": vector_name,
            "label": c.get("label"),
        }
        for i, c in enumerate(outcome["centroids"])
    ]
    metrics = dict(outcome["metrics"]) if body.compute_metrics else None
    if metrics is not None:
        metrics["davies_bouldin_score"] = metrics.get("davies_bouldin_index")
    response: dict[str, Any] = {
        "success": True,
        "algorithm": algorithm,
        "num_clusters": outcome["num_clusters"],
        "num_documents": outcome["num_points"],
        "centroids": centroids,
        "execution_time_ms": int(outcome["execution_time_ms"]),
        "run_id": run_id,
        "metrics": metrics,
        "parquet_path": None,
        "members_key": None,
        "created_at": created,
    }
    if body.include_members:
        response["members"] = outcome.get("members") or []
    if body.store_results:
        state.db.put_record(ns, "adhoc_cluster_run", "", run_id, response)
    return with_warnings(response, warnings)
