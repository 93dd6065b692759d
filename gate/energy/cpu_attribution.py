"""CPU energy charged to the benchmark's own process tree, as pure functions on plain numbers."""

from __future__ import annotations

from dataclasses import dataclass

# Active power per logical CPU where the CPU model is unknown: a 65 W TDP desktop part with
# 8 threads, the middle of codecarbon's CPU power table.
DEFAULT_W_PER_THREAD = 65.0 / 8


@dataclass(frozen=True)
class CpuAttribution:
    """The process tree's CPU energy and the words that say how it was found."""

    energy_j: float
    method: str


def w_per_thread(tdp_w: float | None, threads: int | None) -> float:
    """Active power of one logical CPU: TDP / threads, or the documented default when unknown."""
    if tdp_w is None or threads is None or tdp_w <= 0 or threads <= 0:
        return DEFAULT_W_PER_THREAD
    return tdp_w / threads


def estimated(cpu_s: float, watts_per_thread: float) -> CpuAttribution:
    """Process CPU time × power per logical CPU."""
    return CpuAttribution(
        energy_j=max(cpu_s, 0.0) * watts_per_thread,
        method=f"estimated: process CPU time × {watts_per_thread:.2f} W per thread",
    )


def measured(package_j: float, tree_cpu_s: float, machine_cpu_s: float) -> CpuAttribution:
    """RAPL package energy × the tree's share of all CPU time over the same window."""
    share = 0.0 if machine_cpu_s <= 0 else min(max(tree_cpu_s, 0.0) / machine_cpu_s, 1.0)
    return CpuAttribution(energy_j=package_j * share, method="measured: RAPL × CPU-time share")
