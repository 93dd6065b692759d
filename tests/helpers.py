"""Plain-data builders for tests of the pure core."""

from __future__ import annotations

from gate.carbon.model import Intensity
from gate.compare.model import Baseline
from gate.energy.model import EnergyReading, RepeatResult, RunSummary, ScopeEnergy
from gate.energy.summary import summarise


def repeat(
    energy_j: float,
    duration_s: float = 2.0,
    predictions: int | None = 1000,
    index: int = 0,
    quality: dict[str, float] | None = None,
) -> RepeatResult:
    reading = EnergyReading(
        duration_s=duration_s,
        scopes=(
            ScopeEnergy("cpu", energy_j * 0.25, "estimated", "TDP x load"),
            ScopeEnergy("ram", energy_j * 0.75, "estimated", "RAM model"),
        ),
    )
    return RepeatResult(index=index, reading=reading, predictions=predictions, quality=quality or {})


def summary(
    energies_j: list[float],
    predictions: int | None = 1000,
    quality: dict[str, float] | None = None,
    intensity: Intensity | None = None,
    power_w: float | None = None,
) -> RunSummary:
    """Repeats of the given energies; 2 s each unless `power_w` sets duration = energy / power."""
    repeats = [
        repeat(e, duration_s=e / power_w if power_w else 2.0, predictions=predictions, index=i, quality=quality)
        for i, e in enumerate(energies_j)
    ]
    return summarise(repeats, intensity)


def baseline(**metrics: float) -> Baseline:
    return Baseline(run_id="a" * 32, metrics=dict(metrics), commit="c0ffee0", branch="main", start_time_ms=0)
