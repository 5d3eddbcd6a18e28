"""Errors raised by the local execution engines.

The HTTP layer maps them to Mixpeek's error envelope::

    BadRequest   -> 400
    NotFound     -> 404
    Unsupported  -> 422 (a feature the real API has and the local backend does not)
    StageProblem -> 422 (stage_parsing.py: a stage breaks the models, as a body breaks the API's)

Each class carries its ``status``.

They carry a human message and optional structured ``details`` (a JSON-able dict).
Engines never raise anything else on purpose; any other exception is a bug.
"""

from __future__ import annotations

from typing import Any


class EngineError(Exception):
    """Base of every error an engine raises on purpose."""

    error_type = "engine_error"
    status = 400

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = dict(details or {})

    def __str__(self) -> str:
        return self.message


class BadRequest(EngineError):
    """The request is malformed or asks for something impossible (HTTP 400/422)."""

    error_type = "bad_request"


class NotFound(EngineError):
    """A referenced collection, document, taxonomy or retriever does not exist (HTTP 404)."""

    error_type = "not_found"
    status = 404


class Unsupported(EngineError):
    """The real Mixpeek API supports this, the local backend does not (HTTP 422)."""

    error_type = "unsupported"
    status = 422
