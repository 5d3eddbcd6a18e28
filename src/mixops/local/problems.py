"""HTTP errors of the local backend, in Mixpeek's error envelope.

Every error response has the shape of the SDK's ``ErrorResponse``::

    {"success": false, "status": 404,
     "error": {"message": "...", "type": "not_found", "code": "retriever_not_found", "details": {...}}}

Route code raises :class:`ApiProblem` (or one of the helpers below); ``app.py`` turns it,
FastAPI's validation errors, engine errors and unexpected exceptions into that envelope.
"""

from __future__ import annotations

from typing import Any


class ApiProblem(Exception):
    """An error answer: HTTP status plus the envelope's type, code, message and details."""

    def __init__(
        self,
        status: int,
        message: str,
        error_type: str,
        code: str | None = None,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_type = error_type
        self.code = code
        self.details: dict[str, Any] = dict(details or {})
        self.headers: dict[str, str] = dict(headers or {})

    def envelope(self) -> dict[str, Any]:
        return envelope(self.status, self.message, self.error_type, self.code, self.details)


def envelope(
    status: int,
    message: str,
    error_type: str,
    code: str | None = None,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "success": False,
        "status": status,
        "error": {"message": message, "type": error_type, "code": code, "details": details or {}},
    }


def _about(kind: str, status: int, error_type: str, what: str, message: str, **details: Any) -> ApiProblem:
    """A problem with one resource: code ``<kind>_<what>``, details naming the resource kind."""
    return ApiProblem(status, message, error_type, f"{kind}_{what}", {"resource": kind, **details})


def not_found(kind: str, identifier: str) -> ApiProblem:
    message = f"{kind.capitalize()} '{identifier}' not found"
    return _about(kind, 404, "not_found", "not_found", message, identifier=identifier)


def name_taken(kind: str, name: str) -> ApiProblem:
    message = f"A {kind} named '{name}' already exists in this namespace; choose another name"
    return _about(kind, 409, "conflict", "name_taken", message, name=name)


def invalid(message: str, code: str = "validation_error", **details: Any) -> ApiProblem:
    """422: the body is well-formed JSON but breaks a rule of the API."""
    return ApiProblem(422, message, "validation_error", code, details)


def bad_request(message: str, code: str = "bad_request", **details: Any) -> ApiProblem:
    return ApiProblem(400, message, "bad_request", code, details)


def missing_references(missing: dict[str, list[str]]) -> ApiProblem:
    """422 naming every referenced id that does not exist, per field."""
    parts = [f"{field}: {', '.join(ids)}" for field, ids in missing.items()]
    return ApiProblem(
        422,
        "Referenced resources do not exist in this namespace (" + "; ".join(parts) + ")",
        "validation_error",
        "reference_not_found",
        {"missing": missing},
    )
