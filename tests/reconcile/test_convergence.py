"""Plans converge: after an apply, the next plan shows no changes.

Each test applies a copy of the catalog example, changes the manifests in one
way that used to leave a change behind forever (a removed optional field, an
omitted stage_type, defaults the API echoes, a field mixops does not model),
applies again and asserts the namespace equals the manifests. The SDK-shaped
cases feed rows as the real API returns them (output-model defaults filled)
into the pure plan builder.
"""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from tests.reconcile.conftest import actions, api, apply, assert_converged, edit, live_rows, plan, resource

from mixops.core.bodies import patch_body
from mixops.core.normalise import normalise, normalise_report
from mixops.core.plan import PlanOptions, build_plan
from mixops.core.surfaces import removal_forces_replace
from mixops.local.inprocess import local_transport
from mixops.ports.live_reader import build_live_state
from mixops.ports.project import load_project, load_stack
from mixops.ports.target import describe


@pytest.fixture
async def applied(project_dir: Path) -> Path:
    _, report = await apply(project_dir)
    assert report is not None and not report.failed
    return project_dir


def on(kind_list: str, name: str, change: Any) -> Any:
    return lambda data: change(resource(data, kind_list, name))


async def set_then_remove(root: Path, file: str, kind_list: str, name: str, key: str, value: Any) -> None:
    """Apply `key: value` on one resource, then remove the key again; both must converge."""
    edit(root, file, on(kind_list, name, lambda r: r.__setitem__(key, value)))
    await apply(root)
    await assert_converged(root)
    edit(root, file, on(kind_list, name, lambda r: r.pop(key)))
    p = await plan(root)
    assert p.has_changes, f"removing {key} planned nothing"
    await apply(root)
    await assert_converged(root)


# --- finding 1: removing an optional field ------------------------------------------


async def test_removing_a_retriever_description_clears_it(applied: Path) -> None:
    edit(applied, "retrievers.yaml", on("retrievers", "product_search", lambda r: r.pop("description")))
    assert actions(await plan(applied)) == {("retriever", "product_search"): "update"}
    await apply(applied)
    await assert_converged(applied)
    async with api(applied) as client:
        row = next(r for r in await client.list_retrievers() if r["retriever_name"] == "product_search")
    assert not row.get("description")


async def test_removing_a_taxonomy_description_clears_it(applied: Path) -> None:
    edit(applied, "taxonomies.yaml", on("taxonomies", "product_tags", lambda r: r.pop("description")))
    assert actions(await plan(applied)) == {("taxonomy", "product_tags"): "update"}
    await apply(applied)
    await assert_converged(applied)


async def test_removing_a_retriever_visibility_resets_it(applied: Path) -> None:
    await set_then_remove(applied, "retrievers.yaml", "retrievers", "product_search", "visibility", "public")


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("description", "temporary words"),
        ("filters", {"AND": [{"field": "in_stock", "operator": "eq", "value": True}]}),
        (
            "llm_labeling",
            {"enabled": True, "provider": "openai", "model_name": "gpt-4o-mini", "include_summary": False},
        ),
    ],
)
async def test_removing_an_optional_cluster_field_converges(applied: Path, key: str, value: Any) -> None:
    await set_then_remove(applied, "clusters.yaml", "clusters", "brand_groups", key, value)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("face_cluster_merge", {"centroid_cosine_threshold": 0.6}),
        ("layout_stability", "transform"),
        ("algorithm_params", {"n_clusters": 4}),
    ],
)
async def test_removing_an_in_place_vector_field_converges(applied: Path, key: str, value: Any) -> None:
    def put(c: dict[str, Any]) -> None:
        c["vector_config"][key] = value

    def drop(c: dict[str, Any]) -> None:
        c["vector_config"].pop(key)

    edit(applied, "clusters.yaml", on("clusters", "product_groups", put))
    await apply(applied)
    await assert_converged(applied)
    edit(applied, "clusters.yaml", on("clusters", "product_groups", drop))
    assert actions(await plan(applied)) == {("cluster", "product_groups"): "update"}
    await apply(applied)
    await assert_converged(applied)


async def test_disabled_llm_labeling_means_the_same_as_none(applied: Path) -> None:
    edit(applied, "clusters.yaml", on("clusters", "brand_groups", lambda r: r.update(llm_labeling={"enabled": False})))
    assert not (await plan(applied)).has_changes
    edit(applied, "clusters.yaml", on("clusters", "product_groups", lambda r: r.pop("llm_labeling")))
    assert not (await plan(applied)).has_changes


def test_fields_the_api_cannot_clear_are_named() -> None:
    assert removal_forces_replace("cluster", ("vector_config", "sample_size"))
    assert removal_forces_replace("retriever", ("display_config",))
    assert not removal_forces_replace("retriever", ("description",))
    assert not removal_forces_replace("cluster", ("vector_config", "face_cluster_merge"))
    assert not removal_forces_replace("retriever", ("display_config", "title"))  # a nested edit patches


async def test_removing_a_sample_size_forces_replacement(applied: Path) -> None:
    edit(
        applied, "clusters.yaml", on("clusters", "product_groups", lambda c: c["vector_config"].update(sample_size=50))
    )
    await apply(applied)
    edit(applied, "clusters.yaml", on("clusters", "product_groups", lambda c: c["vector_config"].pop("sample_size")))
    assert actions(await plan(applied)) == {("cluster", "product_groups"): "replace"}


# --- finding 2: stage_type inferred from stage_id ---------------------------------------


def _drop_stage_types(r: dict[str, Any]) -> None:
    for stage in r["stages"]:
        stage.pop("stage_type", None)


async def test_omitted_stage_type_converges(applied: Path) -> None:
    edit(applied, "retrievers.yaml", on("retrievers", "product_search", _drop_stage_types))
    assert not (await plan(applied)).has_changes


async def test_omitted_stage_type_converges_from_an_empty_namespace(project_dir: Path) -> None:
    edit(project_dir, "retrievers.yaml", lambda data: [_drop_stage_types(r) for r in data["retrievers"]])
    await apply(project_dir)
    await assert_converged(project_dir)


def test_stage_type_is_filled_from_the_catalog_on_both_sides() -> None:
    spec = {"name": "r", "stages": [{"stage_name": "s", "config": {"stage_id": "sort_relevance"}}]}
    assert normalise("retriever", spec)["stages"][0]["stage_type"] == "sort"


# --- finding 3: defaults the real API echoes ---------------------------------------------

SDK_LABELING = {
    "enabled": False, "include_summary": True, "include_keywords": True, "sample_text_max_length": 200,
    "sample_selection_strategy": "nearest", "use_embedding_dedup": True, "embedding_similarity_threshold": 0.8,
    "cache_ttl_seconds": 604800,
}  # fmt: skip
SDK_HIERARCHICAL = {"llm_sample_size": 0, "cluster_overlap_threshold": 0.7, "path_separator": "/"}


def _plan_rows(root: Path, rows: dict[str, list[dict[str, Any]]], collections: list[dict[str, Any]]) -> Any:
    project = load_project(root, local_backend=local_transport)
    stack = load_stack(project, project.env_name(None))
    namespace = describe(project, project.env_name(None)).namespace
    return build_plan(
        stack, build_live_state(namespace, rows, collections), PlanOptions(), now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    )


async def test_sdk_output_defaults_show_no_changes(applied: Path) -> None:
    rows, collections = await live_rows(applied)
    for row in rows["cluster"]:
        row["llm_labeling"] = {**SDK_LABELING, **(row.get("llm_labeling") or {})}
    for row in rows["taxonomy"]:
        if row["config"]["taxonomy_type"] == "hierarchical":
            row["config"] = {**SDK_HIERARCHICAL, **row["config"]}
        else:
            row["config"] = {"top_k": 1, **row["config"]}
    for row in rows["retriever"]:
        for stage in row["stages"]:
            stage.setdefault("on_error", "error")
        for field in (row.get("input_schema") or {}).values():
            field.setdefault("required", False)
    p = _plan_rows(applied, rows, collections)
    assert not p.has_changes, [(s.kind, s.name, s.changes) for s in p.changes]


async def test_local_backend_echoes_the_sdk_output_defaults(applied: Path) -> None:
    rows, _ = await live_rows(applied)
    hierarchy = next(r for r in rows["taxonomy"] if r["taxonomy_name"] == "product_hierarchy")
    assert {k: hierarchy["config"].get(k) for k in SDK_HIERARCHICAL} == SDK_HIERARCHICAL
    groups = next(r for r in rows["cluster"] if r["cluster_name"] == "product_groups")
    assert groups["llm_labeling"] == SDK_LABELING


# --- finding 4: a field mixops does not model ---------------------------------------------


async def test_an_unknown_live_field_is_dropped_not_compared_raw(applied: Path) -> None:
    rows, collections = await live_rows(applied)
    search = next(r for r in rows["retriever"] if r["retriever_name"] == "product_search")
    search["stages"][0]["config"]["parameters"]["searches"][0]["some_new_server_field"] = True
    p = _plan_rows(applied, rows, collections)
    assert not p.has_changes, [(s.kind, s.name, s.changes) for s in p.changes]


def test_normalise_reports_the_fields_it_dropped() -> None:
    spec = {
        "name": "r",
        "future_top_level": 1,
        "stages": [{"stage_name": "s", "config": {"stage_id": "sort_relevance", "parameters": {"new_knob": 2}}}],
    }
    out, dropped = normalise_report("retriever", spec)
    assert sorted(dropped) == ["future_top_level", "stages[0].config.parameters.new_knob"]
    assert out["stages"][0]["stage_type"] == "sort" and "future_top_level" not in out


# --- finding 5: patch only what changed ------------------------------------------------------


def _to_id(kind: str, name: str) -> str:
    return f"id_{name}"


def test_patch_body_sends_only_the_changed_keys() -> None:
    spec = {
        "name": "r", "description": "d", "collection_identifiers": ["products"], "tags": ["a"],
        "stages": [{"stage_name": "s", "config": {"stage_id": "sort_relevance"}}],
        "input_schema": {"query": {"type": "text"}},
    }  # fmt: skip
    body = patch_body("retriever", spec, "catalog", _to_id, None, changed={"description"})
    assert set(body) == {"description", "metadata"}
    full = patch_body("retriever", copy.deepcopy(spec), "catalog", _to_id)
    assert {"stages", "input_schema", "tags", "description"} <= set(full)


async def test_description_change_on_a_published_retriever_applies(applied: Path) -> None:
    async with api(applied) as client:
        ret = await client.request("GET", "/v1/retrievers/tag_matcher")
        await client.request("POST", f"/v1/retrievers/{ret['retriever_id']}/publish", json={})
    edit(applied, "retrievers.yaml", on("retrievers", "tag_matcher", lambda r: r.update(description="new words")))
    _, report = await apply(applied)
    assert report is not None and not report.failed
    await assert_converged(applied)
