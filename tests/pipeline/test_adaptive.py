"""Adaptive repeats' stopping rule as the runner asks it: plain values in, a stop reason out."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from gate.compare.model import Baseline
from gate.config.load import parse_budget
from gate.energy.model import RepeatResult
from gate.pipeline.adaptive import AdaptiveRun, Stopping
from tests.helpers import baseline, repeat, summary

BUDGET = """version: 1
benchmarks:
  - name: b
    command: x
    repeats: {min: 3, max: 6}
limits:
  energy_per_prediction_j: {warn: +2%, fail: +5%}
"""
SPEC = parse_budget(BUDGET, Path("green-budget.yml")).benchmarks[0]


def _base(values: tuple[float, ...] = (0.1, 0.1005, 0.0995, 0.1002)) -> Baseline:
    # Measured as these repeats are: a baseline with another energy method is not comparable.
    method = summary([100.0]).energy_method
    return replace(
        baseline(energy_per_prediction_j=0.1), per_repeat={"energy_per_prediction_j": values}, energy_method=method
    )


def _stopping(base: Baseline | None, comparable: bool = True) -> Stopping:
    return Stopping(SPEC, SPEC.rules, base, [], confidence=0.95, comparable=comparable)


def _repeats(*energies_j: float) -> tuple[RepeatResult, ...]:
    return tuple(repeat(e, predictions=1000, index=i) for i, e in enumerate(energies_j))


def test_a_clear_regression_stops_at_min_decided() -> None:
    rule = _stopping(_base())
    assert rule.look_confidence == 1 - 0.05 / 4  # 4 looks: after repeats 3, 4, 5, 6
    assert rule.more(_repeats(150.0, 151.0, 149.0)) is False
    assert rule.result(3) == AdaptiveRun(3, 6, 3, "decided")
    assert rule.result(3).describe() == "Adaptive repeats (3–6): 3 ran, stopped: decided."
    assert rule.result(3).to_dict() == {"min": 3, "max": 6, "repeats_run": 3, "stopped": "decided", "paired": False}


def test_an_undecided_change_runs_to_max() -> None:
    rule = _stopping(_base())
    assert rule.more(_repeats(103.0, 101.0, 105.0)) is True
    assert rule.result(6).stopped == "max reached"
    assert rule.result(6).describe() == "Adaptive repeats (3–6): 6 ran, stopped: max reached."


def test_without_a_baseline_it_runs_max_and_without_an_interval_min() -> None:
    first = _stopping(None)
    assert first.more(_repeats(100.0, 100.0, 100.0)) is True
    assert first.result(6).describe().startswith("Adaptive repeats (3–6): 6 ran, stopped: no baseline")
    other_method = replace(_base(), energy_method=None)  # logged by an older gate: machine-wide CPU
    for rule in (_stopping(_base(())), _stopping(_base(), comparable=False), _stopping(other_method)):
        assert rule.more(_repeats(100.0, 100.0, 100.0)) is False
        assert rule.result(3).stopped == "no interval"


def test_paired_mode_asks_with_both_sides_repeats_and_counts_pairs() -> None:
    rule = Stopping.for_pairs(SPEC, SPEC.rules, 0.95)
    assert rule is not None and Stopping.for_pairs(replace(SPEC, repeats_max=None), SPEC.rules, 0.95) is None
    base = _repeats(100.0, 100.5, 99.5)
    assert rule.more_pairs(_repeats(103.0, 101.0, 105.0), base) is True
    assert rule.more_pairs(_repeats(150.0, 151.0, 149.0), base) is False
    assert rule.result(3).describe() == "Adaptive repeats (3–6): 3 pairs ran, stopped: decided."
    assert rule.result(3).to_dict()["paired"] is True
