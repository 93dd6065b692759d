"""Plain, frozen data passed between the gate's parts. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Provenance = Literal["measured", "estimated"]
Status = Literal["pass", "warn", "fail", "skip"]
Verdict = Literal["pass", "warn", "fail", "error"]


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


@dataclass(frozen=True)
class ScopeEnergy:
    """Energy of one scope (gpu, cpu, ram) over one window."""

    scope: str
    energy_j: float
    provenance: Provenance
    method: str  # how it was obtained, e.g. "nvml counter", "TDP x CPU load"
    gated: bool = True  # counted in energy_j (the budget's energy.scopes); otherwise reported only


@dataclass(frozen=True)
class EnergyReading:
    duration_s: float
    scopes: tuple[ScopeEnergy, ...]
    items: int | None = None  # predictions counted by the benchmark's phases (gate.phase), if any
    notes: tuple[str, ...] = ()  # how the window was chosen, what was estimated, warnings

    @property
    def energy_j(self) -> float:
        """Energy of the gated scopes: what the metrics and limits use."""
        return sum(s.energy_j for s in self.scopes if s.gated)


@dataclass(frozen=True)
class RepeatResult:
    """One measured execution of the benchmark."""

    index: int
    reading: EnergyReading
    predictions: int | None
    quality: dict[str, float]


@dataclass(frozen=True)
class ScopeSummary:
    scope: str
    energy_j: float  # median over repeats
    provenance: Provenance
    method: str
    gated: bool = True


IntensityBasis = Literal["fixed", "annual_average", "live"]
BASIS_WORDS: dict[str, str] = {"fixed": "fixed value", "annual_average": "annual average", "live": "live value"}


@dataclass(frozen=True)
class Intensity:
    """Grid carbon intensity used to turn kWh into gCO2eq, with where it came from.

    Enough is kept (value, zone, time, provider, the sources that failed first) for anyone to
    recompute or audit the emissions later.
    """

    g_per_kwh: float
    source: str  # e.g. "fixed value in green-budget.yml", "codecarbon offline data (2023)"
    zone: str | None = None
    pue: float = 1.0
    provider: str = "fixed"  # fixed | codecarbon | cloud | electricitymaps
    basis: IntensityBasis = "fixed"  # a value the user set, a yearly average, or a live reading
    timestamp: str | None = None  # ISO 8601: a live reading's datetime, an average's year
    fallback: tuple[str, ...] = ()  # "provider: why it was not used", for each source tried first


@dataclass(frozen=True)
class RunSummary:
    """Medians over repeats, per-repeat series, and how each figure was obtained."""

    repeats: int
    metrics: dict[str, float]  # METRICS keys -> median
    per_repeat: dict[str, tuple[float, ...]]
    quality: dict[str, float]  # benchmark-reported metrics -> median
    scopes: tuple[ScopeSummary, ...]
    intensity: Intensity | None  # None: the budget names no carbon source, no gCO2eq

    @property
    def provenance(self) -> Provenance:
        """`measured` only when every scope in the total (the gated scopes) was measured."""
        if all(s.provenance == "measured" for s in self.scopes if s.gated):
            return "measured"
        return "estimated"


@dataclass(frozen=True)
class Baseline:
    run_id: str
    metrics: dict[str, float]
    commit: str | None
    branch: str | None
    start_time_ms: int
    url: str | None = None
    reason: str | None = None  # why this run is the baseline, e.g. "pinned by green-gate baseline pin"
    # Per-repeat values (metric -> repeat 0..n-1), from MLflow's `repeat.<metric>` histories or from
    # the base commit's runs in paired mode. Empty: only the medians above are known.
    per_repeat: dict[str, tuple[float, ...]] = field(default_factory=dict)
    paired: bool = False  # measured in this job, alternating with this run (repeat i pairs with i)
    hardware_id: str | None = None  # fingerprint of the machine the baseline ran on, when known
    hardware: dict[str, object] | None = None  # its description (gate.hardware.Hardware.to_dict())


@dataclass(frozen=True)
class Check:
    """One rule of the budget applied to one metric."""

    metric: str
    rule: Literal["relative", "absolute", "quality"]
    status: Status
    current: float | None
    baseline: float | None = None
    change_pct: float | None = None
    limit: str = ""  # the rule as people read it, e.g. "warn > +2%, fail > +5%"
    reason: str = ""
    source_line: int | None = None  # line in green-budget.yml that set the rule
    # Relative rules decided on repeats: the interval of change_pct and how it was computed.
    interval_pct: tuple[float, float] | None = None
    confidence: float | None = None
    method: str | None = None  # "welch-log", "paired-log", or "point" (medians only)


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    checks: tuple[Check, ...]
    notes: tuple[str, ...] = field(default=())
