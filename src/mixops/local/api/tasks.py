"""Async tasks: ``GET /v1/tasks/{task_id}`` (cluster executions, namespace deletes)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from mixops.local.api.deps import State
from mixops.local.problems import not_found

router = APIRouter(tags=["tasks"])


@router.get("/tasks/{task_id}")
def get_task(task_id: str, state: State) -> dict[str, Any]:
    # Task ids are unique across namespaces, so no X-Namespace is needed to read one.
    record = state.db.get_record(None, "task", task_id)
    if record is None:
        raise not_found("task", task_id)
    return record
