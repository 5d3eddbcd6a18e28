"""The collector pause around loading and planning (ports/gcpause.py)."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from mixops.ports import gcpause
from mixops.ports.gcpause import freeze_on_resume, gc_paused


@pytest.fixture(autouse=True)
def _restore() -> Iterator[None]:
    enabled = gc.isenabled()
    yield
    freeze_on_resume(False)
    gc.unfreeze()
    if enabled:
        gc.enable()
    else:
        gc.disable()


def _scanned(obj: object) -> bool:
    """Whether the collector still scans `obj` (frozen objects are left out of get_objects)."""
    return any(o is obj for o in gc.get_objects())


def test_the_collector_comes_back_only_when_the_last_user_leaves() -> None:
    gc.enable()
    inner_left = threading.Event()
    release = threading.Event()

    def other_user() -> None:
        with gc_paused():
            inner_left.set()
            release.wait(5)

    worker = threading.Thread(target=other_user)
    try:
        with gc_paused():
            worker.start()
            assert inner_left.wait(5)
        assert not gc.isenabled()  # the worker still holds its pause
    finally:
        release.set()
        worker.join(5)
    assert gc.isenabled() and gcpause._depth == 0


def test_a_collector_switched_off_before_stays_off() -> None:
    gc.disable()
    with gc_paused(), gc_paused():
        pass
    assert not gc.isenabled()


@pytest.mark.parametrize("freeze", [True, False])
def test_only_a_short_lived_process_freezes_what_the_pause_built(freeze: bool) -> None:
    gc.enable()
    gc.unfreeze()
    freeze_on_resume(freeze)
    with gc_paused():
        with gc_paused():
            built = [[i] for i in range(3)]  # lists: objects the collector tracks
        assert gc.get_freeze_count() == 0  # an inner pause ending freezes nothing
        assert _scanned(built)
    assert _scanned(built) is not freeze
    assert gc.isenabled() and gcpause._depth == 0
