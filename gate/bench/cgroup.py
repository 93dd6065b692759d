"""The benchmark in a cgroup of its own (cgroup v2), where this machine lets the gate make one.

A process group and the subreaper (gate.bench.subreaper) find what a benchmark starts, unless a
process leaves the group and clears its environment (`setsid -f env -i ...`) and so carries no mark
of the benchmark. A cgroup keeps every descendant whatever it does: a process cannot leave it
without write access to the cgroup tree above it. Where the cgroup v2 tree is writable (a root
gate, a delegated subtree) the benchmark starts in `<the gate's cgroup>/green-gate-<pid>-<n>`, and
ending the benchmark ends every process in it (`cgroup.kill`, or SIGKILL to each member on kernels
before 5.14). Elsewhere (a read-only /sys/fs/cgroup in a container, cgroup v1 only, not Linux)
`create` returns None and the gate falls back to the group and the subreaper, and says so.

The only module that touches /sys/fs/cgroup.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

MOUNTINFO = Path("/proc/self/mountinfo")
OWN_CGROUP = Path("/proc/self/cgroup")
_counter = itertools.count(1)

# How the benchmark's first process joins its cgroup before it becomes the benchmark: the shell
# writes its own pid ("0") into cgroup.procs, then execs the command. Every process it starts is
# born inside. `$0` is the cgroup.procs path, the rest the command.
JOIN = 'echo 0 > "$0" 2>/dev/null || echo "green-gate: could not join the benchmark cgroup" >&2; exec "$@"'


@dataclass(frozen=True)
class Cgroup:
    path: Path

    @property
    def procs_file(self) -> Path:
        return self.path / "cgroup.procs"

    def wrap(self, argv: list[str]) -> list[str]:
        """`argv` started inside this cgroup."""
        return ["/bin/sh", "-c", JOIN, str(self.procs_file), *argv]

    def pids(self) -> list[int]:
        try:
            text = self.procs_file.read_text(encoding="ascii")
        except OSError:
            return []
        return [int(line) for line in text.split() if line.isdigit()]

    def kill(self) -> None:
        """SIGKILL to every process in it, at once where the kernel can (`cgroup.kill`)."""
        try:
            (self.path / "cgroup.kill").write_text("1", encoding="ascii")
            return
        except OSError:
            pass
        for _ in range(5):  # a process forking while it is killed leaves new ones: a few rounds
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)

    def remove(self, timeout_s: float) -> bool:
        """Remove the cgroup once its processes have exited (a killed process leaves it as it exits)."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                self.path.rmdir()
                return True
            except FileNotFoundError:
                return True
            except OSError:
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.01)


def create() -> Cgroup | None:
    """A new cgroup below the gate's own, or None where the cgroup v2 tree cannot be written."""
    if not sys.platform.startswith("linux"):
        return None
    root, own = _cgroup2_root(), _own_path()
    if root is None or own is None:
        return None
    parent = root / own.lstrip("/")
    _end_stale(parent)
    path = parent / f"green-gate-{os.getpid()}-{next(_counter)}"
    try:
        path.mkdir()
    except OSError:
        return None
    # Moving a process needs write access to the cgroup.procs of both cgroups (the common ancestor's).
    if not (os.access(path / "cgroup.procs", os.W_OK) and os.access(parent / "cgroup.procs", os.W_OK)):
        with contextlib.suppress(OSError):
            path.rmdir()
        return None
    return Cgroup(path)


_STALE = re.compile(r"green-gate-(\d+)-\d+")


def _end_stale(parent: Path) -> None:
    """The cgroups a gate killed with SIGKILL left (its pid in the name is gone): what still runs in
    them is a benchmark nobody ends otherwise; end it and remove them."""
    try:
        entries = list(parent.iterdir())
    except OSError:
        return
    for entry in entries:
        match = _STALE.fullmatch(entry.name)
        if match is None or _alive(int(match.group(1))):
            continue
        stale = Cgroup(entry)
        stale.kill()
        stale.remove(1.0)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _cgroup2_root() -> Path | None:
    """Where the cgroup v2 hierarchy is mounted (/sys/fs/cgroup, or /sys/fs/cgroup/unified on hybrid systems)."""
    try:
        lines = MOUNTINFO.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    for line in lines:
        before, sep, after = line.partition(" - ")
        fields = before.split()
        if sep and after.split()[:1] == ["cgroup2"] and len(fields) >= 5:
            return Path(fields[4].replace("\\040", " "))
    return None


def _own_path() -> str | None:
    """This process's cgroup v2 path (the `0::` line of /proc/self/cgroup)."""
    try:
        lines = OWN_CGROUP.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith("0::"):
            path = line[3:]
            return None if path.endswith(" (deleted)") else path
    return None
