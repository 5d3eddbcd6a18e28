"""Mixpeek's error envelope, read into :class:`mixops.errors.ApiErrorInfo`.

The API answers every failure with ``{success: false, status, error: {message, type, code,
details}}``. Proxies, gateways and FastAPI defaults answer with other shapes (``{"detail": ...}``,
an HTML page, nothing at all), so every shape is tolerated and the HTTP status always wins
over the status repeated in the body.

Secrets are scrubbed here, before any text from the server reaches an exception: a server or
proxy that echoes the request headers back would otherwise put the API key in a log line.
"""

from __future__ import annotations

import json
from typing import Any

from mixops.errors import STATUS_TYPES, ApiErrorInfo

# Non-JSON bodies (HTML error pages) are cut so that an error message stays one readable line.
_MAX_TEXT = 300

REDACTED = "***"


def default_type(status: int) -> str:
    if status in STATUS_TYPES:
        return STATUS_TYPES[status]
    if status >= 500:
        return "server_error"
    return "http_error"


def redact(value: Any, secrets: tuple[str, ...]) -> Any:
    """Return ``value`` with every occurrence of each secret replaced, at any depth."""
    if not secrets:
        return value
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, dict):
        return {redact(k, secrets): redact(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, secrets) for v in value]
    return value


def _validation_message(items: list[Any]) -> str:
    """FastAPI's ``detail`` list: one ``loc: msg`` per failing field."""
    parts: list[str] = []
    for item in items:
        if isinstance(item, dict):
            loc = ".".join(str(p) for p in item.get("loc", []) if p != "body")
            msg = str(item.get("msg", item))
            parts.append(f"{loc}: {msg}" if loc else msg)
        else:
            parts.append(str(item))
    return "; ".join(parts)


def _from_json(status: int, body: Any) -> ApiErrorInfo | None:
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if isinstance(error, dict):
        details = error.get("details")
        return ApiErrorInfo(
            status=status,
            type=str(error.get("type") or default_type(status)),
            code=str(error["code"]) if error.get("code") else None,
            message=str(error.get("message") or ""),
            details=details if isinstance(details, dict) else ({} if details is None else {"value": details}),
        )
    if isinstance(error, str):
        return ApiErrorInfo(status=status, type=default_type(status), message=error)
    if "detail" in body:
        detail = body["detail"]
        if isinstance(detail, list):
            return ApiErrorInfo(
                status=status,
                type="validation_error",
                message=_validation_message(detail),
                details={"validation_errors": detail},
            )
        if isinstance(detail, dict):
            return ApiErrorInfo(
                status=status,
                type=str(detail.get("type") or default_type(status)),
                code=str(detail["code"]) if detail.get("code") else None,
                message=str(detail.get("message") or json.dumps(detail, sort_keys=True)),
                details=detail,
            )
        return ApiErrorInfo(status=status, type=default_type(status), message=str(detail))
    if isinstance(body.get("message"), str):
        return ApiErrorInfo(status=status, type=default_type(status), message=body["message"])
    return None


def parse_error(status: int, content: bytes, reason: str = "", secrets: tuple[str, ...] = ()) -> ApiErrorInfo:
    """Read an error response body of any shape; never raises."""
    text = content.decode("utf-8", errors="replace").strip()
    info: ApiErrorInfo | None = None
    if text:
        try:
            info = _from_json(status, json.loads(text))
        except ValueError:
            info = None
    if info is None:
        snippet = " ".join(text.split())
        if len(snippet) > _MAX_TEXT:
            snippet = snippet[:_MAX_TEXT] + "..."
        info = ApiErrorInfo(status=status, type=default_type(status), message=snippet or reason)
    info.message = redact(info.message, secrets)
    info.details = redact(info.details, secrets)
    return info


__all__ = ["REDACTED", "default_type", "parse_error", "redact"]
