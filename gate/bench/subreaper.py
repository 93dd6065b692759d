"""The gate as a child subreaper: orphaned descendants of a benchmark are reparented to it.

A benchmark that starts a grandchild with `setsid()` leaves its process group, so killing the group
misses it, and once its parent exits its CPU time is charged to no one. As a subreaper (Linux
`PR_SET_CHILD_SUBREAPER`) the gate inherits such orphans: it can reap them, count their rusage and
kill them when the benchmark is cancelled.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
from dataclasses import dataclass

_PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> bool:
    """Make this process a child subreaper; False where the platform cannot (not Linux, no libc)."""
    if not sys.platform.startswith("linux"):
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name, use_errno=True)
    except OSError:
        return False
    return int(libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) == 0


@dataclass(frozen=True)
class Reaped:
    """What reaping the gate's exited children gave: how many, and their CPU seconds."""

    count: int
    cpu_s: float


def reap_exited(exclude: frozenset[int] = frozenset()) -> Reaped:
    """Reap every exited child not in `exclude` without blocking; sum their user+system CPU time."""
    count = 0
    cpu_s = 0.0
    while True:
        try:
            pid, _status, usage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break
        if pid in exclude:
            continue
        count += 1
        cpu_s += usage.ru_utime + usage.ru_stime
    return Reaped(count=count, cpu_s=cpu_s)


def kill_children(pids: list[int]) -> None:
    """SIGKILL each pid that is still there; one already gone is no error."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            continue
