"""Property: what the plan announces is what apply does, and apply meets no refusal.

Hypothesis draws rounds of manifest edits of every kind (retriever, taxonomy and
cluster fields of each update surface: in place, new version, replacement; plus a
retriever published by hand, whose stages are then frozen). Each round plans,
applies, and compares the plan's action per resource with the action the requests
apply sent amount to; any 4xx apply meets is a refusal the plan did not predict.
The target is the embedded local backend, which refuses what the API refuses.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from tests.reconcile.conftest import actions, api, apply, assert_converged, copy_example, edit, live, plan, resource

from mixops.core.live import TEMP_SUFFIX
from mixops.errors import ApiError
from mixops.ports.apply import Applier
from mixops.ports.client import MixpeekClient

KIND_OF = {"retrievers": "retriever", "taxonomies": "taxonomy", "clusters": "cluster"}
# A resource's requests amount to the highest-ranked action among them (a replacement
# also deletes the old copy; a new version also patches the metadata).
RANK = {"update": 1, "version": 2, "create": 3, "delete": 4, "replace": 5}


@dataclass(frozen=True)
class Edit:
    label: str  # what the edit is, for a failing example's report
    file: str
    section: str
    name: str
    change: Callable[[dict[str, Any], int], None]


def _set(path: tuple[str | int, ...], value: Callable[[int], Any]) -> Callable[[dict[str, Any], int], None]:
    def change(res: dict[str, Any], v: int) -> None:
        node: Any = res
        for p in path[:-1]:
            node = node.setdefault(p, {}) if isinstance(p, str) else node[p]
        node[path[-1]] = value(v)

    return change


def _add_input(required: bool, default: bool) -> Callable[[dict[str, Any], int], None]:
    def change(res: dict[str, Any], v: int) -> None:
        field: dict[str, Any] = {"type": "text", "required": required}
        if default:
            field["default"] = f"d{v}"
        res["input_schema"][f"extra_{v % 3}"] = field

    return change


def _drop_extra_input(res: dict[str, Any], v: int) -> None:
    extras = sorted(k for k in res["input_schema"] if k.startswith("extra_"))
    if extras:
        res["input_schema"].pop(extras[v % len(extras)])


def _toggle(path: tuple[str, ...]) -> Callable[[dict[str, Any], int], None]:
    def change(res: dict[str, Any], v: int) -> None:
        node = res
        for p in path[:-1]:
            node = node[p]
        node[path[-1]] = not node.get(path[-1], False)

    return change


R, T, C = "retrievers.yaml", "taxonomies.yaml", "clusters.yaml"
EDITS = [
    # retrievers: in place
    Edit("retriever description", R, "retrievers", "product_search", _set(("description",), lambda v: f"edit {v}")),
    Edit("retriever tags", R, "retrievers", "tag_matcher", _set(("tags",), lambda v: ["taxonomy", f"t{v}"])),
    Edit("retriever metadata", R, "retrievers", "product_search", _set(("metadata",), lambda v: {"team": f"t{v}"})),
    Edit(
        "retriever stage top_k",
        R,
        "retrievers",
        "product_search",
        _set(("stages", 0, "config", "parameters", "searches", 0, "top_k"), lambda v: 20 + v),
    ),
    Edit("new optional input", R, "retrievers", "product_search", _add_input(False, False)),
    Edit("new optional input with a default", R, "retrievers", "tag_matcher", _add_input(False, True)),
    Edit(
        "input description",
        R,
        "retrievers",
        "product_search",
        _set(("input_schema", "query", "description"), lambda v: f"typed {v}"),
    ),
    # retrievers: replacement
    Edit(
        "retriever budget_limits",
        R,
        "retrievers",
        "tag_matcher",
        _set(("budget_limits",), lambda v: {"max_credits": 5 + v, "max_time_ms": 5000}),
    ),
    # (required inputs get a default here: the manifests' tests send no value for them)
    Edit("new required input", R, "retrievers", "product_search", _add_input(True, True)),
    Edit("new required input with a default", R, "retrievers", "tag_matcher", _add_input(True, True)),
    Edit("an input removed", R, "retrievers", "product_search", _drop_extra_input),
    Edit(
        "an optional input made required",
        R,
        "retrievers",
        "hybrid_product_search",
        _toggle(("input_schema", "max_price", "required")),
    ),
    Edit(
        "input type changed",
        R,
        "retrievers",
        "tag_matcher",
        _set(("input_schema", "query", "type"), lambda v: ("string", "text")[v % 2]),
    ),
    # taxonomies: in place, new version
    Edit("taxonomy description", T, "taxonomies", "product_tags", _set(("description",), lambda v: f"tags {v}")),
    Edit("taxonomy metadata", T, "taxonomies", "product_hierarchy", _set(("metadata",), lambda v: {"v": str(v)})),
    Edit("taxonomy config top_k", T, "taxonomies", "product_tags", _set(("config", "top_k"), lambda v: 1 + v % 4)),
    Edit(
        "taxonomy node label",
        T,
        "taxonomies",
        "product_hierarchy",
        _set(("config", "hierarchical_nodes", 0, "label"), lambda v: f"Dept {v}"),
    ),
    # clusters: in place, replacement
    Edit("cluster description", C, "clusters", "product_groups", _set(("description",), lambda v: f"groups {v}")),
    Edit(
        "cluster n_clusters",
        C,
        "clusters",
        "product_groups",
        _set(("vector_config", "algorithm_params", "n_clusters"), lambda v: 3 + v % 4),
    ),
    Edit(
        "cluster sample_size",
        C,
        "clusters",
        "product_groups",
        _set(("vector_config", "sample_size"), lambda v: 500 + v),
    ),
    Edit(
        "attribute cluster order",
        C,
        "clusters",
        "brand_groups",
        _set(("attribute_config", "attributes"), lambda v: [["brand", "department"], ["department", "brand"]][v % 2]),
    ),
    Edit(
        "attribute cluster grouping",
        C,
        "clusters",
        "brand_groups",
        _toggle(("attribute_config", "hierarchical_grouping")),
    ),
]
PUBLISH = "publish product_search by hand"  # out of band: its stages are frozen from now on

edits = st.tuples(st.sampled_from([*(e.label for e in EDITS), PUBLISH]), st.integers(0, 11))
rounds = st.lists(st.lists(edits, min_size=1, max_size=3), min_size=1, max_size=3)


@contextmanager
def recorded(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, str, Any, int]]]:
    """(method, path, body, status) of every request apply's walk sends; 0: it succeeded."""
    sent: list[tuple[str, str, Any, int]] = []
    walking = False
    original_request = MixpeekClient.request
    original_run = Applier.run

    async def request(self: MixpeekClient, method: str, path: str, **kw: Any) -> Any:
        try:
            out = await original_request(self, method, path, **kw)
        except ApiError as err:
            if walking:
                sent.append((method, path, kw.get("json"), err.status))
            raise
        if walking:
            sent.append((method, path, kw.get("json"), 0))
        return out

    async def run(self: Applier, plan: Any) -> Any:
        nonlocal walking
        walking = True
        try:
            return await original_run(self, plan)
        finally:
            walking = False

    with monkeypatch.context() as m:
        m.setattr(MixpeekClient, "request", request)
        m.setattr(Applier, "run", run)
        yield sent


# A collection PATCH carrying one of these lists attaches, changes or detaches application entries.
APPLICATION_LISTS = {
    "taxonomy_applications": ("taxonomy", "taxonomy_id"),
    "cluster_applications": ("cluster", "cluster_id"),
    "retriever_enrichments": ("retriever", "retriever_id"),
}


def performed(
    sent: list[tuple[str, str, Any, int]], ids: dict[str, tuple[str, str]], names: dict[str, str]
) -> dict[tuple[str, str], str]:
    """The action per resource that the requests amount to (`ids`: live id -> key before apply,
    application entries included as `<collection id>/<type>/<applied id>`; `names`: id -> name
    after apply, for entries naming a resource apply created)."""
    out: dict[tuple[str, str], str] = {}

    def note(key: tuple[str, str], action: str) -> None:
        if RANK[action] > RANK.get(out.get(key, ""), 0):
            out[key] = action

    def entries_patched(collection_id: str, body: dict[str, Any]) -> None:
        collection = names[collection_id]
        for list_key, (app_type, target_key) in APPLICATION_LISTS.items():
            if list_key not in body:
                continue
            prefix = f"{collection_id}/{app_type}/"
            was = {i.removeprefix(prefix) for i in ids if i.startswith(prefix)}
            now = {str(e[target_key]) for e in body[list_key]}
            added = {("application", f"{collection}/{app_type}/{names[t]}") for t in now - was}
            for key in added:
                note(key, "update" if key in ids.values() else "create")
            for target in was - now:
                if ids[prefix + target] not in added:
                    note(ids[prefix + target], "delete")

    for method, path, body, _ in sent:
        parts = path.strip("/").split("/")[1:]  # without "v1"
        if parts[0] == "collections" and method == "PATCH" and len(parts) == 2:
            entries_patched(parts[1], body)
            continue
        kind = KIND_OF.get(parts[0])
        if kind is None:
            continue
        if method == "POST" and len(parts) == 1:
            name = str(body[f"{kind}_name"])
            if name.endswith(TEMP_SUFFIX):
                note((kind, name.removesuffix(TEMP_SUFFIX)), "replace")
            else:
                note((kind, name), "create")
        elif len(parts) > 1 and parts[1] in ids:
            key = ids[parts[1]]
            if method == "DELETE":
                note(key, "delete")
            elif method == "POST" and parts[2:] == ["versions"]:
                note(key, "version")
            elif method == "PATCH" and len(parts) == 2:
                note(key, "update")
    return out


async def _round(root: Path, batch: list[tuple[str, int]], monkeypatch: pytest.MonkeyPatch) -> None:
    by_label = {e.label: e for e in EDITS}
    for label, v in batch:
        if label == PUBLISH:
            state = await live(root)
            async with api(root) as client:
                rid = state.resources[("retriever", "product_search")].id
                await client.request("POST", f"/v1/retrievers/{rid}/publish")
            continue
        e = by_label[label]

        def change(data: dict[str, Any], e: Edit = e, v: int = v) -> None:
            e.change(resource(data, e.section, e.name), v)

        edit(root, e.file, change)
    announced = await plan(root)
    before = await live(root)
    ids = {r.id: key for key, r in before.resources.items()}
    with recorded(monkeypatch) as sent:
        executed, report = await apply(root)
    refused = [(m, p, status) for m, p, _, status in sent if 400 <= status < 500]
    assert not refused, f"apply met refusals the plan did not predict: {refused}"
    assert report is None or not report.failed
    assert actions(executed) == actions(announced)
    after = await assert_converged(root)
    names = {r.id: name for (_, name), r in [*before.resources.items(), *after.resources.items()]}
    assert performed(sent, ids, names) == actions(announced)


# No shrinking: every example applies the catalog from scratch, and a shrink of a failing
# one took many minutes. The failing example is printed as it was drawn.
@settings(
    max_examples=6,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rounds=rounds)
@example(rounds=[[("new required input with a default", 0)]])  # plan said update, the API refused it
@example(rounds=[[(PUBLISH, 0), ("retriever stage top_k", 0), ("retriever stage top_k", 1)]])
def test_plan_announces_what_apply_performs(
    rounds: list[list[tuple[str, int]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = copy_example(Path(tmp) / "catalog")

        async def scenario() -> None:
            await apply(root)
            for batch in rounds:
                await _round(root, batch, monkeypatch)

        asyncio.run(scenario())


# The same property on an API without taxonomy versions (the local backend configured to lack
# the routes): every taxonomy config change, a re-pointed one included, is then a replacement.
@settings(
    max_examples=3,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rounds=rounds)
@example(rounds=[[("taxonomy config top_k", 0), ("taxonomy node label", 1)]])
@example(rounds=[[("retriever budget_limits", 0)], [("taxonomy config top_k", 2), ("taxonomy description", 0)]])
def test_plan_announces_what_apply_performs_without_taxonomy_versions(
    rounds: list[list[tuple[str, int]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from mixops.local.app import VERSIONS_ENV

    monkeypatch.setenv(VERSIONS_ENV, "off")
    test_plan_announces_what_apply_performs.hypothesis.inner_test(rounds, monkeypatch)  # type: ignore[attr-defined]
