"""The gate as a child subreaper: the processes a benchmark leaves behind are found, ended and reaped.

A benchmark that starts a grandchild with `setsid()` leaves its process group, so killing the group
misses it, and once its parent exits its CPU time is charged to no one. As a subreaper (Linux
`PR_SET_CHILD_SUBREAPER`) the gate inherits such orphans instead of init: they become its direct
children, so it can find them, end them and reap them (their rusage then joins its
RUSAGE_CHILDREN).

The gate has other children too (`git`, codecarbon's helpers, a test's `mlflow server`), and some
other code waits for each of them. So nothing here ever waits for "any child" (`wait4(-1)`), which
would steal such a status and make that code's wait fail with ChildProcessError. A process is taken
as the benchmark's only when it is the benchmark's main process or below it, or a direct child of
the gate whose environment holds the execution's marker (the `GREEN_GATE_METRICS` path, unique per
execution, which every descendant inherits unless it clears its environment); only those are
signalled and reaped, each by its own pid.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import psutil

_PR_SET_CHILD_SUBREAPER = 36
_active = False


def become_subreaper() -> bool:
    """Make this process a child subreaper; False where the platform cannot (not Linux, no libc)."""
    global _active
    if not sys.platform.startswith("linux"):
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name, use_errno=True)
    except OSError:
        return False
    _active = int(libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) == 0
    return _active


def enable(log: Callable[[str], None]) -> bool:
    """Become a subreaper for the rest of this process, or say in the log why escaped processes are
    then out of reach (said once: a process becomes a subreaper once)."""
    if _active:
        return True
    if become_subreaper():
        return True
    log(
        "this system has no child subreaper (Linux only): a process the benchmark moves out of its "
        "process group (setsid) and leaves running is not found, ended or counted"
    )
    return False


def active() -> bool:
    """Whether this process made itself a subreaper (become_subreaper)."""
    return _active


def children() -> frozenset[int]:
    """The pids of this process's direct children now."""
    try:
        return frozenset(child.pid for child in psutil.Process().children())
    except psutil.Error:
        return frozenset()


@dataclass(frozen=True)
class Marker:
    """An environment variable and value that only one execution's processes hold."""

    name: str
    value: str


def strays(main_pid: int | None, group: int, marker: Marker, known: frozenset[int]) -> list[psutil.Process]:
    """The benchmark's processes now: `main_pid` (None once it was reaped) and every process below it,
    and each direct child of the gate (an orphan reparented to the subreaper) that holds `marker` or
    is in the benchmark's process `group`, with every process below it. `known` (the gate's
    children before the benchmark started) and other children are never included: they belong to
    the gate, which never puts its own in the benchmark's group. A zombie still shows its group but
    no longer its environment, so an orphan that left the group and exited before it was seen here
    is not included."""
    found: dict[int, psutil.Process] = {}
    try:
        direct = psutil.Process().children()
    except psutil.Error:
        return []
    for child in direct:
        if child.pid in known:
            continue
        if child.pid != main_pid and not _in_group(child, group) and not _holds(child, marker):
            continue
        found[child.pid] = child
        try:
            below = child.children(recursive=True)
        except psutil.Error:
            continue
        for process in below:
            found.setdefault(process.pid, process)
    return list(found.values())


def _in_group(process: psutil.Process, group: int) -> bool:
    try:
        return os.getpgid(process.pid) == group
    except OSError:
        return False


def _holds(process: psutil.Process, marker: Marker) -> bool:
    try:
        environ = process.environ()
    except psutil.Error:  # gone, a zombie, or not ours to read (a setuid program)
        return False
    return bool(environ.get(marker.name) == marker.value)


def running(process: psutil.Process) -> bool:
    """Whether `process` (the same one: psutil checks its start time) still runs; a zombie has ended."""
    try:
        return bool(process.is_running() and process.status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


def signal_each(processes: Iterable[psutil.Process], signum: signal.Signals) -> None:
    """Send `signum` to each process still there; psutil refuses a pid that was reused meanwhile."""
    for process in processes:
        try:
            process.send_signal(signum)
        except psutil.Error:
            continue


@dataclass(frozen=True)
class Reaped:
    """What reaping the benchmark's orphans gave: how many, and their CPU seconds."""

    count: int
    cpu_s: float


def reap(processes: Iterable[psutil.Process], *, timeout_s: float) -> Reaped:
    """Reap each of `processes` that has ended and is this process's child, by its own pid.

    Call it once all of them have ended (killed and waited for): their children were reparented to
    this process as each exited, so an orphan's parent is this process by then. The check and the
    wait cannot race: a zombie child of this process stays until this process waits for it, so the
    pid cannot be reused between them. One whose parent is another process (it waited for it
    itself, or this process is no subreaper and init took it) is left alone.
    """
    me = os.getpid()
    count = 0
    cpu_s = 0.0
    deadline = time.monotonic() + timeout_s
    for process in processes:
        while True:
            try:
                if not process.is_running() or process.ppid() != me:
                    break
                pid, _status, usage = os.wait4(process.pid, os.WNOHANG)
            except (psutil.Error, ChildProcessError):
                break
            if pid == process.pid:
                count += 1
                cpu_s += usage.ru_utime + usage.ru_stime
                break
            if time.monotonic() > deadline:  # still exiting (stuck in a driver): left as it is
                break
            time.sleep(0.01)
    return Reaped(count=count, cpu_s=cpu_s)
