"""A short run of scripts/kill_test.py: SIGKILL `mixops apply` against `mixops serve`, re-run, converge.

Three trials keep it under a minute; run the script itself for the full 20+.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "kill_test.py"


def test_killed_applies_converge_on_rerun() -> None:
    out = subprocess.run(
        [sys.executable, str(SCRIPT), "--trials", "3", "--seed", "11"],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    trials = [line for line in out.stdout.splitlines() if line.startswith("trial")]
    assert len(trials) == 3 and all(line.endswith("converged") for line in trials), out.stdout
    assert "3/3 trials converged" in out.stdout
    assert any(" killed " in line for line in trials), "no trial was killed: the kill window is wrong"
    # Collections are in what is killed: a collection created with its documents, one changed in
    # place, an application attached; the second trial dies between that create and that attach.
    assert "(3 of collections and their applications)" in out.stdout, out.stdout
    assert trials[1].startswith("trial  1: parallelism 1, killed 0.00s after '+ collection reviews: created'")
