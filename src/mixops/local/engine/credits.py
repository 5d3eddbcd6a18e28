"""The local backend's credit model and budget enforcement.

Mixpeek bills retriever executions in credits; its real prices are not public,
so the local backend uses this small, documented model. Every executed stage costs

    credits = base[kind] + per_1000[kind] * units / 1000

where ``units`` is what the stage worked through: vectors scored (feature_search),
documents evaluated (attribute_filter, sorts, group_by, sample, mmr,
document_enrich), texts embedded (rerank) or documents enriched (taxonomy_enrich,
which also pays for the retriever runs it makes). Stage kinds not listed cost the
``default`` row. Figures are rounded to 6 decimals.

| kind             | base  | per 1,000 units |
|------------------|-------|-----------------|
| feature_search   | 0.05  | 0.01 (vectors scored, per search) |
| attribute_filter | 0.01  | 0.005           |
| rerank           | 0.05  | 0.5             |
| mmr              | 0.01  | 0.05            |
| taxonomy_enrich  | 0.02  | 1.0             |
| document_enrich  | 0.01  | 0.05            |
| default          | 0.001 | 0.001           |

``Budget`` enforces ``budget_limits``: after each stage the runner charges the
stage and calls ``check``; going over ``max_credits`` or ``max_time_ms`` raises
``BudgetExceeded``, which the runner turns into ``status: failed`` with the
error "Budget exceeded: ..." and no documents (as seed 002 shows).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mixops.local.engine.errors import BadRequest, EngineError

STAGE_PRICES: dict[str, tuple[float, float]] = {
    "feature_search": (0.05, 0.01),
    "attribute_filter": (0.01, 0.005),
    "rerank": (0.05, 0.5),
    "mmr": (0.01, 0.05),
    "taxonomy_enrich": (0.02, 1.0),
    "document_enrich": (0.01, 0.05),
    "default": (0.001, 0.001),
}


class BudgetExceeded(EngineError):
    """A budget limit was crossed during an execution."""

    error_type = "budget_exceeded"


def stage_cost(kind: str, units: int) -> float:
    """Credits of one stage execution that worked through ``units`` items."""
    base, per_1000 = STAGE_PRICES.get(kind, STAGE_PRICES["default"])
    return round(base + per_1000 * max(units, 0) / 1000.0, 6)


class Budget:
    """Running credit/time totals of one execution against optional limits."""

    def __init__(self, limits: Mapping[str, Any] | None = None) -> None:
        limits = dict(limits or {})
        unknown = sorted(set(limits) - {"max_credits", "max_time_ms"})
        if unknown:
            raise BadRequest(f"budget_limits: unknown keys {unknown}; expected max_credits, max_time_ms")
        self.max_credits = _limit(limits.get("max_credits"), "max_credits")
        self.max_time_ms = _limit(limits.get("max_time_ms"), "max_time_ms")
        self.credits_used = 0.0

    def charge(self, credits: float) -> None:
        self.credits_used = round(self.credits_used + credits, 6)

    def check(self, elapsed_ms: float, after: str = "") -> None:
        """Raise ``BudgetExceeded`` when a limit has been crossed."""
        where = f" after stage {after!r}" if after else ""
        if self.max_credits is not None and self.credits_used > self.max_credits:
            raise BudgetExceeded(
                f"Budget exceeded: Maximum credits limit reached ({self.credits_used:g} credits used, "
                f"max_credits {self.max_credits:g}){where}"
            )
        if self.max_time_ms is not None and elapsed_ms > self.max_time_ms:
            raise BudgetExceeded(
                f"Budget exceeded: Maximum time limit reached ({elapsed_ms:.1f} ms used, "
                f"max_time_ms {self.max_time_ms:g}){where}"
            )

    def snapshot(self, elapsed_ms: float) -> dict[str, Any]:
        """The response's ``budget`` object."""
        remaining = None
        if self.max_credits is not None:
            remaining = round(max(self.max_credits - self.credits_used, 0.0), 6)
        return {
            "credits_used": self.credits_used,
            "credits_remaining": remaining,
            "time_used_ms": round(elapsed_ms, 3),
            "limits": {"max_credits": self.max_credits, "max_time_ms": self.max_time_ms},
        }


def _limit(value: Any, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise BadRequest(f"budget_limits.{name}: must be a number >= 0")
    return float(value)
