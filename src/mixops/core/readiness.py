"""The report of `mixops doctor` (pure): one row per check, and whether an apply would fail.

A row is `blocking` when what it found makes `mixops apply` fail (a refused key,
a namespace that does not resolve, a missing collection or feature, a read the
plan needs that does not answer, a plan that cannot be made). Everything else
informs: an optional capability that is absent or was not probed never blocks,
because mixops skips the check that needs it, with a reason (DESIGN rule for
unknown capabilities).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Status = Literal["ok", "failed", "missing", "present", "absent", "unknown", "not needed", "skipped"]
STATUSES: tuple[Status, ...] = ("ok", "failed", "missing", "present", "absent", "unknown", "not needed", "skipped")


@dataclass(frozen=True)
class Check:
    area: str  # access | manifests | collections | plan | routes | capabilities
    item: str
    status: Status
    detail: str = ""
    blocking: bool = False


@dataclass(frozen=True)
class Readiness:
    stack: str
    environment: str
    namespace: str
    target: str
    checks: tuple[Check, ...] = field(default_factory=tuple)

    @property
    def blocking(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.blocking)

    @property
    def ready(self) -> bool:
        return not self.blocking

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "ready": self.ready, "blocking": [asdict(c) for c in self.blocking]}

    def lines(self) -> list[str]:
        head = (
            f"mixops doctor: stack {self.stack}, environment {self.environment}, "
            f"namespace {self.namespace!r} ({self.target})"
        )
        rows = [("AREA", "CHECK", "STATUS", "DETAIL")] + [
            (c.area, c.item, c.status + (" !" if c.blocking else ""), c.detail) for c in self.checks
        ]
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        out = [head, ""]
        for r in rows:
            out.append("  " + "  ".join(r[i].ljust(widths[i]) for i in range(3)) + "  " + r[3])
        out.append("")
        unknown = sum(1 for c in self.checks if c.status == "unknown")
        note = f" ({unknown} not probed or not known: see 'unknown' rows)" if unknown else ""
        if self.ready:
            out.append(f"Ready: nothing checked here would make `mixops apply` fail{note}.")
            return out
        n = len(self.blocking)
        out.append(f"Not ready: `mixops apply` would fail on {n} problem{'s' if n != 1 else ''} (rows marked !):")
        out.extend(f"  - {c.item}: {c.detail}" for c in self.blocking)
        return out


def counted(n: int, what: str) -> str:
    return f"{n} {what}" if n == 1 else f"{n} {what}s"


def joined(items: Iterable[str]) -> str:
    return ", ".join(items) or "none"


__all__ = ["STATUSES", "Check", "Readiness", "Status", "counted", "joined"]
