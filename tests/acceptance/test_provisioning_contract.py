"""The bodies the suite sends to a real API to make its data fit the SDK's request models.

They are never sent in CI (it runs against `mixops serve`), so the contract gate's
recorder never sees them: checked here, with the same judge (tests/contract).
The local backend gets `source: {type: none}` instead of a bucket: it has no
buckets, and the README lists that difference.
"""

from __future__ import annotations

from typing import Any

import pytest
from tests.acceptance.conftest import COLLECTIONS, bucket_body, collection_body, namespace_body
from tests.contract.checks import body_problems
from tests.contract.recorder import Call

pytestmark = pytest.mark.acceptance


# Documents carry their fields at the root, as DocumentCreateRequest allows (its OpenAPI
# schema has additionalProperties: true; mixpeek-api.md 3.5), and as the manifests read
# them (`path: title`). The contract gate's judge holds such models strict all the same
# (tests/contract/sdk_contract.py). Which reading the API takes after 2026-11-02 no
# document settles; until it is settled the assertion stays, expected to fail.
ROOT_FIELDS = pytest.mark.xfail(
    strict=True,
    reason="contract judge refuses root user fields that DocumentCreateRequest declares allowed "
    "(additionalProperties: true): unsettled, reported to the lead",
)


def _real_api_calls() -> list[Any]:
    calls: list[Any] = [("POST", "/v1/namespaces", namespace_body("mixops-acc-0000-a", real=True))]
    for name, docs in COLLECTIONS:
        calls.append(("POST", "/v1/buckets", bucket_body(name)))
        source = {"type": "bucket", "bucket_ids": ["bkt_0000000000"]}
        calls.append(("POST", "/v1/collections", collection_body(name, source)))
        calls += [pytest.param("POST", f"/v1/collections/{name}/documents", doc, marks=ROOT_FIELDS) for doc in docs[:1]]
    return calls


@pytest.mark.parametrize(("method", "path", "body"), _real_api_calls(), ids=lambda v: v if isinstance(v, str) else "")
def test_real_api_bodies_fit_the_sdk(method: str, path: str, body: Any) -> None:
    problems = body_problems(Call(method, path, "", body, 200, None))
    assert problems == [], problems
