"""The plan reads the extractor catalog for collections it builds, and degrades without it.

`GET /v1/collections/features/extractors` (documented, read-only) says which outputs,
and so which feature URIs, a collection will have before the plan creates it. It is asked
once per command, and only when a plan builds a collection that some feature URI is used
on. An API that does not serve it (404) or fails on it (500) refuses nothing: the plan
warns that only the extractor part of those URIs was checked, and says why.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.reconcile.conftest import edit, resource

from mixops.core.feature_uris import CATALOG_ROUTE
from mixops.core.plan import Plan, PlanOptions
from mixops.errors import PlanError
from mixops.local.inprocess import local_transport
from mixops.ports.project import load_project
from mixops.ports.reconcile import plan_and_apply

ROUTE = CATALOG_ROUTE.split(" ", 1)[1]


class Backend(httpx.AsyncBaseTransport):
    """The local backend, as an API that answers the catalog route with `status` (None: as it is)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, status: int | None, sent: list[str]) -> None:
        self.inner, self.status, self.sent = inner, status, sent

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(f"{request.method} {request.url.path}")
        if request.url.path == ROUTE and self.status is not None:
            error = {"message": "no such route", "type": "not_found" if self.status == 404 else "internal_error"}
            return httpx.Response(self.status, json={"success": False, "status": self.status, "error": error})
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def backend(status: int | None, sent: list[str]) -> Callable[..., httpx.AsyncBaseTransport]:
    def make(*args: Any, **kw: Any) -> httpx.AsyncBaseTransport:
        return Backend(local_transport(*args, **kw), status, sent)

    return make


async def run(root: Path, status: int | None, sent: list[str], *, apply: bool = False) -> Plan:
    project = load_project(root, local_backend=backend(status, sent))
    planned, report = await plan_and_apply(project, project.env_name(None), PlanOptions(), apply=apply)
    assert not apply or (report is not None and not report.failed)
    return planned.plan


def misspell_output(data: dict[str, Any]) -> None:
    search = resource(data, "retrievers", "product_search")["stages"][0]["config"]["parameters"]["searches"][0]
    search["feature_uri"] = "mixpeek://text_extractor@v1/text_embeding"


async def test_read_once_and_only_while_a_collection_is_to_be_built(project_dir: Path) -> None:
    sent: list[str] = []
    plan = await run(project_dir, None, sent, apply=True)
    assert sent.count(CATALOG_ROUTE) == 1 and plan.warnings == ()
    sent.clear()
    assert not (await run(project_dir, None, sent)).has_changes
    assert CATALOG_ROUTE not in sent  # every collection exists and keeps its extractor


async def test_a_misspelt_output_is_refused_before_anything_is_written(project_dir: Path) -> None:
    edit(project_dir, "retrievers.yaml", misspell_output)
    sent: list[str] = []
    with pytest.raises(PlanError, match="which collection 'products' will not have: this plan creates it"):
        await run(project_dir, None, sent)
    with pytest.raises(PlanError, match="did you mean 'mixpeek://text_extractor@v1/embedding'"):
        await run(project_dir, None, sent, apply=True)
    writes = [r for r in sent if not r.startswith("GET ") and not r.endswith("/list")]
    assert writes == [], "apply wrote something"


@pytest.mark.parametrize(
    ("status", "why"),
    [(404, f"{CATALOG_ROUTE} answered HTTP 404 not_found"), (500, f"{CATALOG_ROUTE} failed (HTTP 500 internal_error)")],
)
async def test_without_the_catalog_the_plan_warns_and_refuses_nothing(project_dir: Path, status: int, why: str) -> None:
    # A misspelt output on a collection to be built goes unnoticed until apply: named, not hidden.
    edit(project_dir, "retrievers.yaml", misspell_output)
    sent: list[str] = []
    plan = await run(project_dir, status, sent)
    assert sent.count(CATALOG_ROUTE) == 1 and plan.has_changes
    # One warning per collection built with a feature URI used on it: their outputs were not checked.
    assert [w.split(",")[0] for w in plan.warnings] == [
        f"the feature URIs used on collection {c!r}" for c in ("categories", "departments", "products", "tag_catalog")
    ]
    assert all(w.endswith(f"but not its outputs: {why}") for w in plan.warnings), plan.warnings
