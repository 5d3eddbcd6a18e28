"""Field-level diff of two normalised specs (pure), on deepdiff."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mixops.core.locations import render_path

Path = tuple[str | int, ...]
MISSING = "<unset>"


@dataclass(frozen=True)
class Change:
    path: Path
    old: Any
    new: Any

    @property
    def dotted(self) -> str:
        return render_path(self.path)


def field_changes(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Every leaf-or-subtree difference between two specs, in a stable order.

    Lists are compared by position (stage order matters); set-like lists were
    sorted by normalisation first. Added or removed keys appear with MISSING
    on the absent side.
    """
    if old == new:
        return []
    # Imported here: deepdiff (and numpy, which it loads when installed) adds about 0.1 s to
    # every command's start, and a plan without changes never gets this far.
    from deepdiff import DeepDiff

    dd = DeepDiff(old, new, ignore_order=False, view="tree", verbose_level=2)
    out: list[Change] = []
    for report_type, items in dd.items():
        for item in items:
            path = tuple(item.path(output_format="list"))
            if report_type in ("dictionary_item_added", "iterable_item_added"):
                out.append(Change(path, MISSING, item.t2))
            elif report_type in ("dictionary_item_removed", "iterable_item_removed"):
                out.append(Change(path, item.t1, MISSING))
            else:
                out.append(Change(path, item.t1, item.t2))
    out.sort(key=lambda c: [str(p).zfill(6) if isinstance(p, int) else str(p) for p in c.path])
    return out
