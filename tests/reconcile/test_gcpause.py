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


def test_the_collector_comes_back_only_when_the_last_user_leaves() -> None:
    gc.enable()
    inner_left = threading.Event()
    release = threading.Event()

    def other_user() -> None:
        with gc_paused():
            inner_left.set()
            release.wait(5)

    with gc_paused():
        worker = threading.Thread(target=other_user)
        worker.start()
        inner_left.wait(5)
    assert not gc.isenabled()  # the worker still holds its pause
    release.set()
    worker.join(5)
    assert gc.isenabled()


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
        built = [{"n": i} for i in range(1000)]
    frozen = gc.get_freeze_count()
    assert (frozen >= len(built)) is freeze
    assert gc.isenabled() and gcpause._depth == 0
