"""Bad requests get 4xx in Mixpeek's error envelope, never a 500; auth and faults."""

from __future__ import annotations

from pathlib import Path

import httpx
from mixpeek.models import ListCollectionsResponse, ListRetrieversResponse
from tests.local.conftest import NAMESPACE, assert_envelope, make_client

from mixops.local.app import create_app


async def test_auth_required(app: object) -> None:
    async with make_client(app, key=None) as c:  # type: ignore[arg-type]
        err = assert_envelope(await c.get("/v1/retrievers"), 401)
        assert err["code"] == "missing_api_key"


async def test_configured_keys_only(db_path: Path) -> None:
    app = create_app(db_path, api_keys=["sk_good"])
    try:
        async with make_client(app, namespace=None, key="sk_bad") as c:
            assert_envelope(await c.get("/v1/namespaces"), 401)
        async with make_client(app, namespace=None, key="sk_good") as c:
            assert (await c.get("/v1/namespaces")).status_code == 200
    finally:
        app.state.local.close()


async def test_an_unknown_namespace_is_answered_as_the_api_answers_it(app: object) -> None:
    """mixpeek-api.md 1.1: a list is 200 and empty, marked X-Namespace-Unresolved, and names it
    in `warnings` where its envelope documents them; the empty list is not the namespace's contents."""
    unresolved = {"resource": "namespace", "id": "nowhere", "reason": "unresolved"}
    async with make_client(app, namespace="nowhere") as c:  # type: ignore[arg-type]
        for method, path in [
            ("POST", "/v1/retrievers/list"),
            ("GET", "/v1/retrievers"),
            ("POST", "/v1/collections/list"),
        ]:
            got = await c.request(method, path, json={} if method == "POST" else None)
            assert got.status_code == 200, (path, got.text)
            assert got.headers["X-Namespace-Unresolved"] == "nowhere"
            body = got.json()
            assert body["results"] == []
            assert [{k: w[k] for k in unresolved} for w in body["warnings"]] == [unresolved]
            model = ListRetrieversResponse if "retrievers" in path else ListCollectionsResponse
            model.from_dict(body)  # the SDK reads the answer
        for path in ("/v1/taxonomies/list", "/v1/clusters/list"):  # their envelopes have no `warnings`
            got = await c.post(path, json={})
            assert (got.status_code, got.json()["results"]) == (200, [])
            assert got.headers["X-Namespace-Unresolved"] == "nowhere" and "warnings" not in got.json()
        # Nothing else can act on it: 404 with the same header.
        for method, path in [("GET", "/v1/retrievers/r"), ("DELETE", "/v1/taxonomies/t"), ("GET", "/v1/clusters/c")]:
            refused = await c.request(method, path)
            assert refused.headers["X-Namespace-Unresolved"] == "nowhere"
            assert assert_envelope(refused, 404)["code"] == "namespace_unresolved"
    async with make_client(app, namespace=None) as c:  # type: ignore[arg-type]
        assert_envelope(await c.get("/v1/retrievers"), 400)
    async with make_client(app, namespace=NAMESPACE) as c:  # type: ignore[arg-type]
        known = await c.get("/v1/retrievers")
        assert known.status_code == 200 and "X-Namespace-Unresolved" not in known.headers
        assert "warnings" not in known.json()


async def test_bad_bodies_are_4xx(client: httpx.AsyncClient) -> None:
    assert_envelope(
        await client.post("/v1/retrievers", content=b"{not json", headers={"content-type": "application/json"}), 400
    )
    err = assert_envelope(await client.post("/v1/retrievers", json={"retriever_name": 5, "stages": "x"}), 422)
    assert err["details"]["validation_errors"]
    assert_envelope(await client.post("/v1/retrievers", json=[1, 2]), 422)
    assert_envelope(await client.get("/v1/retrievers/ret_nope"), 404)
    assert_envelope(await client.get("/v1/no/such/route"), 404)
    assert_envelope(await client.put("/v1/retrievers"), 405)
    assert_envelope(await client.get("/v1/retrievers", params={"limit": 0}), 422)
    assert_envelope(await client.get("/v1/retrievers", params={"cursor": "%%%"}), 400)
    err = assert_envelope(
        await client.post("/v1/collections/my_collection/documents", json={"title": "x", "vectors": {"nope": [1.0]}}),
        422,
    )
    assert err["code"] == "unknown_vector_index"


async def test_oversized_body_is_413(db_path: Path) -> None:
    app = create_app(db_path, max_body_bytes=1000)
    try:
        async with make_client(app, namespace=None) as c:
            big = {"namespace_name": "x" * 2000}
            assert_envelope(await c.post("/v1/namespaces", json=big), 413)

            async def chunks():  # no content-length: the limit is enforced while reading
                for _ in range(5):
                    yield b" " * 400

            assert_envelope(
                await c.post("/v1/namespaces", content=chunks(), headers={"content-type": "application/json"}), 413
            )
    finally:
        app.state.local.close()


async def test_unknown_keys_warn_or_fail(db_path: Path, seed_file: Path) -> None:
    body = {"namespace_name": "warned", "colour": "blue"}
    lax = create_app(db_path, strict_extra_keys=False)
    try:
        async with make_client(lax, namespace=None) as c:
            r = await c.post("/v1/namespaces", json=body)
            assert r.status_code == 200
            assert any("colour" in w for w in r.json()["warnings"])
    finally:
        lax.state.local.close()
    strict = create_app(db_path)  # strict is the default
    try:
        async with make_client(strict, namespace=None) as c:
            err = assert_envelope(await c.post("/v1/namespaces", json={**body, "namespace_name": "other"}), 422)
            assert err["type"] == err["code"] == "extra_forbidden"
            assert "colour" in err["message"] and "namespace_name" in err["details"]["accepted_fields"]
    finally:
        strict.state.local.close()


async def test_fault_injection_before_work(db_path: Path) -> None:
    app = create_app(db_path, fault_rate=1.0, fault_seed=7)
    try:
        async with make_client(app, namespace=None) as c:
            statuses = []
            for i in range(12):
                r = await c.post("/v1/namespaces", json={"namespace_name": f"ns-fault-{i}"})
                statuses.append(r.status_code)
                if r.status_code == 429:
                    assert r.headers["Retry-After"] in ("0", "1")
                    assert_envelope(r, 429)
            assert {429, 503} <= set(statuses)
            created = sum(1 for s in statuses if s == 200)
        # Only the slow answers did any work.
        names = [r.name for r in app.state.local.db.list("", "namespace")]
        assert len(names) == created
    finally:
        app.state.local.close()


async def test_openapi_document(client: httpx.AsyncClient) -> None:
    doc = (await client.get("/openapi.json")).json()
    assert "/v1/retrievers/execute" in doc["paths"]
    assert "/v1/taxonomies/execute/{taxonomy_identifier}" in doc["paths"]
    assert NAMESPACE
