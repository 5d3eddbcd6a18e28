"""Export round trips for every kind; drift reports out-of-band edits only."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from tests.envs.conftest import Server, cli_env, make_project

from mixops.cli.main import cli
from mixops.core.plan import PlanOptions
from mixops.local.inprocess import local_transport
from mixops.ports.export import export_env
from mixops.ports.project import Project, load_project
from mixops.ports.reconcile import plan_and_apply

SECRET = "tok-3f9a1c"


async def run_cli(root: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    runner = CliRunner()
    return await asyncio.to_thread(runner.invoke, cli, ["-C", str(root), *args], env={**cli_env(), **(env or {})})


def with_secret(project_root: Path) -> None:
    """Give product_search a secret-looking metadata value, from the environment as a user would."""
    path = project_root / "manifests" / "retrievers.yaml"
    text = path.read_text(encoding="utf-8")
    marker = "    tags: [storefront, search]\n"
    assert marker in text
    path.write_text(
        text.replace(marker, marker + '    metadata: {owner: search-team, api_token: "${{ env.SEARCH_TOKEN }}"}\n', 1),
        encoding="utf-8",
    )


@pytest.mark.parametrize("layout", ["per-kind", "per-resource"])
async def test_export_round_trips_every_kind(
    tmp_path: Path, server: Server, layout: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEARCH_TOKEN", SECRET)
    ns = "cat-export"
    source = make_project(tmp_path / "src", server, {"live": {"namespace": ns}})
    with_secret(source)
    project = load_project(source, local_backend=local_transport)
    await plan_and_apply(project, "live", PlanOptions(adopt=True), apply=True)

    # A fresh project holding only what export wrote; same stack, same namespace.
    dest = make_project(tmp_path / "dest", server, {"live": {"namespace": ns}}, copy_manifests=False)
    exported = await export_env(
        load_project(dest, local_backend=local_transport), "live", dest / "manifests", layout=layout
    )  # type: ignore[arg-type]
    assert exported.exported == {"collection": 4, "application": 1, "retriever": 5, "taxonomy": 2, "cluster": 2}
    texts = {f.path: f.text for f in exported.files}
    assert all(t.startswith("# yaml-language-server: $schema=") for t in texts.values())
    everything = "\n".join(texts.values())
    assert "ret_" not in everything and "col_" not in everything and "tax_" not in everything  # names, never ids
    assert "managed_by" not in everything and "mixops_digest" not in everything
    assert SECRET not in everything
    assert [v.name for v in exported.variables] == ["PRODUCT_SEARCH_API_TOKEN"]
    assert "${{ env.PRODUCT_SEARCH_API_TOKEN }}" in everything
    # Defaults the API fills are left out (cluster_type: vector is the default).
    assert "multi_feature_strategy" not in everything
    if layout == "per-resource":
        assert "taxonomies/product_tags.yaml" in texts

    monkeypatch.setenv("PRODUCT_SEARCH_API_TOKEN", SECRET)
    planned, _ = await plan_and_apply(load_project(dest, local_backend=local_transport), "live", PlanOptions())
    counts = planned.plan.counts()
    assert counts["noop"] == 14 and not planned.plan.has_changes, [s.changes for s in planned.plan.changes]
    assert {s.kind for s in planned.plan.steps} == {"collection", "application", "retriever", "taxonomy", "cluster"}


async def test_export_skips_unowned_unless_all(tmp_path: Path, server: Server) -> None:
    import httpx

    ns = "cat-export"
    dest = make_project(tmp_path, server, {"live": {"namespace": ns}})
    await plan_and_apply(load_project(dest, local_backend=local_transport), "live", PlanOptions(), apply=True)
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.key}", "X-Namespace": ns}) as c:
        rid = c.get("/v1/retrievers/tag_matcher").json()["retriever_id"]
        cid = c.get("/v1/collections/tag_catalog").json()["collection_id"]
        made = c.post(
            "/v1/taxonomies",
            json={
                "taxonomy_name": "hand_made",
                "config": {
                    "taxonomy_type": "flat",
                    "retriever_id": rid,
                    "input_mappings": [{"input_key": "query", "source_type": "payload", "path": "title"}],
                    "source_collection": {"collection_id": cid},
                },
            },
        )
        assert made.status_code == 200, made.text
    owned = await run_cli(dest, "export", "--env", "live", "-o", str(dest / "owned"))
    assert owned.exit_code == 0, owned.output
    assert "hand_made" not in (dest / "owned" / "taxonomies.yaml").read_text(encoding="utf-8")
    assert "not owned by this stack" in owned.output
    everything = await run_cli(dest, "export", "--env", "live", "-o", str(dest / "all"), "--all")
    assert everything.exit_code == 0, everything.output
    assert "name: hand_made" in (dest / "all" / "taxonomies.yaml").read_text(encoding="utf-8")


async def test_drift_reports_out_of_band_edits_not_git_edits(tmp_path: Path, server: Server) -> None:
    import httpx

    ns = "cat-drift"
    root = make_project(tmp_path, server, {"live": {"namespace": ns}})
    project: Project = load_project(root, local_backend=local_transport)
    await plan_and_apply(project, "live", PlanOptions(), apply=True)

    clean = await run_cli(root, "drift", "--env", "live")
    assert clean.exit_code == 0, clean.output
    assert "No drift" in clean.output

    # Only in git: a new description for hybrid_product_search. Plan sees it; drift must not.
    path = root / "manifests" / "retrievers.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "Product search refined by a style phrase", "Refined product search", 1
        ),
        encoding="utf-8",
    )
    git_only = await run_cli(root, "drift", "--env", "live")
    assert git_only.exit_code == 0, git_only.output

    # Out of band: someone PATCHes product_search's description through the API.
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.key}", "X-Namespace": ns}) as c:
        rid = next(
            r["retriever_id"]
            for r in c.get("/v1/retrievers").json()["results"]
            if r["retriever_name"] == "product_search"
        )
        schema = c.get(f"/v1/retrievers/{rid}").json()["input_schema"]
        schema["locale"] = {"type": "text", "required": False}  # a new optional input: absent from git
        edit = {"description": "edited in the console", "input_schema": schema}
        assert c.patch(f"/v1/retrievers/{rid}", json=edit).status_code == 200
    drifted = await run_cli(root, "drift", "--env", "live")
    assert drifted.exit_code == 2, drifted.output
    assert "product_search" in drifted.output and "edited in the console" in drifted.output
    assert "hybrid_product_search" not in drifted.output
    # Values read as in the plan (JSON), not as Python reprs ('text', True).
    assert '      input_schema.locale: (unset) -> {"required": false, "type": "text"}' in drifted.output, drifted.output
    assert '-> "edited in the console"' in drifted.output, drifted.output
    # the hint names the environment it needs (issue 13 item 7) and the project directory given with -C
    assert f"Run `mixops -C {root.as_posix()} apply --env live` to restore the manifests" in drifted.output
    as_json = await run_cli(root, "drift", "--env", "live", "--format", "json")
    data = json.loads(as_json.output)
    assert as_json.exit_code == 2 and data["drifted"] is True
    [item] = data["items"]
    changes = {c["path"]: c for c in item["changes"]}
    assert item["name"] == "product_search" and changes["description"]["live"] == "edited in the console"
    assert changes["input_schema.locale"]["written"] == "(unset)", "one spelling in text and JSON"

    # Applying restores the manifests: no drift left.
    await plan_and_apply(load_project(root, local_backend=local_transport), "live", PlanOptions(), apply=True)
    after = await run_cli(root, "drift", "--env", "live")
    assert after.exit_code == 0, after.output
