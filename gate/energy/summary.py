"""Turn measured repeats into the figures the gate reports and gates on. Pure functions.

One central statistic per figure, used wherever a person reads a number (report, comment, chart,
MLflow, `history`, `baseline show`, Prometheus): the geometric mean of the repeats for energy-like
figures, the median for the benchmark's quality metrics. Why: docs/statistics.md.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable

from gate.carbon.model import Intensity
from gate.devices import conditions as gpu_conditions
from gate.energy.model import PhaseSummary, RepeatResult, RunSummary, ScopeSummary, phase_metric
from gate.units import emissions_g, j_to_kwh

# How the report names the central statistic, once per benchmark.
CENTRAL_STATISTIC = "geometric mean"
QUALITY_STATISTIC = "median"


def central(values: Iterable[float]) -> float:
    """The central figure of an energy-like series: the geometric mean of the repeats.

    The change between two runs is the ratio of their geometric means (its interval is built on log
    ratios, gate.compare.stats), so figures shown as geometric means agree with the change exactly,
    and figures that are a constant times another (J and kWh) keep that ratio. A series with a repeat
    of 0 or less has no logarithm: all zero (the process-attributed CPU energy of an idle benchmark)
    is 0; some zero, the median, as a geometric mean would be 0 whatever the other repeats drew.
    """
    series = list(values)
    if not series:
        raise ValueError("central() needs at least one value")
    first = series[0]
    if all(v == first for v in series):
        return first  # exactly, without a round trip through logarithms
    if all(v > 0 and math.isfinite(v) for v in series):
        return math.exp(statistics.fmean(math.log(v) for v in series))
    return statistics.median(series)


def repeat_metrics(repeat: RepeatResult, intensity: Intensity | None) -> dict[str, float]:
    """The gate's metrics for one repeat (see models.METRICS)."""
    energy_j = repeat.reading.energy_j
    duration_s = repeat.reading.duration_s
    energy_kwh = j_to_kwh(energy_j)
    metrics = {
        "energy_j": energy_j,
        "energy_kwh": energy_kwh,
        "duration_s": duration_s,
        "mean_power_w": energy_j / duration_s if duration_s > 0 else 0.0,
    }
    if repeat.predictions:
        metrics["energy_per_prediction_j"] = energy_j / repeat.predictions
    if intensity is not None:
        metrics["emissions_g"] = emissions_g(energy_kwh, intensity.g_per_kwh, intensity.pue)
        metrics["grid_intensity_g_per_kwh"] = intensity.g_per_kwh  # so a budget can hold a ceiling on it
    return metrics


def summarise(repeats: list[RepeatResult], intensity: Intensity | None) -> RunSummary:
    """Central figures over repeats (central(); quality metrics: medians). A metric is summarised only
    when every repeat has it."""
    if not repeats:
        raise ValueError("summarise() needs at least one repeat")
    per_repeat_rows = [repeat_metrics(r, intensity) for r in repeats]
    per_repeat = {
        name: tuple(row[name] for row in per_repeat_rows)
        for name in per_repeat_rows[0]
        if all(name in row for row in per_repeat_rows)
    }
    quality_names = set(repeats[0].quality).intersection(*(r.quality for r in repeats))
    quality = {name: statistics.median(r.quality[name] for r in repeats) for name in sorted(quality_names)}
    scopes = []
    for first in repeats[0].reading.scopes:
        values = [s.energy_j for r in repeats for s in r.reading.scopes if s.scope == first.scope]
        same = [s for r in repeats for s in r.reading.scopes if s.scope == first.scope]
        scopes.append(
            ScopeSummary(
                first.scope,
                central(values),
                first.provenance,
                first.method,
                first.gated,
                first.attribution,
                _per_gpu_median([s.calibration for s in same]),
                _per_gpu_median([s.counter_staleness_s for s in same]),
            )
        )
    metrics = {name: central(values) for name, values in per_repeat.items()}
    conditions = tuple(r.conditions for r in repeats if r.conditions is not None)
    if len(conditions) == len(repeats) and any(c.gpus for c in conditions):
        # which repeats a throttled GPU or a tenant disturbed: 1.0, else 0.0 (a flag, not a metric)
        flags = gpu_conditions.disturbances([c.gpus for c in conditions])
        per_repeat[gpu_conditions.DISTURBED] = tuple(0.0 if f is None else 1.0 for f in flags)
    return RunSummary(
        repeats=len(repeats),
        metrics=metrics,
        per_repeat=per_repeat,
        quality=quality,
        scopes=tuple(scopes),
        intensity=intensity,
        phases=phase_summaries(repeats),
        phase_series=phase_series(repeats),
        conditions=conditions if len(conditions) == len(repeats) else (),
    )


def _per_gpu_median(rows: list[tuple[float, ...]]) -> tuple[float, ...]:
    """Per GPU, the median over the repeats that have a value for every GPU (the same count)."""
    full = [row for row in rows if row and len(row) == len(rows[0])]
    return tuple(statistics.median(column) for column in zip(*full, strict=True)) if full else ()


def reading_warnings(repeats: list[RepeatResult]) -> tuple[str, ...]:
    """The warnings the meter gave in any repeat (a power sensor off, a reading dropped), each once."""
    return tuple(dict.fromkeys(n for r in repeats for n in r.reading.notes if n.startswith("warning: ")))


def phase_summaries(repeats: list[RepeatResult]) -> tuple[PhaseSummary, ...]:
    """Per phase, central figures over the repeats that all measured it; J per item only where every
    repeat counted the phase's items (a figure over some repeats would compare unlike runs)."""
    summaries = []
    for first in repeats[0].reading.phases:
        rows = [(r.reading, p) for r in repeats for p in r.reading.phases if p.name == first.name]
        if len(rows) != len(repeats):
            continue
        energies = [reading.phase_energy_j(p) for reading, p in rows]
        counts = [p.items for _, p in rows]
        per_item = None
        if all(c for c in counts):
            per_item = central(e / c for e, c in zip(energies, counts, strict=True) if c)
        summaries.append(
            PhaseSummary(
                first.name,
                central(energies),
                central(p.duration_s for _, p in rows),
                round(central(c for c in counts if c)) if per_item is not None else None,
                per_item,
            )
        )
    return tuple(summaries)


def phase_series(repeats: list[RepeatResult]) -> dict[str, tuple[float, ...]]:
    """Each phase's energy (and J per item, where every repeat counted its items) per repeat, for
    the phases every repeat measured: the series a per-case limit decides on."""
    series: dict[str, tuple[float, ...]] = {}
    for first in repeats[0].reading.phases:
        rows = [(r.reading, p) for r in repeats for p in r.reading.phases if p.name == first.name]
        if len(rows) != len(repeats):
            continue
        energies = tuple(reading.phase_energy_j(p) for reading, p in rows)
        series[phase_metric(first.name, "energy_j")] = energies
        counts = [p.items for _, p in rows]
        if all(counts):
            series[phase_metric(first.name, "energy_per_item_j")] = tuple(
                e / c for e, c in zip(energies, counts, strict=True) if c
            )
    return series


def phase_figures(summary: RunSummary) -> dict[str, float]:
    """Each phase figure's central value over the repeats (central()), under its metric name (as MLflow logs it)."""
    return {name: central(values) for name, values in summary.phase_series.items()}
