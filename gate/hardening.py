"""What the gate does to its own process so that the benchmark, the pull request's code, cannot read
the credentials out of it.

- `scrub_environment`: the kernel shows a process's environment as it was at exec
  (`/proc/<pid>/environ` reads that memory). Python keeps its own copy (os.environ), which the gate
  reads from; the original block is overwritten with NUL bytes where a credential stood, so the file
  no longer holds them. Processes the gate starts get their environment from os.environ, without the
  credentials (gate.secrets).
- `non_dumpable`: `prctl(PR_SET_DUMPABLE, 0)` makes the gate's `/proc/<pid>/` files (environ, mem,
  fd/, maps) root's, and refuses ptrace, to processes of the same user. A root benchmark is not
  stopped by it: the container action runs the benchmark as the workspace's owner instead
  (gate.action).

Linux only; elsewhere both do nothing and say so.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from collections.abc import Iterable
from pathlib import Path

_PR_SET_DUMPABLE = 4
_PR_GET_DUMPABLE = 3
STAT = Path("/proc/self/stat")


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        return ctypes.CDLL(name, use_errno=True)
    except OSError:
        return None


def non_dumpable() -> bool:
    """Make this process non-dumpable; False where the platform cannot."""
    libc = _libc()
    return libc is not None and int(libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)) == 0


def dumpable() -> bool | None:
    libc = _libc()
    return None if libc is None else bool(libc.prctl(_PR_GET_DUMPABLE, 0, 0, 0, 0))


def environment_block() -> tuple[int, int] | None:
    """The start and end address of this process's environment block (fields 50 and 51 of /proc/self/stat)."""
    try:
        text = STAT.read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    fields = text.rsplit(")", 1)[-1].split()  # after the command name, which may hold spaces
    # Field 3 (state) is fields[0]: field n is fields[n - 3].
    try:
        start, end = int(fields[50 - 3]), int(fields[51 - 3])
    except (IndexError, ValueError):
        return None
    return (start, end) if 0 < start < end else None


def scrub_environment(names: Iterable[str], values: Iterable[str]) -> int:
    """Overwrite with NUL bytes, in the environment block the kernel shows, the values of the variables
    `names` and every occurrence of `values`. Returns how many bytes were overwritten (0 where the
    block cannot be found: not Linux, or an old kernel)."""
    block = environment_block()
    if block is None:
        return 0
    start, end = block
    data = ctypes.string_at(start, end - start)
    spans: list[tuple[int, int]] = []
    offset = 0
    for entry in data.split(b"\0"):  # NAME=value entries, each ended by a NUL
        name, sep, _value = entry.partition(b"=")
        if sep and name.decode("utf-8", "replace") in set(names):
            spans.append((offset + len(name) + 1, offset + len(entry)))
        offset += len(entry) + 1
    for value in {v.encode("utf-8") for v in values if v}:
        at = data.find(value)
        while at != -1:
            spans.append((at, at + len(value)))
            at = data.find(value, at + 1)
    cleared = 0
    for low, high in spans:
        if high > low:
            ctypes.memset(start + low, 0, high - low)
            cleared += high - low
    return cleared


_enabled = False


def enable(names: Iterable[str], values: Iterable[str]) -> None:
    """For the rest of this process (a `check` or `measure` that runs the pull request's code): not
    dumpable, and the credentials known so far scrubbed; `scrub` then also scrubs those found later
    (the budget's `token_env`s). Tests that run a check in their own process leave this off."""
    global _enabled
    _enabled = True
    non_dumpable()
    scrub_environment(names, values)


def scrub(names: Iterable[str], values: Iterable[str]) -> None:
    if _enabled:
        scrub_environment(names, values)
