"""The /proc/stat boundary: CPU time spent by the whole machine (Linux).

The first line sums all CPUs, in clock ticks (USER_HZ): user nice system idle iowait irq softirq
steal guest guest_nice. Busy time is user + nice + system + irq + softirq: idle and iowait are not
work, steal is time the hypervisor gave to someone else, and guest is already counted in user.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROC_STAT = Path("/proc/stat")
_BUSY_FIELDS = (0, 1, 2, 5, 6)  # user nice system irq softirq


def busy_s_from(text: str, ticks_per_s: float) -> float | None:
    """Busy CPU seconds of all CPUs from /proc/stat's text; None when it has no `cpu` line."""
    for line in text.splitlines():
        fields = line.split()
        if fields and fields[0] == "cpu":
            try:
                values = [int(v) for v in fields[1:]]
            except ValueError:
                return None
            return sum(values[i] for i in _BUSY_FIELDS if i < len(values)) / ticks_per_s
    return None


def machine_busy_s(path: Path = PROC_STAT) -> float | None:
    """Busy CPU seconds of the machine since boot; None where /proc/stat is unreadable (not Linux)."""
    try:
        text = path.read_text()
        ticks = os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, AttributeError):
        return None
    return busy_s_from(text, float(ticks)) if ticks > 0 else None


@dataclass(frozen=True)
class CpuTimes:
    """The machine's CPU seconds since boot, all CPUs together: work done, stolen by the hypervisor, all."""

    busy_s: float
    steal_s: float
    total_s: float  # every field but guest (already in user): busy, idle, iowait and steal


def cpu_times_from(text: str, ticks_per_s: float) -> CpuTimes | None:
    """/proc/stat's `cpu` line as CpuTimes; None when it has none or it is malformed."""
    for line in text.splitlines():
        fields = line.split()
        if fields and fields[0] == "cpu":
            try:
                values = [int(v) for v in fields[1:9]]
            except ValueError:
                return None
            values += [0] * (8 - len(values))
            busy = sum(values[i] for i in _BUSY_FIELDS)
            return CpuTimes(busy / ticks_per_s, values[7] / ticks_per_s, sum(values) / ticks_per_s)
    return None


def machine_cpu_times(path: Path = PROC_STAT) -> CpuTimes | None:
    """The machine's CpuTimes now; None where /proc/stat is unreadable (not Linux)."""
    try:
        text = path.read_text()
        ticks = os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, AttributeError):
        return None
    return cpu_times_from(text, float(ticks)) if ticks > 0 else None
