"""Turn measured repeats into the figures the gate reports and gates on. Pure functions."""

from __future__ import annotations

import statistics

from gate.carbon.model import Intensity
from gate.devices import conditions as gpu_conditions
from gate.energy.model import PhaseSummary, RepeatResult, RunSummary, ScopeSummary, phase_metric
from gate.units import emissions_g, j_to_kwh


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
    """Medians over repeats. A metric is summarised only when every repeat has it."""
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
                statistics.median(values),
                first.provenance,
                first.method,
                first.gated,
                first.attribution,
                _per_gpu_median([s.calibration for s in same]),
                _per_gpu_median([s.counter_staleness_s for s in same]),
            )
        )
    metrics = {name: statistics.median(values) for name, values in per_repeat.items()}
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
    """Per phase, medians over the repeats that all measured it; J per item only where every repeat
    counted the phase's items (a median over some repeats would compare unlike runs)."""
    summaries = []
    for first in repeats[0].reading.phases:
        rows = [(r.reading, p) for r in repeats for p in r.reading.phases if p.name == first.name]
        if len(rows) != len(repeats):
            continue
        energies = [reading.phase_energy_j(p) for reading, p in rows]
        counts = [p.items for _, p in rows]
        per_item = None
        if all(c for c in counts):
            per_item = statistics.median(e / c for e, c in zip(energies, counts, strict=True) if c)
        summaries.append(
            PhaseSummary(
                first.name,
                statistics.median(energies),
                statistics.median(p.duration_s for _, p in rows),
                round(statistics.median(c for c in counts if c)) if per_item is not None else None,
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


def phase_medians(summary: RunSummary) -> dict[str, float]:
    """Each phase figure's median over the repeats, under its metric name (as MLflow logs it)."""
    return {name: statistics.median(values) for name, values in summary.phase_series.items()}
