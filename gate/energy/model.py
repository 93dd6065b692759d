"""Energy data as plain, frozen values: what a meter read, one repeat, a run's summary. No I/O here."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from gate.carbon.model import Intensity
from gate.devices.conditions import RepeatConditions

Provenance = Literal["measured", "estimated"]
# How a CPU figure was charged: to the benchmark's own process tree, or the whole machine's reading.
CpuAttributionKind = Literal["process", "machine"]


@dataclass(frozen=True)
class MetricInfo:
    label: str
    unit: str


# The energy metrics the gate computes for every run. Names carry their unit.
METRICS: dict[str, MetricInfo] = {
    "energy_per_prediction_j": MetricInfo("Energy per prediction", "J"),
    "energy_j": MetricInfo("Energy per run", "J"),
    "energy_kwh": MetricInfo("Energy per run", "kWh"),
    "emissions_g": MetricInfo("Emissions per run", "gCO2eq"),
    "duration_s": MetricInfo("Duration", "s"),
    "mean_power_w": MetricInfo("Mean power", "W"),
    "grid_intensity_g_per_kwh": MetricInfo("Grid carbon intensity", "gCO2eq/kWh"),
}


# A phase's (a case's) own figures, each a metric of its own: phase.<name>.energy_j, ….energy_per_item_j.
PHASE_FIGURES = ("energy_j", "energy_per_item_j")


# What MLflow refuses in a metric key (it takes letters, digits, _ - . space and /), and / too: a
# case named `test_parse[small]` (pytest's parametrised names) is logged as phase.test_parse_small_.….
_KEY_UNSAFE = re.compile(r"[^\w.\- ]")


def phase_metric(name: str, figure: str) -> str:
    """The metric name of one phase's figure, e.g. phase.test_parse.energy_per_item_j; characters
    MLflow refuses in the phase's name become `_`."""
    return f"phase.{_KEY_UNSAFE.sub('_', name)}.{figure}"


@dataclass(frozen=True)
class ScopeEnergy:
    """Energy of one scope (gpu, cpu, ram) over one window."""

    scope: str
    energy_j: float
    provenance: Provenance
    method: str  # how it was obtained, e.g. "nvml counter", "TDP x CPU load"
    gated: bool = True  # counted in energy_j (the budget's energy.scopes); otherwise reported only
    attribution: CpuAttributionKind | None = None  # cpu only: what the figure was charged to
    # gpu only, per GPU: k, the energy counter over the power samples (1: they agree), where it
    # scaled them; how old a counter read's value was (fitted from the trace, or assumed)
    calibration: tuple[float, ...] = ()
    counter_staleness_s: tuple[float, ...] = ()


@dataclass(frozen=True)
class CpuWindow:
    """What a meter saw of the machine's CPU over one window, so the benchmark can be charged its share."""

    window_s: float  # wall time between the meter's start and stop
    machine_cpu_s: float | None  # busy CPU seconds of all CPUs over the window; None where unreadable
    w_per_thread: float  # active power of one logical CPU
    power_source: str  # where w_per_thread comes from: the CPU model and its TDP, or the default


@dataclass(frozen=True)
class PhaseEnergy:
    """What one measured phase drew, apart from the others (prefill vs decode).

    The GPU figure is the phase's own windows on the GPU timeline. The other scopes have no timeline
    here (an estimate, or a counter charged to the process tree after the run), so a phase gets
    `share` (its duration over the measured duration) of them, taken from the finished reading.
    """

    name: str
    duration_s: float
    items: int | None
    gpu_j: float
    share: float
    # CPU seconds the benchmark's processes spent inside the phase (from its marks), and the CPU
    # energy charged to it from them (set when the CPU figure is charged to the process tree);
    # None: the cpu scope is split by `share` like the others.
    cpu_s: float | None = None
    cpu_j: float | None = None


@dataclass(frozen=True)
class EnergyReading:
    duration_s: float
    scopes: tuple[ScopeEnergy, ...]
    items: int | None = None  # predictions counted by the benchmark's phases (gate.phase), if any
    notes: tuple[str, ...] = ()  # how the window was chosen, what was estimated, warnings
    cpu_window: CpuWindow | None = None  # set by a meter that charges CPU to the process tree, until it is
    phases: tuple[PhaseEnergy, ...] = ()  # each measured phase apart, where several were marked
    # CPU seconds of the benchmark's processes inside the measured phases (from the marks): what the
    # process-tree CPU figure is charged on. None: the whole run is measured (the tree's rusage).
    phases_cpu_s: float | None = None
    # The cpu scope still covers the whole run, not only the phases' windows (a meter without a
    # timeline): charging it to the process tree scales it to the phases' CPU seconds.
    cpu_over_run: bool = False

    @property
    def energy_j(self) -> float:
        """Energy of the gated scopes: what the metrics and limits use."""
        return sum(s.energy_j for s in self.scopes if s.gated)

    def phase_energy_j(self, phase: PhaseEnergy) -> float:
        """Gated energy of one phase: its GPU windows, and its duration's share of the other scopes."""
        total = 0.0
        for s in self.scopes:
            if s.gated:
                if s.scope == "gpu":
                    total += phase.gpu_j
                elif s.scope == "cpu" and phase.cpu_j is not None:
                    total += phase.cpu_j
                else:
                    total += s.energy_j * phase.share
        return total


@dataclass(frozen=True)
class RepeatResult:
    """One measured execution of the benchmark."""

    index: int
    reading: EnergyReading
    predictions: int | None
    quality: dict[str, float]
    conditions: RepeatConditions | None = None  # the runner around this repeat (gate.bench.conditions)


@dataclass(frozen=True)
class ScopeSummary:
    scope: str
    energy_j: float  # central figure over repeats (summary.central)
    provenance: Provenance
    method: str
    gated: bool = True
    attribution: CpuAttributionKind | None = None
    calibration: tuple[float, ...] = ()  # gpu only: per GPU, the median over the repeats
    counter_staleness_s: tuple[float, ...] = ()


@dataclass(frozen=True)
class PhaseSummary:
    """One phase's central figures over the repeats; J per item where the phase counted its items."""

    name: str
    energy_j: float
    duration_s: float
    items: int | None
    energy_per_item_j: float | None


@dataclass(frozen=True)
class RunSummary:
    """Central figures over repeats (geometric means; quality: medians), per-repeat series, and how each
    figure was obtained."""

    repeats: int
    metrics: dict[str, float]  # METRICS keys -> geometric mean of the repeats (summary.central)
    per_repeat: dict[str, tuple[float, ...]]
    quality: dict[str, float]  # benchmark-reported metrics -> median
    scopes: tuple[ScopeSummary, ...]
    intensity: Intensity | None  # None: the budget names no carbon source, no gCO2eq
    phases: tuple[PhaseSummary, ...] = ()  # each measured phase apart, where every repeat measured it
    # Each phase's per-repeat figures, under phase_metric(name, figure): what per-case limits decide on.
    phase_series: dict[str, tuple[float, ...]] = field(default_factory=dict)
    conditions: tuple[RepeatConditions, ...] = ()  # the runner around each repeat, where every repeat read it

    @property
    def energy_method(self) -> str:
        """What the gated total is made of and how each part was obtained, e.g. `cpu:estimated:process`.

        Two runs whose methods differ measured different things: their figures are not comparable.
        """
        parts = []
        for s in sorted((s for s in self.scopes if s.gated), key=lambda s: s.scope):
            parts.append(":".join((s.scope, s.provenance, *((s.attribution,) if s.attribution else ()))))
        return "+".join(parts)

    @property
    def provenance(self) -> Provenance:
        """`measured` only when every scope in the total (the gated scopes) was measured."""
        if all(s.provenance == "measured" for s in self.scopes if s.gated):
            return "measured"
        return "estimated"
