"""Turn measured repeats into the figures the gate reports and gates on. Pure functions."""

from __future__ import annotations

import statistics

from gate.carbon.model import Intensity
from gate.energy.model import RepeatResult, RunSummary, ScopeSummary
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
        scopes.append(
            ScopeSummary(
                first.scope, statistics.median(values), first.provenance, first.method, first.gated, first.attribution
            )
        )
    return RunSummary(
        repeats=len(repeats),
        metrics={name: statistics.median(values) for name, values in per_repeat.items()},
        per_repeat=per_repeat,
        quality=quality,
        scopes=tuple(scopes),
        intensity=intensity,
    )
