"""The decide stage: a baseline measured with another energy method is never compared on numbers."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from gate.compare import stats
from gate.config.load import parse_budget
from gate.devices.hardware import Hardware
from gate.energy.model import EnergyReading, RepeatResult, ScopeEnergy
from gate.energy.summary import summarise
from gate.pipeline.adaptive import AdaptiveRun
from gate.pipeline.decide import decide
from gate.pipeline.measure import Measurement
from tests.helpers import baseline

BUDGET = parse_budget(
    "version: 1\nbenchmarks:\n  - name: b\n    command: python -c pass\n"
    "limits:\n  energy_per_prediction_j:\n    warn: 2\n    fail: 5\n",
    Path("green-budget.yml"),
)
RULES = BUDGET.benchmarks[0].rules
HARDWARE = Hardware("Intel(R) Xeon(R) Processor", 2, ())


def measured(cpu_j: float) -> Measurement:
    scopes = (
        ScopeEnergy("cpu", cpu_j, "estimated", "process CPU time × 8.12 W per thread (d)", attribution="process"),
        ScopeEnergy("ram", 50.0, "estimated", "codecarbon RAM model", gated=False),
    )
    repeats = [RepeatResult(i, EnergyReading(10.0, scopes), 1000, {}) for i in range(5)]
    return Measurement(summarise(repeats, None))


def test_a_baseline_measured_machine_wide_gives_no_minus_90_percent() -> None:
    old = replace(baseline(energy_per_prediction_j=0.28), energy_method="cpu:estimated:machine+ram:estimated")
    decision = decide(measured(28.0), old, RULES, BUDGET, HARDWARE, None)  # 0.028 J/pred: -90%
    assert decision is not None
    (check,) = decision.checks
    assert check.change_pct is None and check.status != "pass"
    assert check.reason == (
        "not comparable: baseline with another energy method "
        "(energy method: cpu:estimated:machine+ram:estimated vs cpu:estimated:process)"
    )
    assert decision.notes[0].startswith("Not comparable: the baseline was measured with another energy method")


def test_a_baseline_by_an_older_gate_is_not_compared_either() -> None:
    decision = decide(measured(28.0), baseline(energy_per_prediction_j=0.28), RULES, BUDGET, HARDWARE, None)
    assert decision is not None and decision.checks[0].change_pct is None


def test_the_same_method_is_compared() -> None:
    same = replace(baseline(energy_per_prediction_j=0.028), energy_method="cpu:estimated:process")
    decision = decide(measured(28.0), same, RULES, BUDGET, HARDWARE, None)
    assert decision is not None and decision.checks[0].change_pct == 0.0


def test_an_adaptive_run_decides_its_efficiency_limit_at_the_per_look_confidence_too() -> None:
    budget = parse_budget(
        "version: 1\nbenchmarks:\n  - name: b\n    command: python -c pass\n    repeats: {min: 3, max: 12}\n"
        "limits:\n  energy_per_prediction_j: {warn: +2%, fail: +5%}\n"
        "quality:\n  top1: {efficiency: {warn: +2%, fail: +5%}}\n",
        Path("green-budget.yml"),
    )
    rules = budget.benchmarks[0].rules
    scopes = (ScopeEnergy("cpu", 28.0, "estimated", "process CPU time × 8.12 W per thread (d)", attribution="process"),)
    repeats = [
        RepeatResult(i, EnergyReading(10.0, (replace(scopes[0], energy_j=28.0 * j),)), 1000, {"top1": 0.9})
        for i, j in enumerate((1.0, 1.01, 0.99, 1.005, 0.995))
    ]
    now = replace(Measurement(summarise(repeats, None)), adaptive=AdaptiveRun(3, 12, 5, "decided"))
    base = replace(
        baseline(energy_per_prediction_j=0.028, top1=0.9),
        energy_method="cpu:estimated:process",
        per_repeat={"energy_per_prediction_j": (0.028, 0.0281, 0.0279, 0.02805, 0.02795)},
    )
    decision = decide(now, base, rules, budget, HARDWARE, None)
    assert decision is not None
    confidences = {check.metric: check.confidence for check in decision.checks}
    assert (
        confidences["energy_per_prediction_j"] == confidences["efficiency:top1"] == stats.look_confidence(0.95, 3, 12)
    )
