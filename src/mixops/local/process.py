"""Which process runs a background task of the local backend, and whether it still does.

A task (a cluster execution) runs in a thread of the process that accepted it. When
that process stops (`mixops serve` restarted or killed, a CLI command's embedded
backend that exited) the task's record stays PROCESSING forever unless a reader can
tell its runner is gone. Several processes may share one database file (WAL), so
"this process did not start it" is not enough: the record names its runner (pid,
host and the process's start time, so a reused pid is not mistaken for it) and a
reader checks that process.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

RUNNER_KEY = "_runner"  # stored with the task, never shown in a response


def _stat(pid: int) -> tuple[str, str] | None:
    """(state, start time in clock ticks) of a Linux process; None where /proc has no such file."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    fields = text.rsplit(")", 1)[-1].split()  # after the command name, which may hold spaces
    return (fields[0], fields[19]) if len(fields) > 19 else None


def identity() -> dict[str, Any]:
    """This process, as a task record names its runner."""
    stat = _stat(os.getpid())
    return {"pid": os.getpid(), "host": socket.gethostname(), "start": stat[1] if stat else None}


def runner_alive(runner: Any) -> bool:
    """False only when the process named is known to be gone; True when it cannot be told."""
    if not isinstance(runner, dict) or not isinstance(runner.get("pid"), int):
        return True
    if runner.get("host") != socket.gethostname():
        return True  # another machine: nothing here can tell
    pid = runner["pid"]
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, under another user
    stat = _stat(pid)
    if stat is None:
        return True  # no /proc: the pid exists, assume it is the runner
    state, start = stat
    if state in ("Z", "X"):
        return False  # exited, not yet reaped
    return runner.get("start") is None or start == runner["start"]


__all__ = ["RUNNER_KEY", "identity", "runner_alive"]
