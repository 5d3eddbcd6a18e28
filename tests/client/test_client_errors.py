"""Every failure becomes one ApiError, whatever the server sent, and never shows the API key."""

from __future__ import annotations

import logging
from collections.abc import Callable

import httpx
import pytest
from tests.client.client_fakes import API_KEY, envelope

from mixops.errors import ApiError, MixopsError
from mixops.ports.client import MixpeekClient

MakeClient = Callable[..., MixpeekClient]


def always(response: httpx.Response) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(response.status_code, headers=response.headers, content=response.content)

    return handler


async def raised(client: MixpeekClient, method: str = "GET", path: str = "/v1/retrievers/r1") -> ApiError:
    with pytest.raises(ApiError) as caught:
        await client.request(method, path, json={"retriever_name": "r"} if method == "POST" else None)
    return caught.value


async def test_mixpeek_envelope_fills_every_field(make_client: MakeClient) -> None:
    details = {"validation_errors": [{"loc": ["stages", 0], "msg": "unknown stage"}]}
    client = make_client(always(envelope(422, "Invalid stage", "validation_error", "extra_forbidden", details)))
    error = await raised(client, "POST", "/v1/retrievers")
    assert isinstance(error, MixopsError)
    assert error.method == "POST"
    assert error.url == "https://api.mixpeek.test/v1/retrievers"
    assert (error.info.status, error.info.type, error.info.code) == (422, "validation_error", "extra_forbidden")
    assert error.info.message == "Invalid stage"
    assert error.info.details == details
    assert str(error) == (
        "POST https://api.mixpeek.test/v1/retrievers: HTTP 422 validation_error/extra_forbidden: Invalid stage"
    )


async def test_name_taken_is_recognisable_by_code(make_client: MakeClient) -> None:
    client = make_client(always(envelope(409, "name in use", "conflict", "namespace_name_taken")))
    error = await raised(client, "POST", "/v1/retrievers")
    assert error.status == 409
    assert error.info.code == "namespace_name_taken"


async def test_fastapi_validation_detail(make_client: MakeClient) -> None:
    detail = [{"loc": ["body", "stages", 0, "stage_id"], "msg": "field required", "type": "missing"}]
    client = make_client(always(httpx.Response(422, json={"detail": detail})))
    error = await raised(client, "POST", "/v1/retrievers")
    assert error.info.type == "validation_error"
    assert error.info.message == "stages.0.stage_id: field required"
    assert error.info.details == {"validation_errors": detail}


async def test_fastapi_string_detail(make_client: MakeClient) -> None:
    client = make_client(always(httpx.Response(404, json={"detail": "Retriever not found"})))
    error = await raised(client)
    assert (error.info.status, error.info.type, error.info.message) == (404, "not_found", "Retriever not found")


async def test_html_error_page(make_client: MakeClient) -> None:
    page = "<html><body><h1>502 Bad Gateway</h1>\n<p>nginx</p></body></html>"
    client = make_client(always(httpx.Response(502, text=page, headers={"content-type": "text/html"})))
    error = await raised(client, "POST", "/v1/taxonomies")
    assert (error.info.status, error.info.type) == (502, "server_error")
    assert "502 Bad Gateway" in error.info.message
    assert "\n" not in error.info.message


async def test_empty_error_body_uses_the_reason_phrase(make_client: MakeClient) -> None:
    client = make_client(always(httpx.Response(404)))
    error = await raised(client)
    assert (error.info.type, error.info.message) == ("not_found", "Not Found")


async def test_body_status_never_overrides_the_http_status(make_client: MakeClient) -> None:
    response = httpx.Response(400, json={"success": False, "status": 200, "error": {"message": "bad", "type": "x"}})
    client = make_client(always(response))
    assert (await raised(client)).status == 400


async def test_non_json_success_is_an_api_error(make_client: MakeClient) -> None:
    client = make_client(always(httpx.Response(200, text="<html>login page</html>")))
    error = await raised(client)
    assert error.info.type == "invalid_response"
    assert "login page" in error.info.message


@pytest.mark.parametrize("response", [httpx.Response(204), httpx.Response(200, content=b"null")])
async def test_empty_and_null_bodies_decode_to_none(make_client: MakeClient, response: httpx.Response) -> None:
    client = make_client(always(response))
    assert await client.request("DELETE", "/v1/retrievers/r1") is None


async def test_the_api_key_never_shows(make_client: MakeClient, caplog: pytest.LogCaptureFixture) -> None:
    # A misbehaving proxy echoes our request headers into its error body.
    echoed = f"bad token: Bearer {API_KEY}"
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            return envelope(503, echoed)
        return envelope(401, echoed, "unauthorized", details={"headers": {"authorization": f"Bearer {API_KEY}"}})

    client = make_client(handler)
    with caplog.at_level(logging.DEBUG, logger="mixops"):
        error = await raised(client)
    assert error.status == 401
    assert API_KEY not in str(error)
    assert API_KEY not in repr(error)
    assert API_KEY not in repr(error.info)
    assert API_KEY not in repr(client)
    assert API_KEY not in caplog.text
    assert "bad token: Bearer ***" in error.info.message
    assert "sk_" not in repr(client)
    assert caplog.records, "the retry was logged"


async def test_the_api_key_never_shows_in_connection_errors(make_client: MakeClient) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"refused while sending {request.headers['authorization']}", request=request)

    client = make_client(handler, max_retries=1)
    error = await raised(client)
    assert error.info.type == "connection_error"
    assert API_KEY not in str(error)
    assert error.__cause__ is None and error.__suppress_context__
