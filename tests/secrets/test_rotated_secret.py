"""Finding 6: a rotated `${{ env.X }}` secret's OLD value never prints.

Masking by the current value cannot recognise the old one still live, so
output masks by path: wherever the manifests fill a value from the environment.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from tests.secrets.conftest import invoke

from mixops.local.inprocess import local_transport
from mixops.ports.project import load_project
from mixops.ports.target import connect

OLD = "sekret-AAAA1111"
NEW = "sekret-ZZZZ9999"


def _use_secret(project: Path) -> None:
    manifest = project / "manifests" / "retrievers.yaml"
    manifest.write_text(
        manifest.read_text().replace(
            "description: Semantic product search for the storefront search box.",
            'description: "uses key ${{ env.MY_KEY }}"',
            1,
        )
    )


async def _edit_out_of_band(project: Path) -> None:
    """Someone changes another field of the retriever by hand: drift then compares every field."""
    async with connect(load_project(project, local_backend=local_transport), "local") as client:
        live = {r["retriever_name"]: r for r in await client.list_retrievers()}
        await client.patch_retriever(live["product_search"]["retriever_id"], {"tags": ["edited-by-hand"]})


def test_old_secret_value_is_masked_after_rotation(catalog: Path, tmp_path: Path) -> None:
    _use_secret(catalog)
    applied = invoke(catalog, {"MY_KEY": OLD}, "apply", "--no-tests", "--auto-approve")
    assert "product_search" in applied
    asyncio.run(_edit_out_of_band(catalog))

    rotated = {"MY_KEY": NEW}
    text = invoke(catalog, rotated, "plan", "--no-tests")
    as_json = invoke(catalog, rotated, "plan", "--no-tests", "--format", "json")
    markdown = invoke(catalog, rotated, "plan", "--no-tests", "--format", "markdown")
    drift = invoke(catalog, rotated, "drift") + invoke(catalog, rotated, "drift", "--format", "json")
    out_dir = tmp_path / "exported"
    export = invoke(catalog, rotated, "export", "-o", str(out_dir))
    exported = "\n".join(p.read_text() for p in sorted(out_dir.rglob("*.yaml")))

    # The rotation is still a change the plan shows (and apply will make), just masked.
    assert "description" in text
    step = next(s for s in json.loads(as_json)["steps"] if s["name"] == "product_search")
    change = next(c for c in step["changes"] if c["path"] == "description")
    assert change["old"] == "uses key ***"
    assert change["new"] == "uses key ***"
    assert "description" in drift
    # Export writes the placeholder back where the manifests have one.
    assert "uses key ${{ env.MY_KEY }}" in exported
    for output in (text, as_json, markdown, drift, export, exported):
        assert OLD not in output
        assert NEW not in output
