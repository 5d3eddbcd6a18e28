"""Property-based requests over the OpenAPI document: whatever they send, never a 500."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, settings
from tests.local.conftest import NAMESPACE, seed_data

from mixops.local.app import create_app

_TMP = Path(__import__("tempfile").mkdtemp(prefix="mixops-fuzz-"))
_SEED = _TMP / "seed.yaml"
_SEED.write_text(yaml.safe_dump(seed_data()), encoding="utf-8")
APP = create_app(_TMP / "fuzz.db", seed_files=[_SEED], seed_namespace=NAMESPACE)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)
HEADERS = {"Authorization": "Bearer sk_fuzz", "X-Namespace": NAMESPACE}


@pytest.fixture(scope="module", autouse=True)
def _close_app() -> Iterator[None]:
    yield
    APP.state.local.close()


@schema.parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case: schemathesis.Case) -> None:
    response = case.call(headers=HEADERS)
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text[:500]}"
    if response.status_code >= 400:
        body = response.json()
        assert body["success"] is False and body["status"] == response.status_code
