"""The typed helpers hit the documented routes, unwrap wrapped answers, and retry only safe calls."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from tests.client.client_fakes import SleepRecorder, body_of, envelope

from mixops.errors import ApiError, MixopsError
from mixops.ports.client import MixpeekClient

MakeClient = Callable[..., MixpeekClient]
Route = tuple[str, str]


class Routes:
    """A fake server: answers by (method, raw path) and records every call."""

    def __init__(self, answers: dict[Route, Any]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, str, dict[str, str], Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.raw_path.decode().split("?")[0]
        self.calls.append((request.method, path, dict(request.url.params), body_of(request)))
        answer = self.answers.get((request.method, path), httpx.Response(404, json={"detail": "no route"}))
        if isinstance(answer, httpx.Response):
            return answer
        return httpx.Response(200, json=answer)


RETRIEVER = {"retriever_id": "ret_1", "retriever_name": "search"}
TAXONOMY = {"taxonomy_id": "tax_1", "taxonomy_name": "tags"}


@pytest.mark.parametrize(
    ("call", "route", "answer", "expected"),
    [
        (lambda c: c.create_retriever({"retriever_name": "search"}), ("POST", "/v1/retrievers"), RETRIEVER, RETRIEVER),
        (
            lambda c: c.patch_retriever("ret_1", {"description": "d"}),
            ("PATCH", "/v1/retrievers/ret_1"),
            {"retriever": RETRIEVER},
            RETRIEVER,
        ),
        (
            lambda c: c.clone_retriever("ret_1", {"retriever_name": "s2"}),
            ("POST", "/v1/retrievers/ret_1/clone"),
            {"retriever": RETRIEVER, "source_retriever_id": "ret_0"},
            RETRIEVER,
        ),
        (
            lambda c: c.clone_taxonomy("tax_1", {"taxonomy_name": "t2"}),
            ("POST", "/v1/taxonomies/tax_1/clone"),
            {"taxonomy": TAXONOMY, "source_taxonomy_id": "tax_0"},
            TAXONOMY,
        ),
        (
            lambda c: c.patch_taxonomy("tax_1", {"description": "d"}),
            ("PATCH", "/v1/taxonomies/tax_1"),
            TAXONOMY,
            TAXONOMY,
        ),
        (
            lambda c: c.create_taxonomy_version("tax_1", {"config": {}}),
            ("POST", "/v1/taxonomies/tax_1/versions"),
            {**TAXONOMY, "version": 2},
            {**TAXONOMY, "version": 2},
        ),
        (
            lambda c: c.execute_adhoc_retriever({"stages": []}),
            ("POST", "/v1/retrievers/execute"),
            {"documents": []},
            {"documents": []},
        ),
        (
            lambda c: c.get_retriever_execution("ret_1", "exec_9"),
            ("GET", "/v1/retrievers/ret_1/executions/exec_9"),
            {"execution_id": "exec_9"},
            {"execution_id": "exec_9"},
        ),
        (
            lambda c: c.execute_adhoc_clustering({"collection_ids": ["c"]}),
            ("POST", "/v1/clusters/execute"),
            {"success": True},
            {"success": True},
        ),
        (
            lambda c: c.collection_features("products"),
            ("GET", "/v1/collections/products/features"),
            {"features": [{"feature_uri": "mixpeek://x@v1/y"}]},
            [{"feature_uri": "mixpeek://x@v1/y"}],
        ),
        (lambda c: c.get_cluster_execution("clust_1"), ("GET", "/v1/clusters/clust_1/executions"), None, None),
        (
            lambda c: c.get_cluster_execution("clust_1", "run_2"),
            ("GET", "/v1/clusters/clust_1/executions/run_2"),
            {"run_id": "run_2"},
            {"run_id": "run_2"},
        ),
        (
            lambda c: c.execute_cluster("clust_1"),
            ("POST", "/v1/clusters/clust_1/execute"),
            {"task_id": "t1", "status": "PENDING"},
            {"task_id": "t1", "status": "PENDING"},
        ),
    ],
)
async def test_helper_routes_and_unwrapping(
    make_client: MakeClient, call: Callable[[MixpeekClient], Any], route: Route, answer: Any, expected: Any
) -> None:
    routes = Routes({route: answer})
    client = make_client(routes)
    assert await call(client) == expected
    assert [(m, p) for m, p, _, _ in routes.calls] == [route]


async def test_names_are_escaped_in_paths(make_client: MakeClient) -> None:
    routes = Routes({("GET", "/v1/collections/my%20products%2Fv2"): {"collection_id": "col_1"}})
    client = make_client(routes)
    assert await client.get_collection("my products/v2") == {"collection_id": "col_1"}


async def test_execute_taxonomy_uses_the_preferred_path_and_version(make_client: MakeClient) -> None:
    routes = Routes({("POST", "/v1/taxonomies/tags/execute"): {"stats": {"processed_docs": 1}}})
    client = make_client(routes)
    await client.execute_taxonomy("tags", {"source_documents": [{"a": 1}]}, version=3)
    await client.execute_taxonomy("tags", {})
    assert routes.calls[0][2] == {"version": "3"}
    assert routes.calls[0][3] == {"source_documents": [{"a": 1}]}
    assert routes.calls[1][2] == {}


@pytest.mark.parametrize(("cascade", "sent"), [(True, "true"), (False, "false")])
async def test_delete_cluster_cascade_flag(make_client: MakeClient, cascade: bool, sent: str) -> None:
    routes = Routes({("DELETE", "/v1/clusters/clust_1"): {"success": True}})
    client = make_client(routes)
    await client.delete_cluster("clust_1", cascade_output_collections=cascade)
    assert routes.calls[0][2] == {"cascade_output_collections": sent}


async def test_list_helpers_post_to_the_list_routes(make_client: MakeClient) -> None:
    empty = {"results": [], "pagination": {"next_cursor": None}, "total_count": 0}
    kinds = ["retrievers", "taxonomies", "clusters", "collections"]
    routes = Routes({("POST", f"/v1/{k}/list"): empty for k in kinds})
    client = make_client(routes)
    for kind in kinds:
        assert await getattr(client, f"list_{kind}")() == []
    assert [p for _, p, _, _ in routes.calls] == [f"/v1/{k}/list" for k in kinds]


async def test_creates_are_not_retried_but_executes_are(make_client: MakeClient) -> None:
    busy = envelope(503, "busy")
    routes = Routes(
        {
            ("POST", "/v1/retrievers"): busy,
            ("POST", "/v1/retrievers/ret_1/execute"): busy,
            ("POST", "/v1/clusters"): busy,
            ("POST", "/v1/namespaces"): busy,
        }
    )
    client = make_client(routes, max_retries=2)
    for create in (client.create_retriever({}), client.create_cluster({}), client.create_namespace("n")):
        with pytest.raises(ApiError):
            await create
    assert len(routes.calls) == 3
    with pytest.raises(ApiError):
        await client.execute_retriever("ret_1", {})
    assert len(routes.calls) == 6


class TaskServer:
    def __init__(self, statuses: list[str]) -> None:
        self.statuses = statuses
        self.polls = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        status = self.statuses[min(self.polls, len(self.statuses) - 1)]
        self.polls += 1
        return httpx.Response(200, json={"task_id": "t1", "task_type": "engine_cluster_build", "status": status})


async def test_wait_task_polls_with_growing_pauses_until_terminal(
    make_client: MakeClient, sleeps: SleepRecorder
) -> None:
    server = TaskServer(["PENDING", "QUEUED", "IN_PROGRESS", "PROCESSING", "COMPLETED"])
    client = make_client(server)
    task = await client.wait_task("t1", timeout=60, poll_interval=0.2)
    assert task["status"] == "COMPLETED"
    assert server.polls == 5
    assert len(sleeps.calls) == 4
    assert sleeps.calls[0] == pytest.approx(0.2)
    assert sleeps.calls == sorted(sleeps.calls) and sleeps.calls[-1] > sleeps.calls[0]


@pytest.mark.parametrize("terminal", ["FAILED", "CANCELED", "COMPLETED_WITH_ERRORS", "completed"])
async def test_wait_task_returns_every_terminal_status(make_client: MakeClient, terminal: str) -> None:
    client = make_client(TaskServer(["PENDING", terminal]))
    assert (await client.wait_task("t1", timeout=60, poll_interval=0.1))["status"] == terminal


@pytest.mark.parametrize("status", ["INTERRUPTED", "SKIPPED", "SOMETHING_NEW"])
async def test_wait_task_ends_on_a_status_that_is_not_running(
    make_client: MakeClient, sleeps: SleepRecorder, status: str
) -> None:
    # These never turn into COMPLETED: waiting for them took the whole 300 s timeout.
    server = TaskServer(["QUEUED", status])
    client = make_client(server)
    assert (await client.wait_task("t1", timeout=300, poll_interval=0.1))["status"] == status
    assert server.polls == 2 and len(sleeps.calls) == 1


async def test_wait_task_times_out(make_client: MakeClient, sleeps: SleepRecorder) -> None:
    server = TaskServer(["IN_PROGRESS"])
    client = make_client(server, backoff_max=1.0)
    with pytest.raises(MixopsError, match="t1 still IN_PROGRESS after 5s"):
        await client.wait_task("t1", timeout=5, poll_interval=0.5)
    assert sum(sleeps.calls) == pytest.approx(5.0)
    assert max(sleeps.calls) <= 1.0


async def test_ensure_namespace_returns_an_existing_one(make_client: MakeClient) -> None:
    routes = Routes({("GET", "/v1/namespaces/catalog"): {"namespace_id": "ns_1"}})
    client = make_client(routes)
    assert await client.ensure_namespace("catalog") == {"namespace_id": "ns_1"}
    assert [m for m, _, _, _ in routes.calls] == ["GET"]


async def test_ensure_namespace_creates_a_missing_one(make_client: MakeClient) -> None:
    routes = Routes({("POST", "/v1/namespaces"): {"namespace_id": "ns_2", "namespace_name": "catalog"}})
    client = make_client(routes)
    assert (await client.ensure_namespace("catalog"))["namespace_id"] == "ns_2"
    assert routes.calls[1][3] == {"namespace_name": "catalog"}


async def test_ensure_namespace_tolerates_a_concurrent_creator(make_client: MakeClient) -> None:
    gets = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal gets
        if request.method == "GET":
            gets += 1
            if gets == 1:
                return envelope(404, "no such namespace", "not_found")
            return httpx.Response(200, json={"namespace_id": "ns_theirs"})
        return envelope(400, "taken", "bad_request", "namespace_name_taken")

    client = make_client(handler)
    assert await client.ensure_namespace("catalog") == {"namespace_id": "ns_theirs"}


async def test_ensure_namespace_passes_other_errors_on(make_client: MakeClient) -> None:
    client = make_client(lambda request: envelope(401, "bad key", "unauthorized"))
    with pytest.raises(ApiError) as caught:
        await client.ensure_namespace("catalog")
    assert caught.value.status == 401
