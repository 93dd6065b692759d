"""The decide stage: each policy wired from the budget, a baseline on other hardware or measured with
another energy method never compared on numbers, history mode's job noise."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from gate.compare import stats
from gate.compare.model import Baseline, Check, Decision, Verdict
from gate.config.budget import Budget, Level, Rules
from gate.config.load import parse_budget
from gate.devices.hardware import Hardware
from gate.energy.model import EnergyReading, PhaseSummary, RepeatResult, ScopeEnergy, phase_metric
from gate.energy.summary import summarise
from gate.errors import TrackingError
from gate.pipeline.adaptive import AdaptiveRun
from gate.pipeline.decide import decide, outage_verdict, with_outage
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
    assert (check.change_pct, check.status, decision.verdict) == (None, "warn", "warn")  # policy not_comparable: warn
    assert check.reason == (
        "not comparable: baseline with another energy method "
        "(energy method: cpu:estimated:machine+ram:estimated vs cpu:estimated:process)"
    )
    assert decision.notes[0].startswith("Not comparable: the baseline was measured with another energy method")


def test_a_baseline_by_an_older_gate_is_not_compared_either() -> None:
    decision = decide(measured(28.0), baseline(energy_per_prediction_j=0.28), RULES, BUDGET, HARDWARE, None)
    assert decision is not None and decision.checks[0].change_pct is None
    assert decision.checks[0].reason == (
        "not comparable: baseline with another energy method (energy method: not recorded (an older green-gate, "
        "CPU and RAM machine-wide) vs cpu:estimated:process)"
    )


def test_the_same_method_is_compared() -> None:
    same = replace(baseline(energy_per_prediction_j=0.028), energy_method="cpu:estimated:process")
    decision = decide(measured(28.0), same, RULES, BUDGET, HARDWARE, None)
    assert decision is not None and decision.checks[0].change_pct == 0.0
    assert (decision.checks[0].status, decision.verdict) == ("pass", "pass")


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


# --- each policy wired from the budget -------------------------------------------------------------

METHOD = "cpu:estimated:process"


def budget_with(extra: str) -> Budget:
    return parse_budget(
        "version: 1\nbenchmarks:\n  - name: b\n    command: python -c pass\n"
        "limits:\n  energy_per_prediction_j:\n    warn: 2\n    fail: 5\n" + extra,
        Path("green-budget.yml"),
    )


def measured_series(cpu_j: list[float], top1: float | None = None) -> Measurement:
    """Repeats of the given CPU energies (1000 predictions each), measured as `METHOD`."""
    quality = {"top1": top1} if top1 is not None else {}
    repeats = [
        RepeatResult(
            i,
            EnergyReading(10.0, (ScopeEnergy("cpu", e, "estimated", "process CPU time (d)", attribution="process"),)),
            1000,
            quality,
        )
        for i, e in enumerate(cpu_j)
    ]
    return Measurement(summarise(repeats, None))


def history_base(cpu_j: list[float], **extra: float) -> Baseline:
    """A baseline from history measured as this run is, with its per-repeat values."""
    series = tuple(e / 1000 for e in cpu_j)
    return replace(
        baseline(energy_per_prediction_j=sorted(series)[len(series) // 2], **extra),
        energy_method=METHOD,
        per_repeat={"energy_per_prediction_j": series},
    )


@pytest.mark.parametrize(("policy", "status"), [("pass", "skip"), ("warn", "warn"), ("fail", "fail")])
def test_missing_baseline_policy_decides_a_check_without_a_baseline(policy: str, status: str) -> None:
    budget = budget_with(f"policy:\n  missing_baseline: {policy}\n")
    decision = decide(measured(28.0), None, budget.benchmarks[0].rules, budget, HARDWARE, None)
    assert decision is not None
    (check,) = decision.checks
    assert (check.status, check.reason, decision.verdict) == (
        status,
        "no baseline",
        "pass" if policy == "pass" else policy,
    )
    assert decision.notes == (f"No baseline yet: relative limits not applied (missing_baseline: {policy}).",)


@pytest.mark.parametrize("policy", ["pass", "warn", "fail"])
def test_without_mlflow_the_outage_policy_speaks_for_the_missing_baseline(policy: str) -> None:
    budget = budget_with(f"policy:\n  missing_baseline: fail\n  mlflow_unavailable: {policy}\n")
    outage = TrackingError("connection refused")
    decided = decide(measured(28.0), None, budget.benchmarks[0].rules, budget, HARDWARE, outage)
    assert decided is not None
    assert (decided.checks[0].status, decided.verdict) == ("skip", "pass")  # not missing_baseline: fail
    decision = with_outage(decided, budget, outage, Path("spool"))
    assert decision is not None and decision.verdict == policy
    assert decision.notes[-1] == (
        f"MLflow unavailable (connection refused); policy mlflow_unavailable: {policy} decided. "
        "The result is kept in spool."
    )


def test_without_an_outage_or_a_decision_with_outage_changes_nothing() -> None:
    decision = decide(measured(28.0), None, RULES, BUDGET, HARDWARE, None)
    assert with_outage(decision, BUDGET, None, Path("spool")) is decision
    assert with_outage(None, BUDGET, TrackingError("down"), Path("spool")) is None


NOISY_J = [70.0, 130.0, 95.0, 110.0, 85.0]  # CV 23.5%: far too noisy for a +5% limit
STEADY_J = [100.0, 101.0, 99.5, 100.3, 99.8]


@pytest.mark.parametrize(("policy", "status"), [("pass", "skip"), ("warn", "warn"), ("fail", "fail")])
def test_inconclusive_policy_decides_a_too_noisy_interval(policy: str, status: str) -> None:
    budget = budget_with(f"policy:\n  inconclusive: {policy}\n")
    decision = decide(
        measured_series(NOISY_J), history_base(STEADY_J), budget.benchmarks[0].rules, budget, HARDWARE, None
    )
    assert decision is not None
    (check,) = decision.checks
    assert (check.status, check.inconclusive, decision.verdict) == (
        status,
        True,
        "pass" if policy == "pass" else policy,
    )
    assert check.reason.startswith("inconclusive: -4.3% ± 28.6% (95% CI); this runner's noise (CV 23.5%)")
    assert decision.notes[-1] == (
        "energy_per_prediction_j: inconclusive, the interval is wider than the +5% limit "
        f"(policy inconclusive: {policy})."
    )


def test_a_baseline_on_other_hardware_is_not_compared() -> None:
    other = replace(
        history_base(STEADY_J),
        hardware_id="0123456789ab",
        hardware={"cpu_model": "AMD EPYC", "cpu_count": 2, "gpu_models": []},
    )
    decision = decide(measured_series([300.0] * 5), other, RULES, BUDGET, HARDWARE, None)  # +200%
    assert decision is not None
    (check,) = decision.checks
    assert (check.status, check.change_pct, decision.verdict) == ("warn", None, "warn")
    assert (
        check.reason == "not comparable: baseline on other hardware (CPU model: AMD EPYC vs Intel(R) Xeon(R) Processor)"
    )
    same = replace(other, hardware_id=HARDWARE.fingerprint)
    compared = decide(measured_series([300.0] * 5), same, RULES, BUDGET, HARDWARE, None)
    assert compared is not None and compared.verdict == "fail"


def test_an_efficiency_limit_is_not_judged_against_a_baseline_on_other_hardware() -> None:
    budget = budget_with("quality:\n  top1: {efficiency: {warn: +2%, fail: +5%}}\n")
    rules = budget.benchmarks[0].rules
    base = history_base(STEADY_J, top1=0.9)
    now = measured_series([130.0, 131.0, 129.5, 130.3, 129.8], top1=0.9)  # +30% energy per point
    same = decide(now, base, rules, budget, HARDWARE, None)
    assert same is not None
    efficiency = {c.metric: c for c in same.checks}["efficiency:top1"]
    assert (efficiency.status, efficiency.reason) == ("fail", "+30.0% ± 1.0% (95% CI) exceeds the fail limit of +5%")
    elsewhere = replace(base, hardware_id="0123456789ab", hardware={"cpu_model": "AMD EPYC", "cpu_count": 2})
    other = decide(now, elsewhere, rules, budget, HARDWARE, None)
    assert other is not None
    efficiency = {c.metric: c for c in other.checks}["efficiency:top1"]
    assert (efficiency.status, efficiency.reason, efficiency.change_pct) == ("skip", "no comparable baseline", None)
    assert other.verdict == "warn"  # not comparable (warn), never the fail measured against other hardware


def test_history_mode_widens_the_interval_by_the_past_runs_job_noise() -> None:
    past = [{"energy_per_prediction_j": (0.1, 0.1001)}, {"energy_per_prediction_j": (0.1002, 0.1003)}]
    now, base = measured_series([103.0, 103.5, 102.5, 103.2, 102.8]), history_base(STEADY_J)
    with_history = decide(now, base, RULES, BUDGET, HARDWARE, None, past_runs=past)
    without = decide(now, base, RULES, BUDGET, HARDWARE, None)
    assert with_history is not None and without is not None
    assert (with_history.checks[0].job_noise_runs, with_history.checks[0].job_noise_assumed) == (2, True)
    assert with_history.checks[0].reason == "+2.9% ± 2.9% (95% CI) is above the warn limit of +2%, within noise"
    assert without.checks[0].job_noise_runs is None
    assert without.checks[0].reason == "+2.9% ± 0.7% (95% CI) exceeds the warn limit of +2%"


def test_a_paired_base_is_judged_without_job_noise() -> None:
    past = [{"energy_per_prediction_j": (0.1, 0.1001)}]
    paired = replace(history_base(STEADY_J), paired=True, energy_method=None)  # measured now: method alike
    decision = decide(measured_series([103.0, 104.0, 102.5, 103.3, 102.8]), paired, RULES, BUDGET, HARDWARE, None, past)
    assert decision is not None
    (check,) = decision.checks
    assert (check.method, check.job_noise_runs, check.status) == ("paired-log", None, "warn")


def test_a_failed_benchmark_is_not_decided() -> None:
    failed = replace(measured(28.0), error="the benchmark exited with 1")
    assert decide(failed, None, RULES, BUDGET, HARDWARE, None) is None


def test_the_not_comparable_policy_is_the_budgets() -> None:
    budget = budget_with("policy:\n  not_comparable: fail\n")
    other = replace(history_base(STEADY_J), hardware_id="0123456789ab", hardware={"cpu_model": "AMD EPYC"})
    decision = decide(measured_series(STEADY_J), other, budget.benchmarks[0].rules, budget, HARDWARE, None)
    assert decision is not None
    assert (decision.checks[0].status, decision.verdict) == ("fail", "fail")
    assert decision.notes[0].endswith("Relative limits not applied (policy not_comparable: fail).")


def test_an_efficiency_limit_too_noisy_to_judge_follows_the_inconclusive_policy() -> None:
    budget = budget_with("quality:\n  top1: {efficiency: {fail: +5%}}\npolicy:\n  inconclusive: fail\n")
    rules = replace(budget.benchmarks[0].rules, limits_pct={})  # the efficiency limit alone
    decision = decide(
        measured_series(NOISY_J, top1=0.9), history_base(STEADY_J, top1=0.9), rules, budget, HARDWARE, None
    )
    assert decision is not None
    (efficiency,) = decision.checks
    assert (efficiency.metric, efficiency.status, efficiency.inconclusive) == ("efficiency:top1", "fail", True)
    assert decision.verdict == "fail"


# --- per-case limits wired from the budget's policies ----------------------------------------------


def with_case(measurement: Measurement, case_j: list[float]) -> Measurement:
    """`measurement` with one measured case, `test_one`, of the given energies per repeat."""
    assert measurement.summary is not None
    phase = PhaseSummary("test_one", sorted(case_j)[len(case_j) // 2], 1.0, None, None)
    series = {phase_metric("test_one", "energy_j"): tuple(case_j)}
    return replace(measurement, summary=replace(measurement.summary, phases=(phase,), phase_series=series))


def case_base(case_j: list[float]) -> Baseline:
    base = history_base(STEADY_J)
    return replace(
        base,
        metrics={**base.metrics, "phase.test_one.energy_j": sorted(case_j)[len(case_j) // 2]},
        per_repeat={**base.per_repeat, "phase.test_one.energy_j": tuple(case_j)},
    )


def case_check(decision: Decision | None) -> Check:
    assert decision is not None
    return {c.metric: c for c in decision.checks}["phase.test_one.energy_j"]


def case_rules(budget: Budget) -> Rules:
    return replace(budget.benchmarks[0].rules, cases={"test_one": {"energy_j": Level(fail=15.0)}})


@pytest.mark.parametrize(("policy", "status"), [("pass", "skip"), ("warn", "warn"), ("fail", "fail")])
def test_missing_baseline_policy_decides_a_case_without_a_baseline(policy: str, status: str) -> None:
    budget = budget_with(f"policy:\n  missing_baseline: {policy}\n")
    now = with_case(measured_series(STEADY_J), [10.0, 10.1, 9.9, 10.0, 10.05])
    decision = decide(now, None, case_rules(budget), budget, HARDWARE, None)
    check = case_check(decision)
    assert (check.status, check.reason, check.current) == (status, "no baseline", 10.0)
    assert decision is not None and decision.verdict == ("pass" if policy == "pass" else policy)


def test_a_case_is_compared_on_the_same_hardware_and_not_on_other_hardware() -> None:
    now = with_case(measured_series(STEADY_J), [13.0, 13.1, 12.9, 13.0, 13.05])  # +30% in the case
    base = case_base([10.0, 10.1, 9.9, 10.0, 10.05])
    same = case_check(decide(now, base, case_rules(BUDGET), BUDGET, HARDWARE, None))
    assert (same.status, same.reason) == ("fail", "+30.0% ± 1.3% (95% CI) exceeds the fail limit of +15%")
    elsewhere = replace(base, hardware_id="0123456789ab", hardware={"cpu_model": "AMD EPYC", "cpu_count": 2})
    other = case_check(decide(now, elsewhere, case_rules(BUDGET), BUDGET, HARDWARE, None))
    assert (other.status, other.reason, other.change_pct) == ("skip", "not comparable", None)


@pytest.mark.parametrize(("policy", "status"), [("pass", "skip"), ("warn", "warn"), ("fail", "fail")])
def test_inconclusive_policy_decides_a_too_noisy_case(policy: str, status: str) -> None:
    budget = budget_with(f"policy:\n  inconclusive: {policy}\n")
    now = with_case(measured_series(STEADY_J), [7.0, 13.0, 9.5, 11.0, 8.5])
    base = case_base([10.0, 10.1, 9.9, 10.0, 10.05])
    check = case_check(decide(now, base, case_rules(budget), budget, HARDWARE, None))
    assert (check.status, check.inconclusive) == (status, True)
    assert check.reason == (
        "inconclusive: -4.3% ± 28.6% (95% CI); this runner's noise (CV 23.5%) is above what a +15% limit "
        "can resolve; use paired mode, more repeats, or a quieter runner"
    )


# --- what a spooled run keeps when MLflow fails -----------------------------------------------------


@pytest.mark.parametrize(
    ("checked", "policy", "kept"),
    [
        ("pass", "pass", "pass"),
        ("pass", "warn", "warn"),
        ("warn", "fail", "fail"),
        ("fail", "warn", "fail"),
        ("error", "pass", "error"),
        ("error", "fail", "error"),
    ],
)
def test_the_outage_verdict_is_the_worse_of_the_checks_and_the_policy(checked: Verdict, policy: str, kept: str) -> None:
    budget = budget_with(f"policy:\n  mlflow_unavailable: {policy}\n")
    assert outage_verdict(checked, budget) == kept
