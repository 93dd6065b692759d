"""A busier (or quieter) runner than at the baseline: relative limits are not comparable, never a fail."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from gate.compare.model import Baseline
from gate.config.budget import Budget
from gate.config.load import parse_budget
from gate.devices.conditions import RepeatConditions
from gate.energy.model import EnergyReading, RepeatResult, RunSummary, ScopeEnergy
from gate.energy.summary import summarise
from gate.pipeline.decide import conditions_compared, conditions_mismatch, decide
from gate.pipeline.measure import Measurement
from tests.helpers import baseline
from tests.pipeline.test_decide import HARDWARE

QUIET = {"speed_index": 1300.0, "cpu_pressure_some_pct": 6.0}


def budget(policy: str = "warn") -> Budget:
    return parse_budget(
        "version: 1\nbenchmarks:\n  - name: b\n    command: python -c pass\n"
        "limits:\n  energy_per_prediction_j:\n    warn: 2\n    fail: 5\n"
        f"policy:\n  not_comparable: {policy}\n",
        Path("green-budget.yml"),
    )


def busy(speed: float, pressure: float) -> RepeatConditions:
    return RepeatConditions(
        window_s=10.0,
        cpu_pressure_some_pct=pressure,
        cpu_pressure_full_pct=0.0,
        cgroup_cpu_pressure_some_pct=None,
        steal_pct=0.0,
        others_busy_pct=60.0,
        cpu_per_wall=1.0,
        load_avg_1m=6.0,
        speed_index=speed,
        speed_before=speed,
        speed_after=speed,
        probe_cpu_share=0.4,
        threads_max=1,
        cpus=2,
    )


def measured(cpu_j: list[float], conditions: RepeatConditions | None) -> Measurement:
    repeats = [
        RepeatResult(
            i,
            EnergyReading(10.0, (ScopeEnergy("cpu", j, "estimated", "process CPU time", attribution="process"),)),
            1000,
            {},
            conditions,
        )
        for i, j in enumerate(cpu_j)
    ]
    return Measurement(summarise(repeats, None))


BASE_J = [100.0, 101.0, 99.5, 100.3, 99.8]
PLUS_55 = [155.0, 156.0, 154.0, 155.5, 154.5]


def history_baseline(conditions: dict[str, float]) -> Baseline:
    base = measured(BASE_J, None).summary
    assert base is not None
    return replace(
        baseline(**base.metrics),
        per_repeat=base.per_repeat,
        energy_method="cpu:estimated:process",
        conditions=conditions,
    )


@pytest.mark.parametrize(
    ("policy", "status", "verdict"), [("warn", "warn", "warn"), ("fail", "warn", "warn"), ("pass", "skip", "pass")]
)
def test_a_busier_runner_makes_plus_55_percent_not_comparable_and_never_a_fail(
    policy: str, status: str, verdict: str
) -> None:
    b = budget(policy)
    decision = decide(
        measured(PLUS_55, busy(897.0, 92.0)), history_baseline(QUIET), b.benchmarks[0].rules, b, HARDWARE, None
    )
    assert decision is not None and decision.verdict == verdict
    (check,) = decision.checks
    assert check.status == status and check.change_pct is None and check.interval_pct is None
    assert check.reason == (
        "not comparable: the runner was busier than at the baseline (speed index −31%, CPU pressure 92% vs 6%); "
        "the change (+54.8%) is not judged"
    )
    assert decision.notes[0] == (
        "Not comparable: the runner was busier than at the baseline (speed index −31%, CPU pressure 92% vs 6%). "
        f"Relative limits not applied (policy not_comparable: {'warn' if policy == 'fail' else policy})."
    )


def test_conditions_that_agree_are_compared_as_before() -> None:
    b = budget()
    decision = decide(
        measured(PLUS_55, busy(1280.0, 20.0)), history_baseline(QUIET), b.benchmarks[0].rules, b, HARDWARE, None
    )
    assert decision is not None and decision.verdict == "fail"
    assert decision.checks[0].reason.endswith("exceeds the fail limit of +5%")


def summary_of(measurement: Measurement) -> RunSummary:
    assert measurement.summary is not None
    return measurement.summary


def test_a_baseline_without_conditions_or_a_run_without_them_is_compared_as_before() -> None:
    assert conditions_mismatch(history_baseline({}), summary_of(measured(PLUS_55, busy(897.0, 92.0)))) is None
    assert conditions_mismatch(history_baseline(QUIET), summary_of(measured(PLUS_55, None))) is None
    assert conditions_mismatch(None, summary_of(measured(PLUS_55, None))) is None


def test_a_paired_base_is_measured_alike_and_never_mismatches() -> None:
    paired = replace(history_baseline(QUIET), paired=True)
    assert conditions_mismatch(paired, summary_of(measured(PLUS_55, busy(897.0, 92.0)))) is None


# An improvement far beyond the noise: the interval (−52.1% ± 14.3%) is too wide for a +5% limit but
# lies wholly below the +2% warn limit.
NOISY_HALF = [35.0, 65.0, 47.5, 55.0, 42.5]


def test_an_interval_wholly_below_the_limits_passes_when_the_conditions_were_read_and_agree() -> None:
    b = budget()
    decision = decide(
        measured(NOISY_HALF, busy(1280.0, 20.0)), history_baseline(QUIET), b.benchmarks[0].rules, b, HARDWARE, None
    )
    assert decision is not None and decision.verdict == "pass"
    (check,) = decision.checks
    assert (check.status, check.inconclusive) == ("pass", False)
    assert check.reason == "improved: -52.1% ± 14.3% (95% CI), the whole interval is below no change"


def test_an_interval_wholly_below_the_limits_is_inconclusive_when_conditions_were_not_read() -> None:
    b = budget()
    for now, base in (
        (measured(NOISY_HALF, None), history_baseline(QUIET)),
        (measured(NOISY_HALF, busy(1280.0, 20.0)), history_baseline({})),
    ):
        decision = decide(now, base, b.benchmarks[0].rules, b, HARDWARE, None)
        assert decision is not None and decision.verdict == "warn"
        (check,) = decision.checks
        assert (check.status, check.inconclusive) == ("warn", True)
        assert check.reason == (
            "inconclusive: -52.1% ± 14.3% (95% CI); this runner's noise (CV 23.5%) is above what a +5% limit "
            "can resolve; use paired mode, more repeats, or a quieter runner"
        )


def test_conditions_are_compared_only_when_both_runs_read_them_or_the_base_is_paired() -> None:
    read, unread = summary_of(measured(PLUS_55, busy(1280.0, 20.0))), summary_of(measured(PLUS_55, None))
    assert conditions_compared(history_baseline(QUIET), read)
    assert not conditions_compared(history_baseline(QUIET), unread)
    assert not conditions_compared(history_baseline({}), read)
    assert not conditions_compared(None, read)
    assert conditions_compared(replace(history_baseline({}), paired=True), unread)
