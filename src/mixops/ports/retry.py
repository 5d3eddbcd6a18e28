"""When a failed request may be sent again, and how long to wait first.

The rule is about safety, not hope:

* 429 is always retried: the server refused the request, so nothing happened.
* Connection failures that happen before the request leaves (``ConnectError``,
  ``ConnectTimeout``, ``PoolTimeout``) are always retried, for the same reason.
* 502/503/504 and failures after the request may have been sent (read timeouts, dropped
  connections, protocol errors) are retried only when repeating the request cannot do harm:
  GET/HEAD/PUT/DELETE/OPTIONS/PATCH, or a POST the caller marked ``idempotent=True``
  (list and execute endpoints). A create POST is never repeated after it may have reached
  the server: a retry there is how duplicates are born.
* Anything else (other 4xx, 500, a malformed URL) is final.

Waits use exponential backoff with full jitter, or the server's ``Retry-After`` when it
gives one, capped at ``backoff_max``.
"""

from __future__ import annotations

import datetime
import email.utils
import random
import time
from collections.abc import Callable

import httpx
from tenacity import RetryCallState

SAFE_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH"})
RETRYABLE_STATUSES = frozenset({502, 503, 504})

# Nothing was sent: repeating cannot duplicate anything.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# The request may have reached the server: repeat only what is safe to repeat.
_MAYBE_SENT = (
    httpx.ReadError,
    httpx.WriteError,
    httpx.ReadTimeout,
    httpx.WriteTimeout,
    httpx.RemoteProtocolError,
    httpx.CloseError,
)


def is_safe(method: str, idempotent: bool | None) -> bool:
    """Whether the request may be repeated after it might have reached the server."""
    if idempotent is not None:
        return idempotent
    return method.upper() in SAFE_METHODS


def status_is_retryable(status: int, safe: bool) -> bool:
    return status == 429 or (safe and status in RETRYABLE_STATUSES)


def transport_error_is_retryable(exc: httpx.TransportError, safe: bool) -> bool:
    if isinstance(exc, _NOT_SENT):
        return True
    return safe and isinstance(exc, _MAYBE_SENT)


def parse_retry_after(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date), or None."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # "-0000" parses naive; RFC 9110 dates are GMT anyway
            when = when.replace(tzinfo=datetime.UTC)
        return max(0.0, when.timestamp() - now())
    if seconds != seconds or seconds < 0:  # NaN or negative: ignore the header
        return None
    return seconds


class RetryableResponse(Exception):
    """Raised inside the retry loop for a response that may be retried; never escapes the client."""

    def __init__(self, response: httpx.Response, retry_after: float | None) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response
        self.retry_after = retry_after


class BackoffWait:
    """Tenacity wait strategy: ``Retry-After`` when the server sent one, else full jitter.

    Full jitter: a uniform draw from ``[0, min(backoff_max, base * 2 ** (attempt - 1))]``.
    """

    def __init__(self, base: float, maximum: float, rng: random.Random | None = None) -> None:
        self.base = base
        self.maximum = maximum
        self._rng = rng or random.Random()

    def __call__(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None else None
        if isinstance(exc, RetryableResponse) and exc.retry_after is not None:
            return min(exc.retry_after, self.maximum)
        ceiling = min(self.maximum, self.base * 2 ** max(0, retry_state.attempt_number - 1))
        return self._rng.uniform(0.0, ceiling)


__all__ = [
    "RETRYABLE_STATUSES",
    "SAFE_METHODS",
    "BackoffWait",
    "RetryableResponse",
    "is_safe",
    "parse_retry_after",
    "status_is_retryable",
    "transport_error_is_retryable",
]
