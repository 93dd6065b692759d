"""The verdict: budget rules applied to (this run, baseline). Pure data in, decision out."""

from __future__ import annotations

import pytest

from gate.budget import Level, Rules
from gate.verdict import apply_outage, change_pct, evaluate, missing_inputs, worst
from tests.helpers import baseline, summary

LIMITS = Rules(limits_pct={"energy_per_prediction_j": Level(warn=2.0, fail=5.0, line=9)})


@pytest.mark.parametrize(
    ("current_j", "status", "reason"),
    [
        (100.0, "pass", "+0.0% is within the limit"),
        (101.9, "pass", "+1.9% is within the limit"),
        (103.0, "warn", "+3.0% exceeds the warn limit of +2%"),
        (106.1, "fail", "+6.1% exceeds the fail limit of +5%"),
        (80.0, "pass", "-20.0% is within the limit"),
    ],
)
def test_relative_limit_levels(current_j: float, status: str, reason: str) -> None:
    # 1000 predictions per run: J/prediction = energy / 1000
    decision = evaluate(summary([current_j]), baseline(energy_per_prediction_j=0.1), LIMITS)
    (check,) = decision.checks
    assert (check.status, check.reason, check.source_line) == (status, reason, 9)
    assert check.baseline == 0.1 and check.current == pytest.approx(current_j / 1000)
    assert decision.verdict == status


def test_exactly_at_the_limit_is_within_it() -> None:
    rules = Rules(limits_pct={"energy_j": Level(fail=5.0)})
    decision = evaluate(summary([100.0]), baseline(energy_j=100.0 / 1.05), rules)
    assert decision.checks[0].change_pct == pytest.approx(5.0)
    assert decision.verdict == "pass"


@pytest.mark.parametrize(
    ("policy", "status", "verdict"), [("pass", "skip", "pass"), ("warn", "warn", "warn"), ("fail", "fail", "fail")]
)
def test_missing_baseline_follows_policy(policy: str, status: str, verdict: str) -> None:
    decision = evaluate(summary([100.0]), None, LIMITS, missing_baseline=policy)  # type: ignore[arg-type]
    assert decision.checks[0].status == status
    assert decision.verdict == verdict
    assert decision.notes == (f"No baseline yet: relative limits not applied (missing_baseline: {policy}).",)


def test_baseline_without_the_metric_is_skipped_not_failed() -> None:
    decision = evaluate(summary([100.0]), baseline(energy_j=1.0), LIMITS)
    assert decision.checks[0].status == "skip"
    assert decision.checks[0].reason == "baseline run lacks this metric"
    assert decision.verdict == "pass"


def test_absolute_budget() -> None:
    rules = Rules(budgets={"energy_j": Level(warn=50.0, fail=100.0, line=3)})
    assert evaluate(summary([40.0]), None, rules).verdict == "pass"
    warned = evaluate(summary([60.0]), None, rules)
    assert warned.verdict == "warn"
    assert warned.checks[0].reason == "60 J is over the warning level of 50 J"
    failed = evaluate(summary([120.0]), None, rules)
    assert failed.verdict == "fail" and failed.checks[0].limit == "warn > 50 J, fail > 100 J"


def test_quality_floor_and_ceiling() -> None:
    rules = Rules(quality_min={"accuracy": (0.9, 4)}, quality_max={"loss": (0.5, 5)})
    ok = evaluate(summary([1.0], quality={"accuracy": 0.95, "loss": 0.2}), None, rules)
    assert ok.verdict == "pass"
    bad = evaluate(summary([1.0], quality={"accuracy": 0.85, "loss": 0.2}), None, rules)
    assert bad.verdict == "fail"
    assert [c.reason for c in bad.checks if c.status == "fail"] == ["0.85 is below the floor of 0.9"]


def test_worst_status_wins_over_several_rules() -> None:
    rules = Rules(
        limits_pct={"energy_per_prediction_j": Level(warn=2.0, fail=5.0)},
        budgets={"energy_j": Level(fail=1000.0)},
        quality_min={"accuracy": (0.5, None)},
    )
    decision = evaluate(summary([103.0], quality={"accuracy": 0.9}), baseline(energy_per_prediction_j=0.1), rules)
    assert [c.status for c in decision.checks] == ["warn", "pass", "pass"]
    assert decision.verdict == "warn"


def test_missing_inputs_name_what_the_benchmark_did_not_report() -> None:
    rules = Rules(
        limits_pct={"energy_per_prediction_j": Level(fail=5.0)},
        budgets={"emissions_g": Level(fail=1.0)},
        quality_min={"accuracy": (0.9, None)},
    )
    problems = missing_inputs(rules, summary([1.0], predictions=None))
    assert len(problems) == 3
    assert "no 'predictions'" in problems[1]
    assert "emissions_g but names no carbon intensity" in problems[0]
    assert "'accuracy'" in problems[2]
    assert missing_inputs(Rules(), summary([1.0])) == []


def test_outage_policy_can_only_make_the_verdict_worse() -> None:
    passed = evaluate(summary([100.0]), baseline(energy_per_prediction_j=0.1), LIMITS)
    assert apply_outage(passed, "warn", "MLflow down").verdict == "warn"
    assert apply_outage(passed, "pass", "MLflow down").verdict == "pass"
    failed = evaluate(summary([200.0]), baseline(energy_per_prediction_j=0.1), LIMITS)
    assert apply_outage(failed, "pass", "MLflow down").verdict == "fail"
    assert apply_outage(failed, "pass", "MLflow down").notes[-1] == "MLflow down"


def test_helpers() -> None:
    assert change_pct(110.0, 100.0) == pytest.approx(10.0)
    assert change_pct(1.0, 0.0) is None
    assert worst(["pass", "warn", "pass"]) == "warn"
    assert worst([]) == "pass"
    assert worst(["fail", "error"]) == "error"
