"""The in-process transport (``target: local``) and the ``serve`` command's entry checks."""

from __future__ import annotations

from pathlib import Path

import httpx
from click.testing import CliRunner
from tests.local.conftest import NAMESPACE

from mixops.cli.serve import serve
from mixops.local.inprocess import local_transport


async def test_local_transport_ensures_namespace_and_seeds(db_path: Path, seed_file: Path) -> None:
    transport = local_transport(db_path, "dev", seed_files=[seed_file], api_key="sk_dev")
    headers = {"Authorization": "Bearer sk_dev", "X-Namespace": "dev"}
    async with httpx.AsyncClient(transport=transport, base_url="http://local", headers=headers) as client:
        cols = (await client.get("/v1/collections")).json()
        assert {c["collection_name"] for c in cols["results"]} == {"my_collection", "products_v1", "products_v2"}
        wrong = await client.get("/v1/collections", headers={"Authorization": "Bearer other"})
        assert wrong.status_code == 401
    assert NAMESPACE != "dev"


def test_serve_reports_a_bad_seed_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("collections: [\n", encoding="utf-8")
    result = CliRunner().invoke(serve, ["--db", str(tmp_path / "x.db"), "--seed", str(bad)])
    assert result.exit_code == 1
    assert "bad.yaml" in result.output and "YAML" in result.output
