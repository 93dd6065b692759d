"""CPU energy charged to the benchmark's own process tree, as pure functions on plain values.

A machine-wide CPU figure moves with whatever else runs on the machine (another job, the gate's own
sampler) and, as a TDP × load model, with wall time alone. Charging the tree its own CPU seconds
makes the figure follow the code under review:

- `estimated`: the tree's CPU seconds × the active power of one logical CPU (TDP / threads);
- `measured`: where RAPL is readable, the package energy over the window × the tree's share of all
  the CPU time spent on the machine over that window.

The report shows each as `<provenance>: <method>`, e.g.
`estimated: process CPU time × 8.12 W per thread (default: CPU model unknown)`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from gate.energy.model import CpuWindow, EnergyReading, ScopeEnergy

# Active power per logical CPU where the CPU model is unknown: a 65 W TDP desktop part with
# 8 threads, the middle of codecarbon's CPU power table.
DEFAULT_W_PER_THREAD = 65.0 / 8
# No CPU draws more than this per logical CPU at full load; a higher TDP / threads means the
# machine (a VM) sees only a slice of a larger part, and TDP / visible threads would overcharge.
MAX_PLAUSIBLE_W_PER_THREAD = 20.0
MACHINE_PREFIX = "machine-wide: "


@dataclass(frozen=True)
class CpuAttribution:
    """The process tree's CPU energy and the words that say how it was found."""

    energy_j: float
    method: str


@dataclass(frozen=True)
class CpuPower:
    """Active power of one logical CPU and where the figure comes from."""

    w_per_thread: float
    source: str


def w_per_thread(tdp_w: float | None, threads: int | None) -> float:
    """Active power of one logical CPU: TDP / threads, or the documented default when unknown."""
    if tdp_w is None or threads is None or tdp_w <= 0 or threads <= 0:
        return DEFAULT_W_PER_THREAD
    return tdp_w / threads


def cpu_power(model: str | None, tdp_w: float | None, threads: int | None) -> CpuPower:
    """Power per logical CPU for a CPU model found (or not) in codecarbon's CPU power table."""
    if model is None or tdp_w is None or threads is None or tdp_w <= 0 or threads <= 0:
        name = model or "CPU model unknown"
        return CpuPower(DEFAULT_W_PER_THREAD, f"default: {name} not in codecarbon's CPU power table")
    per_thread = tdp_w / threads
    if per_thread > MAX_PLAUSIBLE_W_PER_THREAD:
        return CpuPower(
            DEFAULT_W_PER_THREAD,
            f"default: {model} TDP {tdp_w:g} W over the {threads} threads visible here is not plausible",
        )
    return CpuPower(per_thread, f"{model}, TDP {tdp_w:g} W / {threads} threads")


def estimated(cpu_s: float, watts_per_thread: float) -> CpuAttribution:
    """Process CPU time × power per logical CPU."""
    return CpuAttribution(
        energy_j=max(cpu_s, 0.0) * watts_per_thread,
        method=f"process CPU time × {watts_per_thread:.2f} W per thread",
    )


def measured(package_j: float, tree_cpu_s: float, machine_cpu_s: float) -> CpuAttribution:
    """RAPL package energy × the tree's share of all CPU time over the same window."""
    share = 0.0 if machine_cpu_s <= 0 else min(max(tree_cpu_s, 0.0) / machine_cpu_s, 1.0)
    return CpuAttribution(energy_j=package_j * share, method="RAPL × CPU-time share")


def attribute(reading: EnergyReading, tree_cpu_s: float) -> EnergyReading:
    """The reading with its cpu scope charged to the process tree (`tree_cpu_s` CPU seconds).

    A reading without `cpu_window` (a meter in `energy.cpu: machine` mode) is returned unchanged.
    Where the benchmark marked phases, their marks carry the CPU time of the processes that wrote
    them (`phases_cpu_s`, each phase's `cpu_s`): the estimate is charged on the CPU seconds inside
    the measured phases, and each phase gets the part of the cpu figure its own CPU seconds are.
    A measured (RAPL) figure is a share of package energy: it is scaled to the phases' CPU seconds
    only where it still covers the whole run (`cpu_over_run`).
    """
    window = reading.cpu_window
    if window is None:
        return reading
    inside_s = reading.phases_cpu_s
    charged_s = tree_cpu_s if inside_s is None else min(inside_s, tree_cpu_s) if tree_cpu_s > 0 else inside_s
    scopes = tuple(
        _charged(s, tree_cpu_s, charged_s, reading, window) if s.scope == "cpu" else s for s in reading.scopes
    )
    cpu = next((s for s in scopes if s.scope == "cpu"), None)
    phases = reading.phases
    if cpu is not None and inside_s is not None and inside_s > 0:
        phases = tuple(
            replace(p, cpu_j=cpu.energy_j * min(p.cpu_s / inside_s, 1.0)) if p.cpu_s is not None else p for p in phases
        )
    return replace(reading, scopes=scopes, cpu_window=None, phases=phases)


def _charged(
    scope: ScopeEnergy, tree_cpu_s: float, charged_s: float, reading: EnergyReading, window: CpuWindow
) -> ScopeEnergy:
    if scope.provenance == "measured" and window.machine_cpu_s is not None:
        found = measured(scope.energy_j, tree_cpu_s, window.machine_cpu_s)
        method = f"{found.method} ({max(tree_cpu_s, 0.0):.2f} of {window.machine_cpu_s:.2f} CPU s)"
        energy_j = found.energy_j
        if reading.cpu_over_run and reading.phases_cpu_s is not None and tree_cpu_s > 0:
            energy_j *= charged_s / tree_cpu_s
            method += f", {charged_s:.2f} CPU s inside the phases"
        return replace(scope, energy_j=energy_j, method=method, attribution="process")
    found = estimated(charged_s, window.w_per_thread)
    return ScopeEnergy(
        "cpu",
        found.energy_j,
        "estimated",
        f"{found.method} ({window.power_source})",
        gated=scope.gated,
        attribution="process",
    )


def machine_wide(reading: EnergyReading) -> EnergyReading:
    """The reading as the meter took it (`energy.cpu: machine`), its cpu scope labelled as such."""
    return replace(
        reading,
        scopes=tuple(
            replace(s, method=MACHINE_PREFIX + s.method, attribution="machine") if s.scope == "cpu" else s
            for s in reading.scopes
        ),
    )
