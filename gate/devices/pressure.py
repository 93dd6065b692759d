"""The CPU-contention boundary (Linux): pressure stall information and the load average.

`/proc/pressure/cpu` (and the cgroup's `cpu.pressure`, cgroup v2) count, in microseconds since boot,
the time at least one runnable task waited for a CPU (`some`) and the time all of them did
(`full`); their difference over a window, divided by the window, is the share of it spent
waiting. `/proc/loadavg` holds the 1/5/15-minute averages of runnable tasks. Each reader returns
None where the file is missing or unreadable (not Linux, PSI off, cgroup v1), never raises.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PROC_PRESSURE_CPU = Path("/proc/pressure/cpu")
PROC_LOADAVG = Path("/proc/loadavg")
PROC_SELF_CGROUP = Path("/proc/self/cgroup")
CGROUP2_ROOT = Path("/sys/fs/cgroup")


@dataclass(frozen=True)
class StallTotals:
    """Cumulative stall time since boot, in microseconds; `full` is None where the kernel has none."""

    some_us: int
    full_us: int | None


def stall_totals_from(text: str) -> StallTotals | None:
    """A PSI file's `total=` counters; None when the `some` line is missing or malformed."""
    totals: dict[str, int] = {}
    for line in text.splitlines():
        fields = line.split()
        if not fields or fields[0] not in ("some", "full"):
            continue
        for field in fields[1:]:
            key, _, value = field.partition("=")
            if key == "total":
                try:
                    totals[fields[0]] = int(value)
                except ValueError:
                    return None
    if "some" not in totals:
        return None
    return StallTotals(totals["some"], totals.get("full"))


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


def cpu_stall_totals(path: Path = PROC_PRESSURE_CPU) -> StallTotals | None:
    """The whole machine's CPU stall counters now."""
    text = _read(path)
    return stall_totals_from(text) if text is not None else None


def cgroup_cpu_pressure_path(cgroup_text: str, root: Path = CGROUP2_ROOT) -> Path | None:
    """This process's cgroup v2 `cpu.pressure` file from /proc/self/cgroup's text (`0::/path`)."""
    for line in cgroup_text.splitlines():
        hierarchy, _, rest = line.partition(":")
        controllers, _, relative = rest.partition(":")
        if hierarchy == "0" and controllers == "" and relative.startswith("/"):
            return root / relative.lstrip("/") / "cpu.pressure"
    return None


def cgroup_cpu_stall_totals(cgroup_file: Path = PROC_SELF_CGROUP, root: Path = CGROUP2_ROOT) -> StallTotals | None:
    """The CPU stall counters of the cgroup this process (and so the benchmark it starts) runs in."""
    text = _read(cgroup_file)
    path = cgroup_cpu_pressure_path(text, root) if text is not None else None
    return cpu_stall_totals(path) if path is not None else None


def load_average_1m(path: Path = PROC_LOADAVG) -> float | None:
    """The 1-minute load average: runnable (and uninterruptible) tasks, averaged."""
    text = _read(path)
    try:
        return float(text.split()[0]) if text else None
    except (ValueError, IndexError):
        return None
