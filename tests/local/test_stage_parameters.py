"""Stage parameters are refused where they enter: create, update and execute name the field.

They used to be accepted by create and update and checked by hand at each execution, so a
retriever the API refuses could be stored and fail only when run.
"""

from __future__ import annotations

import copy
from typing import Any

import httpx
from tests.local.conftest import SEARCH_STAGE, assert_envelope


def _retriever(name: str, **parameters: Any) -> dict[str, Any]:
    stage = copy.deepcopy(SEARCH_STAGE)
    stage["config"]["parameters"].update(parameters)
    return {
        "retriever_name": name,
        "collection_identifiers": ["my_collection"],
        "input_schema": {"query": {"type": "text", "required": True}},
        "stages": [stage],
    }


async def test_create_refuses_a_parameter_out_of_the_apis_bounds(client: httpx.AsyncClient) -> None:
    err = assert_envelope(await client.post("/v1/retrievers", json=_retriever("zero", final_top_k=0)), 422)
    assert err["type"] == "validation_error"
    assert err["message"] == (
        "stages[0].config.parameters.final_top_k: input should be greater than or equal to 1, got 0"
    )
    assert err["details"]["validation_errors"][0]["loc"] == "stages[0].config.parameters.final_top_k"
    assert (await client.get("/v1/retrievers/zero")).status_code == 404


async def test_update_and_adhoc_execute_refuse_it_too(client: httpx.AsyncClient) -> None:
    created = await client.post("/v1/retrievers", json=_retriever("fine"))
    assert created.status_code == 200, created.text
    rid = created.json()["retriever_id"]
    bad = _retriever("fine", fusion="best")["stages"]
    err = assert_envelope(await client.patch(f"/v1/retrievers/{rid}", json={"stages": bad}), 422)
    assert err["message"].startswith("stages[0].config.parameters.fusion: ")
    assert (await client.get(f"/v1/retrievers/{rid}")).json()["version"] == 1  # nothing was written
    adhoc = {"collection_identifiers": ["my_collection"], "stages": bad, "inputs": {"query": "shoes"}}
    err = assert_envelope(await client.post("/v1/retrievers/execute", json=adhoc), 422)
    assert err["message"].startswith("stages[0].config.parameters.fusion: ")


async def test_a_value_from_the_inputs_is_checked_at_execution(client: httpx.AsyncClient) -> None:
    body = _retriever("templated", final_top_k="{{INPUT.k}}")
    body["input_schema"]["k"] = {"type": "integer"}
    created = await client.post("/v1/retrievers", json=body)
    assert created.status_code == 200, created.text
    url = f"/v1/retrievers/{created.json()['retriever_id']}/execute"
    ran = await client.post(url, json={"inputs": {"query": "running shoes", "k": 2}})
    assert ran.status_code == 200, ran.text
    assert len(ran.json()["documents"]) == 2
    err = assert_envelope(await client.post(url, json={"inputs": {"query": "running shoes", "k": 0}}), 400)
    assert err["message"] == (
        "stages[0].config.parameters.final_top_k: input should be greater than or equal to 1, got 0 "
        "(after substituting the inputs)"
    )
