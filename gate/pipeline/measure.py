"""Measure stage: run one benchmark's warm-up and repeats and summarise them.

A failed benchmark is a value here, not an exception: what it measured before it failed is kept,
with its output tail, so that the result file holds it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from gate import console
from gate.bench.runner import BenchmarkFailed, run_benchmark
from gate.bench.thermal import ThermalControl
from gate.compare import verdict
from gate.compare.model import Baseline
from gate.config.budget import BenchmarkSpec, Rules
from gate.devices import conditions
from gate.energy.meter import EnergyMeter
from gate.energy.model import RepeatResult, RunSummary
from gate.energy.summary import reading_warnings, summarise
from gate.pipeline.adaptive import AdaptiveRun, Stopping
from gate.pipeline.plan import Job


@dataclass(frozen=True)
class Measurement:
    summary: RunSummary | None  # None when no repeat completed
    error: str | None = None  # the benchmark failed, or did not report what the rules need
    output_tail: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    # Paired comparisons only: the base commit measured in this job, as the verdict reads it and as run.
    baseline: Baseline | None = None
    base: RunSummary | None = None
    adaptive: AdaptiveRun | None = None  # adaptive repeats: how many ran, and why they stopped

    @property
    def paired(self) -> bool:
        return self.baseline is not None and self.baseline.paired


def measure(
    job: Job,
    meter: EnergyMeter,
    log: Callable[[str], None],
    *,
    on_repeat: Callable[[Measurement], None] | None = None,
    stopping: Stopping | None = None,
) -> Measurement:
    """`on_repeat` gets the measurement of the repeats so far after each one, as a partial result.
    `stopping` (adaptive repeats) says after each repeat past the minimum whether to measure another."""
    spec = job.spec
    thermal = thermal_control(spec)
    error: str | None = None
    tail: tuple[str, ...] = ()

    def partial(repeats: tuple[RepeatResult, ...]) -> None:
        if on_repeat is not None:
            notes = tuple(thermal.notes) if thermal else ()
            on_repeat(Measurement(summarise(list(repeats), job.plan.intensity), notes=notes))

    try:
        more = stopping.more if stopping is not None else None
        repeats = run_benchmark(
            spec, meter, echo=console.echo, log=log, thermal=thermal, on_repeat=partial, more=more
        ).repeats
    except BenchmarkFailed as exc:
        error, tail, repeats = exc.render(), exc.tail, exc.completed
    summary = summarise(repeats, job.plan.intensity) if repeats else None
    notes = (*(thermal.notes if thermal else ()), *reading_warnings(list(repeats)))
    if error is None and summary is not None:
        error = missing_inputs(job.rules, summary)
    spin = conditions.spin_note(summary.conditions) if summary is not None else None
    if spin is not None:
        notes = (*notes, spin)
    disturbed = conditions.disturbance_notes(summary.conditions) if summary is not None else ()
    if disturbed:
        notes = (
            *notes,
            "GPU disturbed: " + "; ".join(disturbed) + ". Such repeats are left out of relative limits on both "
            "sides alike (docs/statistics.md, 'Runner conditions').",
        )
    adaptive = stopping.result(len(repeats)) if stopping is not None else None
    if adaptive is not None:
        notes = (*notes, adaptive.describe())
    return Measurement(summary, error, tail, notes, adaptive=adaptive)


def missing_inputs(rules: Rules, summary: RunSummary) -> str | None:
    """The rules this run cannot be judged on, as one error; None when every rule has its input."""
    missing = verdict.missing_inputs(rules, summary)
    return "; ".join(missing) if missing else None


def thermal_control(spec: BenchmarkSpec) -> ThermalControl | None:
    from gate.devices import nvml

    env = {**os.environ, **spec.env}  # the benchmark's GPUs (its CUDA_VISIBLE_DEVICES), not every GPU
    control = ThermalControl(spec.cooldown_s, spec.max_start_temperature_c, lambda: nvml.temperatures_c(env))
    return control if control.active else None
