"""Pause Python's cyclic garbage collector around bulk, allocation-only work.

Loading manifests, building the live state and building a plan allocate millions
of containers and free almost none: the collector would rescan the growing heap
again and again to find nothing (measured: 40% of loading 10,000 resources). The
pause is process-wide, so it is counted: nested and concurrent users (the plan
loads manifests in a thread while the live read runs) switch the collector back on
only when the last of them leaves, and only if it was on when the first came in.

Switching it back on is not the end of the cost: everything allocated during the
pause sits in the youngest generation, so the next collections scan all of it again
as it ages (measured: 0.9 s of a 3.7 s plan of 10,000 resources). A short-lived
process (the `mixops` command, see cli/main.py) therefore asks for a freeze on the
way out (`freeze_on_resume`, as mypy does after loading its cache): what is alive
then is never scanned again. It is still freed by reference counting; what a freeze
costs is that a reference cycle among frozen objects is never collected, whether it
was garbage already or becomes garbage later (an event loop, tasks, HTTP client
state and exceptions of the run, once dropped). A command pauses a handful of times
(a plan about five), so that is bounded. Long-lived processes (tests, `mixops
serve`, a program embedding mixops) keep the default, no freeze: each run would add
its garbage for good (the test suite's peak memory went from 0.6 to 2.1 GB with it).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_was_enabled = False
_freeze = False


def freeze_on_resume(enabled: bool = True) -> None:
    """Freeze the heap whenever the collector is switched back on (short-lived processes only)."""
    global _freeze
    _freeze = enabled


@contextmanager
def gc_paused() -> Iterator[None]:
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                if _freeze:
                    gc.freeze()
                gc.enable()
