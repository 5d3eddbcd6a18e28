"""Golden files: compare rendered output; `MIXOPS_UPDATE_GOLDEN=1` rewrites them."""

from __future__ import annotations

import os
from pathlib import Path

GOLDEN = Path(__file__).parent / "golden"


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("MIXOPS_UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"{name}: no golden file yet; run with MIXOPS_UPDATE_GOLDEN=1 and review the diff"
    expected = path.read_text(encoding="utf-8")
    assert text == expected, f"{name} differs from its golden file (MIXOPS_UPDATE_GOLDEN=1 rewrites it)"
