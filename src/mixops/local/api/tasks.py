"""Async tasks: ``GET /v1/tasks/{task_id}`` (cluster executions, namespace deletes).

A task whose process stopped before it finished (``mixops serve`` restarted or
killed, a command's embedded backend that exited) is answered INTERRUPTED, and
stored so, from the first read after: it will never finish, and a client waiting
on it must hear so rather than poll PROCESSING forever (local/process.py).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from mixops.local.api.deps import State
from mixops.local.problems import not_found
from mixops.local.process import RUNNER_KEY, runner_alive

router = APIRouter(tags=["tasks"])

RUNNING = frozenset({"PENDING", "QUEUED", "IN_PROGRESS", "PROCESSING"})
INTERRUPTED_MESSAGE = (
    "The local backend process running this task stopped before it finished (restarted or killed); "
    "nothing will complete it: execute again"
)


def task_view(record: dict[str, Any]) -> dict[str, Any]:
    """A task as the API shows it: without what only the backend keeps."""
    return {k: v for k, v in record.items() if k != RUNNER_KEY}


@router.get("/tasks/{task_id}")
def get_task(task_id: str, state: State) -> dict[str, Any]:
    # Task ids are unique across namespaces, so no X-Namespace is needed to read one.
    found = state.db.find_record("task", task_id)
    if found is None:
        raise not_found("task", task_id)
    ns, parent, record = found
    if str(record.get("status")) in RUNNING and not runner_alive(record.get(RUNNER_KEY)):
        record = {**record, "status": "INTERRUPTED", "error": INTERRUPTED_MESSAGE}
        record["additional_data"] = {**(record.get("additional_data") or {}), "error": INTERRUPTED_MESSAGE}
        state.db.put_record(ns, "task", parent, task_id, record)
        _cluster_interrupted(state, ns, parent, task_id)
    return task_view(record)


def _cluster_interrupted(state: Any, ns: str, cluster_id: str, task_id: str) -> None:
    """The cluster whose execution this was no longer says PROCESSING."""
    row = state.db.get_by_id(ns, "cluster", cluster_id)
    if row is not None and row.body.get("last_execution_task_id") == task_id and row.body.get("status") == "PROCESSING":
        state.db.update(row, {**row.body, "status": "FAILED", "error": INTERRUPTED_MESSAGE})
