"""Edges of the verdict: every limit shape, repeat counts and boundaries, outliers in both modes,
the job-noise factor and the ranking of statuses, each pinned to its exact status and reason."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from gate.compare import stats
from gate.compare.model import Baseline
from gate.compare.verdict import evaluate, missing_inputs, worst
from gate.config.budget import ComparisonSpec, Level, Rules
from tests.helpers import baseline, summary

METRIC = "energy_per_prediction_j"
BASE_J = [100.0, 101.0, 99.5, 100.3, 99.8]  # energy per run; 1000 predictions each
POINT = " (point comparison, no interval: the baseline run has no per-repeat values)"


def limit(**levels: float) -> Rules:
    return Rules(limits_pct={METRIC: Level(line=9, **levels)})


def with_repeats(energies_j: list[float], *, paired: bool = False) -> Baseline:
    base = summary(energies_j)
    return replace(baseline(**base.metrics), per_repeat=base.per_repeat, paired=paired)


# --- the ranking of statuses ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("verdicts", "expected"),
    [
        (["warn", "fail"], "fail"),
        (["fail", "warn"], "fail"),
        (["pass", "warn"], "warn"),
        (["warn", "pass"], "warn"),
        (["fail", "error", "warn"], "error"),
        (["skip", "pass"], "pass"),
        (["skip"], "skip"),
        ([], "pass"),
    ],
)
def test_worst_ranks_error_over_fail_over_warn_over_pass_over_skip(verdicts: list[str], expected: str) -> None:
    assert worst(verdicts) == expected  # type: ignore[arg-type]


def test_a_failing_budget_and_a_warned_limit_fail_together() -> None:
    rules = Rules(limits_pct={METRIC: Level(warn=2.0, line=9)}, budgets={"energy_j": Level(fail=100.0, line=3)})
    decision = evaluate(summary([103.0]), baseline(energy_per_prediction_j=0.1), rules)
    assert [(c.status, c.reason) for c in decision.checks] == [
        ("warn", "+3.0% exceeds the warn limit of +2%" + POINT),
        ("fail", "103 J is over the budget of 100 J"),
    ]
    assert decision.verdict == "fail"


# --- limit shapes: warn only, fail only, both ---------------------------------------------------


@pytest.mark.parametrize(
    ("levels", "current_j", "status", "reason", "described"),
    [
        ({"warn": 2.0}, 103.0, "warn", "+3.0% exceeds the warn limit of +2%", "warn > +2%"),
        ({"warn": 2.0}, 110.0, "warn", "+10.0% exceeds the warn limit of +2%", "warn > +2%"),
        ({"warn": 2.0}, 101.0, "pass", "+1.0% is within the limit", "warn > +2%"),
        ({"fail": 5.0}, 103.0, "pass", "+3.0% is within the limit", "fail > +5%"),
        ({"fail": 5.0}, 110.0, "fail", "+10.0% exceeds the fail limit of +5%", "fail > +5%"),
        ({"warn": 2.0, "fail": 5.0}, 103.0, "warn", "+3.0% exceeds the warn limit of +2%", "warn > +2%, fail > +5%"),
        ({"warn": 2.0, "fail": 5.0}, 110.0, "fail", "+10.0% exceeds the fail limit of +5%", "warn > +2%, fail > +5%"),
    ],
)
def test_point_comparison_of_each_limit_shape(
    levels: dict[str, float], current_j: float, status: str, reason: str, described: str
) -> None:
    decision = evaluate(summary([current_j]), baseline(energy_per_prediction_j=0.1), limit(**levels))
    (check,) = decision.checks
    assert (check.status, check.reason, check.limit, check.method) == (status, reason + POINT, described, "point")
    assert decision.verdict == status


WARN_CLEAR = [103.0, 103.4, 102.8, 103.1, 102.9]  # +2.9% ± 0.7%: [+2.2%, +3.6%]
FAIL_CLEAR = [106.1, 107.0, 105.5, 106.4, 105.9]  # +6.1% ± 0.9%: [+5.2%, +6.9%]
NEAR_WARN = [101.0, 104.5, 103.0, 101.5, 102.0]  # +2.3% ± 1.7%: [+0.6%, +4.0%]
NEAR_FAIL = [104.0, 108.0, 106.0, 105.0, 107.0]  # +5.9% ± 1.9%: [+4.0%, +7.8%]


@pytest.mark.parametrize(
    ("levels", "energies_j", "status", "reason"),
    [
        ({"warn": 2.0}, WARN_CLEAR, "warn", "+2.9% ± 0.7% (95% CI) exceeds the warn limit of +2%"),
        ({"warn": 2.0}, FAIL_CLEAR, "warn", "+6.1% ± 0.9% (95% CI) exceeds the warn limit of +2%"),
        ({"warn": 2.0}, NEAR_WARN, "warn", "+2.3% ± 1.7% (95% CI) is above the warn limit of +2%, within noise"),
        ({"fail": 5.0}, WARN_CLEAR, "pass", "+2.9% ± 0.7% (95% CI) is within the limit"),
        ({"fail": 5.0}, FAIL_CLEAR, "fail", "+6.1% ± 0.9% (95% CI) exceeds the fail limit of +5%"),
        (
            {"fail": 5.0},
            NEAR_FAIL,
            "warn",
            "+5.9% ± 1.9% (95% CI) is above the fail limit of +5% but not significantly "
            "(the interval starts at +4.0%): could be noise",
        ),
        ({"warn": 2.0, "fail": 5.0}, WARN_CLEAR, "warn", "+2.9% ± 0.7% (95% CI) exceeds the warn limit of +2%"),
        ({"warn": 2.0, "fail": 5.0}, FAIL_CLEAR, "fail", "+6.1% ± 0.9% (95% CI) exceeds the fail limit of +5%"),
    ],
)
def test_interval_on_repeats_for_each_limit_shape(
    levels: dict[str, float], energies_j: list[float], status: str, reason: str
) -> None:
    decision = evaluate(summary(energies_j), with_repeats(BASE_J), limit(**levels))
    (check,) = decision.checks
    assert (check.status, check.reason, check.method, check.inconclusive) == (status, reason, "welch-log", False)
    assert decision.verdict == status and decision.notes == ()


STRADDLING = [98.0, 107.0, 101.0, 104.0, 102.5]  # +2.3% ± 4.1%: [-1.7%, +6.5%], CV 3.3%


@pytest.mark.parametrize(
    ("levels", "judged", "resolved_reason"),
    [
        ({"warn": 2.0}, 2, None),  # a warn-only limit is judged on its warn level: too tight for ±4.1%
        ({"warn": 2.0, "fail": 3.0}, 3, None),  # with a fail level, on the fail level
        ({"warn": 2.0, "fail": 5.0}, None, "+2.3% ± 4.1% (95% CI) is above the warn limit of +2%, within noise"),
        ({"fail": 5.0}, None, "+2.3% ± 4.1% (95% CI) is within the limit"),
    ],
)
def test_an_interval_is_inconclusive_only_when_wider_than_the_level_it_is_judged_on(
    levels: dict[str, float], judged: int | None, resolved_reason: str | None
) -> None:
    decision = evaluate(summary(STRADDLING), with_repeats(BASE_J), limit(**levels))
    (check,) = decision.checks
    assert check.interval_pct == pytest.approx((-1.7132, 6.5491), abs=1e-4)
    if judged is None:
        assert (check.status, check.reason, check.inconclusive) == (
            "warn" if "warn limit" in str(resolved_reason) else "pass",
            resolved_reason,
            False,
        )
        assert decision.notes == ()
    else:
        assert (check.status, check.inconclusive) == ("warn", True)
        assert check.reason == (
            f"inconclusive: +2.3% ± 4.1% (95% CI); this runner's noise (CV 3.3%) is above what a +{judged}% "
            "limit can resolve; use paired mode, more repeats, or a quieter runner"
        )
        assert decision.notes == (
            f"energy_per_prediction_j: inconclusive, the interval is wider than the +{judged}% limit "
            "(policy inconclusive: warn).",
        )


# --- repeat counts ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("repeats", "reason", "interval"),
    [
        (
            2,
            "+6.0% ± 3.1% (95% CI) is above the fail limit of +5% but not significantly "
            "(the interval starts at +3.0%): could be noise",
            (3.0104, 9.1181),
        ),
        (
            3,
            "+6.0% ± 1.8% (95% CI) is above the fail limit of +5% but not significantly "
            "(the interval starts at +4.3%): could be noise",
            (4.2649, 7.8119),
        ),
    ],
)
def test_two_and_three_repeats_a_side_are_judged_on_their_interval(
    repeats: int, reason: str, interval: tuple[float, float]
) -> None:
    decision = evaluate(summary(FAIL_CLEAR[:repeats]), with_repeats(BASE_J[:repeats]), limit(warn=2.0, fail=5.0))
    (check,) = decision.checks
    assert (check.status, check.reason, check.method) == ("warn", reason, "welch-log")
    assert check.interval_pct == pytest.approx(interval, abs=1e-4)


def test_one_repeat_on_either_side_is_a_point_comparison_that_says_which() -> None:
    rules = limit(warn=2.0, fail=5.0)
    (mine,) = evaluate(summary(FAIL_CLEAR[:1]), with_repeats(BASE_J), rules).checks
    assert (mine.status, mine.reason) == (
        "fail",
        "+6.0% exceeds the fail limit of +5% (point comparison, no interval: this run has 1 repeat)",
    )
    (theirs,) = evaluate(summary(FAIL_CLEAR[:3]), with_repeats(BASE_J[:1]), rules).checks
    assert (theirs.status, theirs.reason, theirs.interval_pct) == (
        "fail",
        "+6.2% exceeds the fail limit of +5%" + POINT,
        None,
    )


def test_paired_series_of_unequal_length_are_compared_as_independent_samples() -> None:
    decision = evaluate(summary(FAIL_CLEAR[:3]), with_repeats(BASE_J, paired=True), limit(warn=2.0, fail=5.0))
    (check,) = decision.checks
    assert (check.status, check.method) == ("warn", "welch-log")
    assert check.reason == (
        "+6.1% ± 1.5% (95% CI) is above the fail limit of +5% but not significantly "
        "(the interval starts at +4.6%): could be noise"
    )


# --- exact boundaries ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("levels", "current_j"), [({"warn": 2.0}, 102.0), ({"warn": 2.0, "fail": 5.0}, 105.0), ({"fail": 5.0}, 105.0)]
)
def test_a_change_exactly_at_a_limit_is_within_it(levels: dict[str, float], current_j: float) -> None:
    (check,) = evaluate(summary([current_j]), baseline(energy_per_prediction_j=0.1), limit(**levels)).checks
    if "fail" in levels and current_j == 105.0 and "warn" in levels:
        assert (check.status, check.reason) == ("warn", "+5.0% exceeds the warn limit of +2%" + POINT)
    else:
        assert (check.status, check.reason) == ("pass", f"+{current_j - 100:.1f}% is within the limit" + POINT)


def test_a_change_just_over_a_limit_exceeds_it() -> None:
    (check,) = evaluate(summary([102.001]), baseline(energy_per_prediction_j=0.1), limit(warn=2.0)).checks
    assert (check.status, check.reason) == ("warn", "+2.0% exceeds the warn limit of +2%" + POINT)


def test_an_absolute_budget_exactly_at_its_levels_is_within_them() -> None:
    rules = Rules(budgets={"energy_j": Level(warn=50.0, fail=100.0, line=3)})
    at_warn, at_fail = evaluate(summary([50.0]), None, rules), evaluate(summary([100.0]), None, rules)
    assert (at_warn.checks[0].status, at_warn.checks[0].reason) == ("pass", "50 J is within the budget")
    assert (at_fail.checks[0].status, at_fail.checks[0].reason) == ("warn", "100 J is over the warning level of 50 J")
    fail_only = evaluate(summary([100.5]), None, Rules(budgets={"energy_j": Level(fail=100.0)}))
    assert (fail_only.checks[0].status, fail_only.checks[0].reason) == ("fail", "100.5 J is over the budget of 100 J")
    warn_only = evaluate(summary([100.5]), None, Rules(budgets={"energy_j": Level(warn=100.0)}))
    assert (warn_only.verdict, warn_only.checks[0].limit) == ("warn", "warn > 100 J")


@pytest.mark.parametrize(
    ("value", "status", "reason"),
    [
        (0.9, "pass", "within bounds"),
        (0.8999, "fail", "0.8999 is below the floor of 0.9"),
        (0.95, "pass", "within bounds"),
    ],
)
def test_a_quality_floor_holds_at_its_value(value: float, status: str, reason: str) -> None:
    (check,) = evaluate(summary([1.0], quality={"top1": value}), None, Rules(quality_min={"top1": (0.9, 4)})).checks
    assert (check.status, check.reason, check.limit, check.source_line) == (status, reason, "≥ 0.9", 4)


@pytest.mark.parametrize(
    ("value", "status", "reason"),
    [
        (0.5, "pass", "within bounds"),
        (0.5001, "fail", "0.5001 is above the ceiling of 0.5"),
        (0.4, "pass", "within bounds"),
    ],
)
def test_a_quality_ceiling_holds_at_its_value(value: float, status: str, reason: str) -> None:
    (check,) = evaluate(summary([1.0], quality={"loss": value}), None, Rules(quality_max={"loss": (0.5, 5)})).checks
    assert (check.status, check.reason, check.limit, check.source_line) == (status, reason, "≤ 0.5", 5)


def test_a_quality_bound_not_reported_fails() -> None:
    (check,) = evaluate(summary([1.0]), None, Rules(quality_max={"loss": (0.5, 5)})).checks
    assert (check.status, check.reason, check.current) == ("fail", "not reported by the benchmark", None)


def test_judging_an_interval_at_its_boundaries() -> None:
    interval = stats.Comparison(1.06, 1.05, 1.07, 0.95, "welch-log", 5, 5, 8.0)
    assert interval.judge(interval.low_pct) == "uncertain"  # the interval starts at the limit: not beyond it
    assert interval.judge(interval.low_pct - 1e-9) == "beyond"
    assert interval.judge(interval.change_pct) == "within"  # the point estimate at the limit: within it
    assert interval.judge(interval.change_pct - 1e-9) == "uncertain"


def test_an_interval_resolves_a_limit_as_wide_as_its_half_width() -> None:
    interval = stats.Comparison(1.0, 0.95, 1.05, 0.95, "welch-log", 5, 5, 8.0)
    assert interval.half_width_pct == pytest.approx(5.0)
    assert stats.resolves(interval, 5.0 + 1e-9) and not stats.resolves(interval, 4.99)


# --- outliers, both modes, both kinds of baseline ------------------------------------------------

SPIKY = [100.1, 100.0, 99.9, 100.2, 130.0]  # a repeat disturbed by a neighbour
SPIKE_NOTE = "energy_per_prediction_j: outlier(s) in this run beyond 3.5 x MAD of the median: repeat 5 (0.13 J); "


@pytest.mark.parametrize(
    ("paired", "reason"),
    [
        (False, "inconclusive: +5.3% ± 15.4% (95% CI); this runner's noise (CV 12.6%) is above"),
        (True, "inconclusive: +5.3% ± 15.6% (95% CI); this runner's noise (CV 12.8%) is above"),
    ],
)
def test_outliers_kept_are_reported_and_widen_the_interval(paired: bool, reason: str) -> None:
    decision = evaluate(summary(SPIKY), with_repeats(BASE_J, paired=paired), limit(warn=2.0, fail=5.0))
    (check,) = decision.checks
    assert check.status == "warn" and check.reason.startswith(reason)
    assert decision.notes[0] == SPIKE_NOTE + "kept (comparison.outliers: keep)."


@pytest.mark.parametrize(
    ("paired", "reason", "method"),
    [
        (False, "-0.1% ± 0.7% (95% CI) is within the limit", "welch-log"),
        (True, "-0.1% ± 1.0% (95% CI) is within the limit", "paired-log"),
    ],
)
def test_outliers_dropped_leave_the_clean_repeats(paired: bool, reason: str, method: str) -> None:
    drop = ComparisonSpec(outliers="drop")
    decision = evaluate(summary(SPIKY), with_repeats(BASE_J, paired=paired), limit(warn=2.0, fail=5.0), comparison=drop)
    (check,) = decision.checks
    assert (check.status, check.reason, check.method) == ("pass", reason, method)
    assert decision.notes == (SPIKE_NOTE + "left out (comparison.outliers: drop).",)
    assert check.geomean_current == pytest.approx(stats.geomean([0.1001, 0.1, 0.0999, 0.1002]))


def test_paired_drop_leaves_out_the_pair_of_an_outlier_on_either_side() -> None:
    base = [100.0, 140.0, 99.5, 100.3, 99.8]  # the baseline's repeat 2 is disturbed too
    drop = ComparisonSpec(outliers="drop")
    paired = evaluate(summary(SPIKY), with_repeats(base, paired=True), limit(warn=2.0, fail=5.0), comparison=drop)
    independent = evaluate(summary(SPIKY), with_repeats(base), limit(warn=2.0, fail=5.0), comparison=drop)
    # Paired: pairs 2 and 5 go, from both sides; independent: each side loses its own outlier.
    assert paired.checks[0].reason == "+0.1% ± 0.6% (95% CI) is within the limit"
    assert paired.checks[0].geomean_baseline == pytest.approx(stats.geomean([0.1, 0.0995, 0.1003]))
    assert independent.checks[0].reason == "+0.2% ± 0.5% (95% CI) is within the limit"
    assert independent.checks[0].geomean_baseline == pytest.approx(stats.geomean([0.1, 0.0995, 0.1003, 0.0998]))
    assert paired.notes[1] == (
        "energy_per_prediction_j: outlier(s) in the baseline beyond 3.5 x MAD of the median: repeat 2 (0.14 J); "
        "left out (comparison.outliers: drop)."
    )


def test_paired_drop_keeps_every_pair_when_fewer_than_two_would_remain() -> None:
    drop = ComparisonSpec(outliers="drop")
    cand, base = [100.0, 100.1, 130.0], [140.0, 100.0, 100.1]  # outliers in different pairs: one pair left
    decision = evaluate(summary(cand), with_repeats(base, paired=True), limit(warn=2.0, fail=5.0), comparison=drop)
    (check,) = decision.checks
    assert check.geomean_current == pytest.approx(stats.geomean([0.1, 0.1001, 0.13]))
    assert check.geomean_baseline == pytest.approx(stats.geomean([0.14, 0.1, 0.1001]))


def test_independent_drop_keeps_a_side_that_would_fall_below_two_repeats() -> None:
    # Three repeats with a MAD of 0.05 flag both far ones at k=0.5: only one would remain.
    drop = ComparisonSpec(outliers="drop", outlier_k=0.5)
    decision = evaluate(summary([100.0, 100.05, 100.2]), with_repeats(BASE_J), limit(fail=5.0), comparison=drop)
    assert decision.checks[0].geomean_current == pytest.approx(stats.geomean([0.1, 0.10005, 0.1002]))


def test_the_outlier_threshold_comes_from_the_budget() -> None:
    drop = ComparisonSpec(outliers="drop", outlier_k=2.0)
    spread = [100.1, 100.0, 99.9, 100.2, 100.5]  # repeat 5 is 2.7 x MAD-sd out: beyond 2, within 3.5
    decision = evaluate(summary(spread), with_repeats(BASE_J), limit(fail=5.0), comparison=drop)
    assert decision.notes[0] == (
        "energy_per_prediction_j: outlier(s) in this run beyond 2 x MAD of the median: repeat 5 (0.1005 J); "
        "left out (comparison.outliers: drop)."
    )
    assert evaluate(summary(spread), with_repeats(BASE_J), limit(fail=5.0)).notes == ()


# --- confidence and the job-noise factor -------------------------------------------------------


def test_a_confidence_of_one_half_gives_the_interquartile_interval() -> None:
    decision = evaluate(
        summary(WARN_CLEAR), with_repeats(BASE_J), limit(warn=2.0, fail=5.0), comparison=ComparisonSpec(confidence=0.5)
    )
    (check,) = decision.checks
    assert (check.status, check.reason, check.confidence) == (
        "warn",
        "+2.9% ± 0.2% (50% CI) exceeds the warn limit of +2%",
        0.5,
    )


def test_the_job_noise_factor_decides_a_fail() -> None:
    # +8.0% with a 1% prior: with 2 tau^2 the interval starts at +5.008%; with 3 tau^2 at +4.36%, a warn.
    noise = stats.job_noise([])
    base = [100.0, 100.5, 99.5, 100.2, 99.8]
    decision = evaluate(
        summary([108.0, 108.5, 107.5, 108.2, 107.8]),
        with_repeats(base),
        limit(warn=2.0, fail=5.0),
        job_noise={METRIC: noise},
    )
    (check,) = decision.checks
    assert (check.status, check.reason) == ("fail", "+8.0% ± 3.0% (95% CI) exceeds the fail limit of +5%")


# --- what each check carries, and the rules that are not judged -----------------------------------


def test_an_interval_check_carries_every_figure_it_was_decided_on() -> None:
    noise = stats.JobNoise(log_var=math.log1p(0.01**2), dof=4.0, runs=5, assumed=False)
    (check,) = evaluate(
        summary(FAIL_CLEAR), with_repeats(BASE_J), limit(warn=2.0, fail=5.0), job_noise={METRIC: noise}
    ).checks
    cand, base = [e / 1000 for e in FAIL_CLEAR], [e / 1000 for e in BASE_J]
    assert (check.metric, check.rule, check.source_line, check.limit) == (
        METRIC,
        "relative",
        9,
        "warn > +2%, fail > +5%",
    )
    # the figures shown are those the interval was computed from: the geometric means
    assert (check.current, check.baseline) == pytest.approx((stats.geomean(cand), stats.geomean(base)))
    assert check.change_pct == pytest.approx((stats.geomean(cand) / stats.geomean(base) - 1) * 100)
    assert (check.geomean_current, check.geomean_baseline) == pytest.approx((stats.geomean(cand), stats.geomean(base)))
    assert (check.cv_current_pct, check.cv_baseline_pct) == pytest.approx((stats.cv_pct(cand), stats.cv_pct(base)))
    assert (check.confidence, check.method, check.inconclusive) == (0.95, "welch-log", False)
    assert check.job_noise_cv_pct == pytest.approx(1.0)
    assert (check.job_noise_runs, check.job_noise_assumed) == (5, False)


def test_a_zero_limit_is_judged_not_called_inconclusive() -> None:
    # No interval is narrower than 0%: a zero limit is decided on where the interval lies.
    (check,) = evaluate(summary([100.0, 100.5, 99.5]), with_repeats(BASE_J), limit(warn=0.0)).checks
    assert (check.status, check.reason, check.inconclusive) == (
        "pass",
        "-0.1% ± 1.0% (95% CI) is within the limit",
        False,
    )
    (over,) = evaluate(summary(FAIL_CLEAR), with_repeats(BASE_J), limit(fail=0.0)).checks
    assert (over.status, over.reason, over.limit) == (
        "fail",
        "+6.1% ± 0.9% (95% CI) exceeds the fail limit of +0%",
        "fail > +0%",
    )


def test_an_interval_starting_exactly_at_the_fail_limit_is_not_beyond_it() -> None:
    (first,) = evaluate(summary(FAIL_CLEAR), with_repeats(BASE_J), limit(fail=5.0)).checks
    assert first.interval_pct is not None
    at_start = first.interval_pct[0]  # +5.2042%: a limit exactly there
    (check,) = evaluate(summary(FAIL_CLEAR), with_repeats(BASE_J), limit(fail=at_start)).checks
    assert check.status == "warn" and check.reason.startswith(
        f"+6.1% ± 0.9% (95% CI) is above the fail limit of +{at_start:g}%"
    )


def test_a_metric_not_measured_is_skipped_for_relative_and_absolute_rules() -> None:
    rules = Rules(limits_pct={"emissions_g": Level(fail=5.0, line=2)}, budgets={"emissions_g": Level(warn=1.0, line=3)})
    decision = evaluate(summary([100.0]), baseline(emissions_g=1.0), rules)
    assert [(c.rule, c.status, c.reason, c.limit, c.source_line) for c in decision.checks] == [
        ("relative", "skip", "not measured", "fail > +5%", 2),
        ("absolute", "skip", "not measured", "warn > 1 gCO2eq", 3),
    ]
    assert (decision.verdict, decision.notes) == ("pass", ())


def test_a_baseline_of_zero_is_skipped() -> None:
    (check,) = evaluate(
        summary([100.0]), baseline(energy_j=0.0), Rules(limits_pct={"energy_j": Level(fail=5.0)})
    ).checks
    assert (check.status, check.reason, check.change_pct) == ("skip", "baseline is zero", None)


def test_without_a_baseline_only_relative_limits_leave_a_note() -> None:
    decision = evaluate(summary([100.0]), None, Rules(budgets={"energy_j": Level(fail=500.0)}))
    assert (decision.verdict, decision.notes) == ("pass", ())


def test_hardware_differences_without_a_baseline_are_not_a_comparison() -> None:
    decision = evaluate(summary([100.0]), None, limit(fail=5.0), hardware_differences=("CPU model: a vs b",))
    (check,) = decision.checks
    assert (check.status, check.reason) == ("skip", "no baseline")
    assert decision.notes == ("No baseline yet: relative limits not applied (missing_baseline: pass).",)


def test_hardware_differences_leave_no_note_without_relative_limits() -> None:
    rules = Rules(budgets={"energy_j": Level(fail=500.0)})
    decision = evaluate(summary([100.0]), with_repeats(BASE_J), rules, hardware_differences=("CPU model: a vs b",))
    assert (decision.verdict, decision.notes) == ("pass", ())


def test_a_baseline_on_other_hardware_and_measured_otherwise_reads_as_other_hardware() -> None:
    differences = ("CPU model: a vs b", "energy method: x vs y")
    decision = evaluate(summary([100.0]), with_repeats(BASE_J), limit(fail=5.0), hardware_differences=differences)
    assert (
        decision.checks[0].reason
        == "not comparable: baseline on other hardware (CPU model: a vs b; energy method: x vs y)"
    )
    assert decision.notes == (
        "Not comparable: the baseline ran on other hardware (CPU model: a vs b; energy method: x vs y). "
        "Relative limits not applied (policy not_comparable: warn).",
    )
    only_method = evaluate(
        summary([100.0]), with_repeats(BASE_J), limit(fail=5.0), hardware_differences=differences[1:]
    )
    assert only_method.notes[0].startswith("Not comparable: the baseline was measured with another energy method")


def test_missing_inputs_are_named_exactly() -> None:
    rules = Rules(
        limits_pct={"energy_per_prediction_j": Level(fail=5.0)},
        budgets={"emissions_g": Level(fail=1.0)},
        quality_min={"accuracy": (0.9, None)},
        quality_max={"loss": (0.9, None)},
    )
    assert missing_inputs(rules, summary([1.0], predictions=None)) == [
        "the budget limits emissions_g but names no carbon intensity (carbon: in the budget)",
        "the budget limits energy_per_prediction_j but the benchmark reported no 'predictions' in $GREEN_GATE_METRICS",
        "the budget holds a floor or ceiling on 'accuracy' but the benchmark did not report it",
        "the budget holds a floor or ceiling on 'loss' but the benchmark did not report it",
    ]
    measured = summary([1.0], quality={"accuracy": 0.95, "loss": 0.1})
    assert missing_inputs(Rules(budgets={"gpu_energy_j": Level(fail=1.0)}), measured) == [
        "the budget limits gpu_energy_j but it was not measured"
    ]
    assert missing_inputs(rules, summary([1.0], quality={"accuracy": 0.95, "loss": 0.1})) == [
        "the budget limits emissions_g but names no carbon intensity (carbon: in the budget)"
    ]


def test_an_unjudged_rule_names_the_figure_and_keeps_a_finite_current_value() -> None:
    rules = Rules(budgets={"energy_j": Level(fail=math.nan, line=4)})
    decision = evaluate(summary([120.0]), None, rules)
    (check,) = decision.checks
    assert (check.status, check.current, check.source_line) == ("fail", 120.0, 4)
    assert check.reason == "the fail level is nan, not a finite number: the rule cannot be judged"
    assert decision.notes == ("1 rule(s) could not be judged: a limit or a figure is not a finite number.",)
    infinite = replace(summary([120.0]), metrics={**summary([120.0]).metrics, "energy_j": math.inf})
    (shown,) = evaluate(infinite, None, Rules(budgets={"energy_j": Level(fail=1.0)})).checks
    assert (shown.current, shown.reason) == (
        None,
        "this run's value is inf, not a finite number: the rule cannot be judged",
    )


# --- the remaining edges of the point comparison, the repeats and their screening -----------------


def test_the_point_comparison_says_which_side_lacks_repeats() -> None:
    rules = limit(warn=2.0, fail=5.0)
    (one_here,) = evaluate(summary([106.1]), with_repeats(BASE_J[:2]), rules).checks
    assert (
        one_here.reason == "+5.6% exceeds the fail limit of +5% (point comparison, no interval: this run has 1 repeat)"
    )
    zero = replace(with_repeats(BASE_J[:2]), per_repeat={METRIC: (0.0, 0.101)})
    (two_each,) = evaluate(summary([106.1, 106.0]), zero, rules).checks
    assert two_each.reason == (
        "+5.5% exceeds the fail limit of +5% (point comparison, no interval: a repeat is 0 or less, so there is no "
        "interval on logarithms)"
    )


def _float_just_below(target: float, gap: float) -> float:
    """A limit L with L + gap == target exactly in floating point."""
    candidate = target - gap
    while candidate + gap < target:
        candidate = math.nextafter(candidate, math.inf)
    while candidate + gap > target:
        candidate = math.nextafter(candidate, -math.inf)
    assert candidate + gap == target
    return candidate


@pytest.mark.parametrize("level", ["warn", "fail"])
def test_a_change_equal_to_the_limit_plus_its_tolerance_is_within_it(level: str) -> None:
    change = (0.103 / 0.1 - 1.0) * 100.0  # as the gate computes +3%
    at = _float_just_below(change, 1e-9)
    (check,) = evaluate(summary([103.0]), baseline(energy_per_prediction_j=0.1), limit(**{level: at})).checks
    assert (check.status, check.reason) == ("pass", "+3.0% is within the limit" + POINT)


def test_an_interval_starting_exactly_at_the_warn_limit_is_within_noise() -> None:
    (first,) = evaluate(summary(WARN_CLEAR), with_repeats(BASE_J), limit(warn=2.0)).checks
    assert first.interval_pct is not None
    at_start = first.interval_pct[0]
    (check,) = evaluate(summary(WARN_CLEAR), with_repeats(BASE_J), limit(warn=at_start)).checks
    assert (check.status, check.reason) == (
        "warn",
        f"+2.9% ± 0.7% (95% CI) is above the warn limit of +{at_start:g}%, within noise",
    )


def test_a_limit_under_one_percent_can_be_inconclusive() -> None:
    (check,) = evaluate(summary(STRADDLING), with_repeats(BASE_J), limit(warn=0.5)).checks
    assert (check.status, check.inconclusive) == ("warn", True)
    assert "above what a +0.5% limit can resolve" in check.reason


def test_paired_and_job_noise_intervals_use_the_budgets_confidence() -> None:
    half = ComparisonSpec(confidence=0.5)
    (paired,) = evaluate(
        summary(FAIL_CLEAR), with_repeats(BASE_J, paired=True), limit(fail=5.0), comparison=half
    ).checks
    assert (paired.method, paired.reason) == ("paired-log", "+6.1% ± 0.0% (50% CI) exceeds the fail limit of +5%")
    noise = {METRIC: stats.job_noise([])}
    wide = ComparisonSpec(confidence=0.99)
    (across,) = evaluate(
        summary(FAIL_CLEAR), with_repeats(BASE_J), limit(fail=5.0), comparison=wide, job_noise=noise
    ).checks
    assert across.reason == (
        "+6.1% ± 4.0% (99% CI) is above the fail limit of +5% but not significantly (the interval starts at +2.1%): "
        "could be noise"
    )


def test_dropping_outliers_keeps_two_repeats_when_two_remain() -> None:
    drop = ComparisonSpec(outliers="drop")
    cand, base = [100.0, 100.1, 130.0], [100.0, 100.1, 99.9]
    (paired,) = evaluate(summary(cand), with_repeats(base, paired=True), limit(fail=5.0), comparison=drop).checks
    assert paired.geomean_current == pytest.approx(stats.geomean([0.1, 0.1001]))
    assert paired.geomean_baseline == pytest.approx(stats.geomean([0.1, 0.1001]))  # pair 3 left out of both
    (independent,) = evaluate(summary(cand), with_repeats(base), limit(fail=5.0), comparison=drop).checks
    assert independent.geomean_current == pytest.approx(stats.geomean([0.1, 0.1001]))
    assert independent.geomean_baseline == pytest.approx(stats.geomean([0.1, 0.1001, 0.0999]))
    assert independent.reason == "+0.1% ± 0.2% (95% CI) is within the limit"


def test_independent_drop_keeps_a_baseline_that_would_fall_below_two_repeats() -> None:
    drop = ComparisonSpec(outliers="drop", outlier_k=0.5)
    decision = evaluate(summary(BASE_J), with_repeats([100.0, 100.05, 100.2]), limit(fail=5.0), comparison=drop)
    assert decision.checks[0].geomean_baseline == pytest.approx(stats.geomean([0.1, 0.10005, 0.1002]))


def test_a_relative_check_on_a_derived_figure_is_inconclusive_at_warn_by_default() -> None:
    from gate.compare.verdict import relative_check

    notes: list[str] = []
    noisy = summary([70.0, 130.0, 95.0, 110.0, 85.0])
    check = relative_check(
        METRIC, Level(fail=5.0), noisy, with_repeats(BASE_J), comparison=ComparisonSpec(), notes=notes
    )
    assert (check.status, check.inconclusive) == ("warn", True)
    assert notes == [f"{METRIC}: inconclusive, the interval is wider than the +5% limit (policy inconclusive: warn)."]


@pytest.mark.parametrize(
    ("rules", "reason", "limit_text"),
    [
        (
            Rules(limits_pct={METRIC: Level(warn=math.inf, line=3)}),
            "the warn level is inf, not a finite number: the rule cannot be judged",
            "warn > +inf%",
        ),
        (
            Rules(quality_min={"top1": (math.nan, 3)}),
            "the floor is nan, not a finite number: the rule cannot be judged",
            "",
        ),
        (
            Rules(quality_max={"top1": (math.nan, 3)}),
            "the ceiling is nan, not a finite number: the rule cannot be judged",
            "",
        ),
    ],
)
def test_each_kind_of_unjudged_rule_counts_once(rules: Rules, reason: str, limit_text: str) -> None:
    decision = evaluate(summary(FAIL_CLEAR, quality={"top1": 0.9}), with_repeats(BASE_J), rules)
    (check,) = decision.checks
    assert (check.status, check.reason, check.limit, check.source_line) == ("fail", reason, limit_text, 3)
    assert decision.notes == ("1 rule(s) could not be judged: a limit or a figure is not a finite number.",)


def test_an_absolute_check_names_its_budget_line() -> None:
    (check,) = evaluate(summary([60.0]), None, Rules(budgets={"energy_j": Level(warn=50.0, line=7)})).checks
    assert (check.status, check.source_line, check.limit) == ("warn", 7, "warn > 50 J")


def test_a_quality_bound_not_reported_names_its_limit_and_line() -> None:
    (check,) = evaluate(summary([1.0]), None, Rules(quality_min={"top1": (0.9, 6)})).checks
    assert (check.status, check.limit, check.source_line) == ("fail", "≥ 0.9", 6)


# --- adaptive repeats: which interval each look uses ---------------------------------------------


def test_a_look_with_two_repeats_a_side_has_an_interval() -> None:
    from gate.compare.verdict import keep_measuring

    clear, base = summary([150.0, 151.0]), with_repeats([100.0, 100.5])
    assert keep_measuring(clear, base, limit(fail=5.0), 0.95, {}, 2, 2, 12) == (False, "decided")
    zero = replace(base, per_repeat={METRIC: (0.0, 0.1005)})  # no interval on logarithms: not decided
    assert keep_measuring(clear, zero, limit(fail=5.0), 0.95, {}, 2, 2, 12) == (True, "undecided")


def test_a_look_uses_the_paired_interval_only_for_a_paired_base_of_equal_length() -> None:
    from gate.compare.verdict import keep_measuring

    drift = [1.00, 1.01, 1.02, 1.03, 1.04]  # shared drift: only pairs see through it
    cand, base = summary([102.6 * d for d in drift]), [100.0 * d for d in drift]
    rules = limit(warn=2.0, fail=5.0)
    assert keep_measuring(cand, with_repeats(base), rules, 0.95, {}, 5, 3, 12) == (True, "undecided")
    assert keep_measuring(cand, with_repeats(base, paired=True), rules, 0.95, {}, 5, 3, 12) == (False, "decided")
    three = summary(FAIL_CLEAR[:3])
    assert keep_measuring(three, with_repeats(BASE_J, paired=True), limit(fail=2.0), 0.95, {}, 3, 3, 12) == (
        False,
        "decided",
    )


def test_a_look_widens_a_history_interval_by_job_noise_but_not_a_paired_one() -> None:
    from gate.compare.verdict import keep_measuring

    big = {METRIC: stats.JobNoise(log_var=math.log1p(0.3**2), dof=math.inf, runs=3, assumed=False)}
    cand = summary(FAIL_CLEAR)
    assert keep_measuring(cand, with_repeats(BASE_J), limit(fail=2.0), 0.95, big, 5, 3, 12) == (True, "undecided")
    assert keep_measuring(cand, with_repeats(BASE_J, paired=True), limit(fail=2.0), 0.95, big, 5, 3, 12) == (
        False,
        "decided",
    )


def test_independent_drop_keeps_a_baseline_of_two_repeats_when_two_remain() -> None:
    drop = ComparisonSpec(outliers="drop")
    (check,) = evaluate(summary(BASE_J), with_repeats([100.0, 100.1, 130.0]), limit(fail=5.0), comparison=drop).checks
    assert check.geomean_baseline == pytest.approx(stats.geomean([0.1, 0.1001]))
