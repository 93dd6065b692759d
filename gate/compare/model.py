"""A comparison as plain, frozen values: the baseline, each check, the decision. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Status = Literal["pass", "warn", "fail", "skip"]
Verdict = Literal["pass", "warn", "fail", "error"]


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
    # the base commit's runs in paired mode. Empty: only the figures above are known.
    per_repeat: dict[str, tuple[float, ...]] = field(default_factory=dict)
    paired: bool = False  # measured in this job, alternating with this run (repeat i pairs with i)
    hardware_id: str | None = None  # fingerprint of the machine the baseline ran on, when known
    hardware: dict[str, object] | None = None  # its description (gate.devices.hardware.Hardware.to_dict())
    # How its gated energy was obtained (RunSummary.energy_method); None: a run by an older gate
    energy_method: str | None = None
    # The runner's condition when it ran: medians over its repeats (gate.devices.conditions.medians);
    # empty for a run by an older gate, or a machine where nothing could be read.
    conditions: dict[str, float] = field(default_factory=dict)


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
    method: str | None = None  # "welch-log", "paired-log", or "point" (the two figures, no interval)
    waived: str | None = None  # "waived by @user: reason" (gate.compare.waivers); the verdict ignores it
    # What an interval's change was computed from: the geometric means of the repeats it used (the
    # change is their ratio), and each side's coefficient of variation.
    geomean_current: float | None = None
    geomean_baseline: float | None = None
    cv_current_pct: float | None = None
    cv_baseline_pct: float | None = None
    inconclusive: bool = False  # the interval is wider than the limit: too noisy to judge
    # History mode: the job-to-job spread the interval includes (gate.compare.stats.JobNoise), as a
    # CV, how many past runs it rests on, and whether it is the prior rather than an estimate.
    job_noise_cv_pct: float | None = None
    job_noise_runs: int | None = None
    job_noise_assumed: bool | None = None


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    checks: tuple[Check, ...]
    notes: tuple[str, ...] = field(default=())
