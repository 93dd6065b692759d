"""Whether two runs ran under like conditions, so that a relative limit may compare them. Pure.

A run's conditions are the medians over its repeats (gate.devices.conditions.medians). Two figures
decide, each compared only when both runs have it:

- the speed index (MB a fixed SHA-256 probe hashes per CPU second): the same instructions cost
  more CPU seconds on a slower runner (another clock, a busy SMT sibling, cold caches);
- the CPU pressure (PSI `some`: the share of the window some task waited for a CPU): threads that
  spin while they wait for each other burn more CPU seconds the longer the scheduler keeps their
  partner off a core.

The tolerances are measured (benchmarks/conditions_sensitivity.py; docs/statistics.md, "Runner
conditions"): within them the CPU seconds of fixed work moved less than the usual +5% fail limit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

SPEED = "speed_index"
PRESSURE = "cpu_pressure_some_pct"


@dataclass(frozen=True)
class Tolerances:
    speed_pct: float = 6.0  # the speed index may differ by this much (percent of the baseline's)
    pressure_pts: float = 30.0  # the CPU pressure by this many percentage points


TOLERANCES = Tolerances()


@dataclass(frozen=True)
class Mismatch:
    """How this run's conditions differ from the baseline's beyond the tolerances."""

    busier: bool  # this runner was busier (slower, more pressure) than at the baseline
    figures: tuple[str, ...]  # e.g. "speed index −31%", "CPU pressure 92% vs 6%"

    def describe(self) -> str:
        """'the runner was busier than at the baseline (speed index −31%, CPU pressure 92% vs 6%)'"""
        how = "busier" if self.busier else "quieter"
        return f"the runner was {how} than at the baseline ({', '.join(self.figures)})"


def speed_change_pct(current: Mapping[str, float], baseline: Mapping[str, float]) -> float | None:
    """This run's speed index against the baseline's, in percent; None when either lacks it."""
    now, then = current.get(SPEED), baseline.get(SPEED)
    if now is None or then is None or then <= 0:
        return None
    return (now / then - 1.0) * 100.0


def mismatch(
    current: Mapping[str, float], baseline: Mapping[str, float], tolerances: Tolerances = TOLERANCES
) -> Mismatch | None:
    """None when the conditions agree within `tolerances` (or cannot be compared: a side lacks them)."""
    figures: list[str] = []
    busier = quieter = False
    speed = speed_change_pct(current, baseline)
    if speed is not None and abs(speed) > tolerances.speed_pct:
        figures.append(f"speed index {_signed(speed)}")
        busier, quieter = busier or speed < 0, quieter or speed > 0
    now, then = current.get(PRESSURE), baseline.get(PRESSURE)
    if now is not None and then is not None and abs(now - then) > tolerances.pressure_pts:
        figures.append(f"CPU pressure {now:.0f}% vs {then:.0f}%")
        busier, quieter = busier or now > then, quieter or now < then
    if not figures:
        return None
    return Mismatch(busier=busier or not quieter, figures=tuple(figures))


def distance(current: Mapping[str, float], baseline: Mapping[str, float], tolerances: Tolerances = TOLERANCES) -> float:
    """How far apart two runs' conditions are, in tolerances (0: alike; > 1 on a figure: a mismatch).
    A figure either side lacks counts as no distance: older runs are not penalised for it."""
    parts = [0.0]
    speed = speed_change_pct(current, baseline)
    if speed is not None:
        parts.append(abs(speed) / tolerances.speed_pct)
    now, then = current.get(PRESSURE), baseline.get(PRESSURE)
    if now is not None and then is not None:
        parts.append(abs(now - then) / tolerances.pressure_pts)
    return max(parts)


def prefer_matching(
    current: Mapping[str, float], candidates: Sequence[Mapping[str, float]], tolerances: Tolerances = TOLERANCES
) -> int | None:
    """Among eligible baselines (newest last), the newest whose conditions match this run's; None
    when the newest already matches, or none does (the newest then stays the baseline)."""
    if not candidates or mismatch(current, candidates[-1], tolerances) is None:
        return None
    for index in range(len(candidates) - 2, -1, -1):
        if mismatch(current, candidates[index], tolerances) is None:
            return index
    return None


def _signed(value: float) -> str:
    return f"{value:+.0f}%".replace("-", "−")
