"""The verdict: budget rules applied to (this run, baseline). Pure data in, decision out."""

from __future__ import annotations

from dataclasses import replace

import pytest

from gate.compare.model import Baseline
from gate.compare.verdict import apply_outage, change_pct, evaluate, missing_inputs, worst
from gate.config.budget import ComparisonSpec, Level, Rules
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
    point = " (point comparison, no interval: the baseline run has no per-repeat values)"
    assert (check.status, check.reason, check.source_line, check.method) == (status, reason + point, 9, "point")
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


# --- relative limits on repeats -----------------------------------------------------------------

BASE_J = [100.0, 101.0, 99.5, 100.3, 99.8]  # energy per run; 1000 predictions each


def with_repeats(energies_j: list[float], *, paired: bool = False) -> Baseline:
    """A baseline that carries per-repeat values, as MLflow's repeat.<metric> histories give them."""
    base = summary(energies_j)
    return replace(baseline(**base.metrics), per_repeat=base.per_repeat, paired=paired)


@pytest.mark.parametrize(
    ("energies_j", "status", "reason"),
    [
        # +6.1%, interval [+5.2%, +6.9%]: significantly beyond +5%
        ([106.1, 107.0, 105.5, 106.4, 105.9], "fail", "+6.1% ± 0.9% (95% CI) exceeds the fail limit of +5%"),
        # +5.9% but noisy: the interval reaches below +5%, so only a warning
        (
            [104.0, 108.0, 106.0, 105.0, 107.0],
            "warn",
            "+5.9% ± 1.9% (95% CI) is above the fail limit of +5% but not significantly (the interval starts at "
            "+4.0%): could be noise",
        ),
        ([103.0, 103.4, 102.8, 103.1, 102.9], "warn", "+2.9% ± 0.7% (95% CI) exceeds the warn limit of +2%"),
        (
            [101.0, 104.5, 103.0, 101.5, 102.0],
            "warn",
            "+2.3% ± 1.7% (95% CI) is above the warn limit of +2%, within noise",
        ),
        ([100.2, 99.9, 100.4, 100.0, 99.7], "pass", "-0.1% ± 0.7% (95% CI) is within the limit"),
    ],
)
def test_relative_limit_on_repeats_needs_the_interval_beyond_it(
    energies_j: list[float], status: str, reason: str
) -> None:
    decision = evaluate(summary(energies_j), with_repeats(BASE_J), LIMITS)
    (check,) = decision.checks
    assert (check.status, check.reason, check.method, check.confidence) == (status, reason, "welch-log", 0.95)
    assert check.interval_pct is not None
    low, high = check.interval_pct
    assert check.change_pct is not None and low < check.change_pct < high


def test_single_repeat_run_falls_back_to_the_point_comparison_and_says_so() -> None:
    decision = evaluate(summary([106.1]), with_repeats(BASE_J), LIMITS)
    (check,) = decision.checks
    assert check.status == "fail" and check.method == "point" and check.interval_pct is None
    assert check.reason.endswith("(point comparison, no interval: this run has 1 repeat)")


def test_paired_baseline_uses_the_paired_interval() -> None:
    # A drift shared by both sides (each pair 1% warmer than the last) widens Welch's interval, not the paired one.
    drift = [1.00, 1.01, 1.02, 1.03, 1.04]
    base = [100.0 * d for d in drift]
    cand = [102.6 * d for d in drift]
    paired = evaluate(summary(cand), with_repeats(base, paired=True), LIMITS).checks[0]
    independent = evaluate(summary(cand), with_repeats(base), LIMITS).checks[0]
    assert paired.method == "paired-log" and independent.method == "welch-log"
    assert paired.reason.endswith("exceeds the warn limit of +2%")  # significantly beyond +2%
    assert independent.reason.endswith("is above the warn limit of +2%, within noise")  # the drift hides it
    assert paired.interval_pct and independent.interval_pct
    assert paired.interval_pct[1] - paired.interval_pct[0] < independent.interval_pct[1] - independent.interval_pct[0]


def test_outliers_are_reported_and_dropped_only_when_asked() -> None:
    spiky = [100.1, 100.0, 99.9, 100.2, 130.0]  # a repeat disturbed by a neighbour
    kept = evaluate(summary(spiky), with_repeats(BASE_J), LIMITS)
    assert kept.notes[0] == (
        "energy_per_prediction_j: outlier(s) in this run beyond 3.5 x MAD of the median: repeat 5 (0.13 J); "
        "kept (comparison.outliers: keep)."
    )
    dropped = evaluate(summary(spiky), with_repeats(BASE_J), LIMITS, comparison=ComparisonSpec(outliers="drop"))
    assert dropped.notes[0].endswith("left out (comparison.outliers: drop).")
    # +5.3% ± 15.4%: the spike makes the interval wider than the +5% limit
    assert kept.checks[0].status == "warn" and kept.checks[0].reason.startswith("inconclusive: +5.3% ± 15.4%")
    assert dropped.checks[0].status == "pass"  # the four clean repeats: no change
    assert dropped.checks[0].interval_pct is not None and kept.checks[0].interval_pct is not None


def test_confidence_level_comes_from_the_budget() -> None:
    cand = [103.0, 103.3, 102.9, 103.2, 103.1]
    at_95 = evaluate(summary(cand), with_repeats(BASE_J), LIMITS).checks[0]
    at_999 = evaluate(summary(cand), with_repeats(BASE_J), LIMITS, comparison=ComparisonSpec(confidence=0.999)).checks[
        0
    ]
    assert at_95.reason.endswith("exceeds the warn limit of +2%")
    assert at_999.reason.endswith("is above the warn limit of +2%, within noise")
    assert at_999.reason.startswith("+3.0% ± 2.0%") and "(99.9% CI)" in at_999.reason


# --- too noisy to judge: an interval wider than the limit is inconclusive ----------------------

NOISY_J = [70.0, 130.0, 95.0, 110.0, 85.0]  # CV 23.5%: an interval of ±28.6% against a +5% limit


@pytest.mark.parametrize(
    ("policy", "status", "verdict"), [("pass", "skip", "pass"), ("warn", "warn", "warn"), ("fail", "fail", "fail")]
)
def test_an_interval_wider_than_the_limit_is_inconclusive_and_the_policy_decides(
    policy: str, status: str, verdict: str
) -> None:
    decision = evaluate(summary(NOISY_J), with_repeats(BASE_J), LIMITS, inconclusive=policy)  # type: ignore[arg-type]
    (check,) = decision.checks
    assert (check.status, decision.verdict) == (status, verdict)
    assert check.reason == (
        "inconclusive: -4.3% ± 28.6% (95% CI); this runner's noise (CV 23.5%) is above what a +5% limit can "
        "resolve; use paired mode, more repeats, or a quieter runner"
    )
    assert decision.notes == (
        "energy_per_prediction_j: inconclusive, the interval is wider than the +5% limit "
        f"(policy inconclusive: {policy}).",
    )


def test_a_noisy_significant_improvement_is_inconclusive_not_significant() -> None:
    # A loaded runner: -41.7% ± 12.4% says nothing about a +5% limit.
    noisy_low = [45.0, 70.0, 55.0, 65.0, 60.0]
    (check,) = evaluate(summary(noisy_low), with_repeats(BASE_J), LIMITS).checks
    assert check.interval_pct is not None and check.interval_pct[1] < 0  # "significant" on its own
    assert check.status == "warn" and check.reason.startswith("inconclusive: -41.7% ± 12.4% ")


def test_an_interval_wholly_beyond_the_fail_limit_still_fails_however_wide() -> None:
    tripled = [200.0, 400.0, 300.0, 350.0, 250.0]
    (check,) = evaluate(summary(tripled), with_repeats(BASE_J), LIMITS).checks
    assert check.status == "fail" and check.reason.endswith("exceeds the fail limit of +5%")


def test_paired_noise_is_the_cv_of_the_pair_ratios() -> None:
    base = [100.0, 140.0, 80.0, 120.0, 90.0]  # drift shared by both sides of a pair cancels
    cand = [b * r for b, r in zip(base, [0.8, 1.2, 0.9, 1.15, 1.0], strict=True)]
    (check,) = evaluate(summary(cand), with_repeats(base, paired=True), LIMITS).checks
    assert check.method == "paired-log" and "(CV 16.6%)" in check.reason
    # Already paired: the advice is more pairs or a quieter runner, not the mode it is in.
    assert check.reason.endswith("use more pairs (repeats), or a quieter runner")
    assert "paired mode" not in check.reason


@pytest.mark.parametrize(
    ("policy", "status", "verdict"), [("pass", "skip", "pass"), ("warn", "warn", "warn"), ("fail", "fail", "fail")]
)
def test_other_hardware_is_not_comparable_never_a_pass_or_fail_on_numbers(
    policy: str, status: str, verdict: str
) -> None:
    differences = ("GPU power limit: 700 W vs 400 W",)
    decision = evaluate(
        summary([300.0]),  # +200%: would fail if compared
        with_repeats(BASE_J),
        LIMITS,
        hardware_differences=differences,
        not_comparable=policy,  # type: ignore[arg-type]
    )
    (check,) = decision.checks
    assert (check.status, check.change_pct) == (status, None)
    assert check.reason == "not comparable: baseline on other hardware (GPU power limit: 700 W vs 400 W)"
    assert decision.verdict == verdict
    assert decision.notes[0].startswith("Not comparable: the baseline ran on other hardware (GPU power limit")


# --- non-finite limits and figures: never a pass ----------------------------------------------

NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize("limit", [NAN, INF, -INF])
@pytest.mark.parametrize("repeats", [1, 5], ids=["point", "repeats"])
def test_a_non_finite_relative_limit_is_an_error_not_a_pass(limit: float, repeats: int) -> None:
    rules = Rules(limits_pct={"energy_per_prediction_j": Level(warn=limit, fail=limit, line=7)})
    cand = [258.0, 260.0, 255.0, 262.0, 259.0][:repeats]  # +158%
    decision = evaluate(summary(cand), with_repeats(BASE_J), rules)
    (check,) = decision.checks
    assert decision.verdict == "error" and check.status == "fail" and check.source_line == 7
    assert "not a finite number" in check.reason and "within" not in check.reason


@pytest.mark.parametrize("level", [Level(fail=NAN), Level(warn=INF), Level(warn=NAN, fail=100.0)])
def test_a_non_finite_absolute_budget_is_an_error_not_a_pass(level: Level) -> None:
    decision = evaluate(summary([120.0]), None, Rules(budgets={"energy_kwh": level}))
    assert decision.verdict == "error" and decision.checks[0].status == "fail"
    assert "not a finite number" in decision.checks[0].reason


@pytest.mark.parametrize("bound", [NAN, INF, -INF])
def test_a_non_finite_quality_bound_is_an_error_not_a_pass(bound: float) -> None:
    rules = Rules(quality_min={"accuracy": (bound, 4)}, quality_max={"loss": (bound, 5)})
    decision = evaluate(summary([1.0], quality={"accuracy": 0.95, "loss": 0.2}), None, rules)
    assert decision.verdict == "error" and [c.status for c in decision.checks] == ["fail", "fail"]


@pytest.mark.parametrize("value", [NAN, INF])
def test_a_non_finite_measurement_is_an_error_for_every_kind_of_rule(value: float) -> None:
    rules = Rules(
        limits_pct={"energy_j": Level(fail=5.0)},
        budgets={"energy_j": Level(fail=1e9)},
        quality_min={"accuracy": (0.5, None)},
    )
    measured = summary([100.0], quality={"accuracy": value})
    measured = replace(measured, metrics={**measured.metrics, "energy_j": value})
    decision = evaluate(measured, baseline(energy_j=100.0), rules)
    assert decision.verdict == "error"
    assert [c.status for c in decision.checks] == ["fail", "fail", "fail"]
    assert all("not a finite number" in c.reason for c in decision.checks)


def test_a_non_finite_measurement_without_a_baseline_is_still_an_error() -> None:
    measured = summary([100.0])
    measured = replace(measured, metrics={**measured.metrics, "energy_j": NAN})
    decision = evaluate(measured, None, Rules(limits_pct={"energy_j": Level(fail=5.0)}))
    assert decision.verdict == "error"


@pytest.mark.parametrize("where", ["median", "repeats"])
def test_a_non_finite_baseline_is_an_error_not_a_crash(where: str) -> None:
    base = with_repeats(BASE_J)
    if where == "median":
        base = replace(base, metrics={**base.metrics, "energy_per_prediction_j": NAN})
    else:
        series = base.per_repeat["energy_per_prediction_j"]
        base = replace(base, per_repeat={**base.per_repeat, "energy_per_prediction_j": (*series[:-1], INF)})
    decision = evaluate(summary([400.0, 401.0, 399.0]), base, LIMITS)
    assert decision.verdict == "error" and "baseline" in decision.checks[0].reason


def test_a_repeat_of_zero_falls_back_to_the_point_comparison_not_a_crash() -> None:
    base = with_repeats(BASE_J)
    series = base.per_repeat["energy_per_prediction_j"]
    base = replace(base, per_repeat={**base.per_repeat, "energy_per_prediction_j": (0.0, *series[1:])})
    (check,) = evaluate(summary([400.0, 401.0, 399.0]), base, LIMITS).checks
    assert check.status == "fail" and check.method == "point"
    assert check.reason.endswith(
        "(point comparison, no interval: a repeat is 0 or less, so there is no interval on logarithms)"
    )


# --- job-to-job noise and adaptive repeats ------------------------------------------------------


def _series_baseline(values: tuple[float, ...]) -> Baseline:
    return replace(
        baseline(energy_per_prediction_j=sorted(values)[len(values) // 2]),
        per_repeat={"energy_per_prediction_j": values},
    )


def test_job_noise_widens_a_history_interval_and_is_named_in_a_note() -> None:
    from gate.compare import stats

    cand = summary([103.0, 103.5, 102.5, 103.2, 102.8])
    base = _series_baseline((0.1, 0.1005, 0.0995, 0.1002, 0.0998))
    plain = evaluate(cand, base, LIMITS).checks[0]
    noise = stats.job_noise([(1.0, 1.01), (1.02, 1.0)])  # 2 past runs: the 1% prior
    widened = evaluate(cand, base, LIMITS, job_noise={"energy_per_prediction_j": noise})
    (check,) = widened.checks
    assert check.interval_pct is not None and plain.interval_pct is not None
    assert check.change_pct == pytest.approx(plain.change_pct)
    assert check.interval_pct[0] < plain.interval_pct[0] and check.interval_pct[1] > plain.interval_pct[1]
    assert plain.status == "warn" and "exceeds the warn limit" in plain.reason  # significant without it
    assert check.status == "warn" and "within noise" in check.reason  # not beyond noise with it
    assert check.job_noise_cv_pct == pytest.approx(1.0)
    assert (check.job_noise_runs, check.job_noise_assumed) == (2, True)
    assert widened.notes == (
        "energy_per_prediction_j: job-to-job noise assumed 1.0%: 2 past runs; the interval includes it.",
    )


def test_a_paired_base_gets_no_job_noise() -> None:
    from gate.compare import stats

    cand = summary([103.0, 103.5, 102.5])
    base = replace(_series_baseline((0.1, 0.1005, 0.0995)), paired=True)
    noise = {"energy_per_prediction_j": stats.job_noise([])}
    (check,) = evaluate(cand, base, LIMITS, job_noise=noise).checks
    assert check.method == "paired-log" and check.job_noise_cv_pct is None


def test_job_noise_by_metric_reads_each_past_runs_series_of_the_metric() -> None:
    from gate.compare.verdict import job_noise_by_metric

    past = [{"energy_per_prediction_j": (1.0, 1.01)}, {"energy_per_prediction_j": (1.1, 1.11)}, {}, {"x": (1.0, 2.0)}]
    (only,) = job_noise_by_metric(LIMITS, past).values()
    assert only.runs == 2 and only.assumed
    three = [*past, {"energy_per_prediction_j": (1.2, 1.21)}]
    estimated = job_noise_by_metric(LIMITS, three)["energy_per_prediction_j"]
    assert estimated.runs == 3 and not estimated.assumed and estimated.cv_pct > 5.0


def test_keep_measuring_until_the_interval_clears_every_limit_or_max() -> None:
    from gate.compare.verdict import keep_measuring

    base = _series_baseline((0.1, 0.1005, 0.0995, 0.1002, 0.0998))
    clear = summary([150.0, 151.0, 149.0])  # +50%: beyond fail at any reasonable confidence
    assert keep_measuring(clear, base, LIMITS, 0.995, {}, 2, 3, 12) == (True, "below min")
    assert keep_measuring(clear, base, LIMITS, 0.995, {}, 3, 3, 12) == (False, "decided")
    near = summary([103.0, 101.0, 105.0])  # +3%, straddles both limits
    assert keep_measuring(near, base, LIMITS, 0.995, {}, 3, 3, 12) == (True, "undecided")
    assert keep_measuring(near, base, LIMITS, 0.995, {}, 12, 3, 12) == (False, "max reached")
