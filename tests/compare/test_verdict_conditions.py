"""Relative limits once the runner's conditions are known: an interval wholly below the warn limit
passes and says it improved; one that straddles a limit stays inconclusive; a mismatch is not
comparable (gate.compare.verdict.evaluate with conditions_matched / conditions_mismatch)."""

from __future__ import annotations

from dataclasses import replace

from gate.compare.model import Baseline
from gate.compare.stats import Comparison, compare_independent
from gate.compare.verdict import (
    conditions_outcome,
    evaluate,
    improved_reason,
    lowest_limit,
    relative_check,
    wholly_below,
)
from gate.config.budget import ComparisonSpec, Level, Rules
from tests.helpers import baseline, summary

LIMITS = Rules(limits_pct={"energy_per_prediction_j": Level(warn=2.0, fail=5.0, line=9)})
BASE_J = [100.0, 101.0, 99.5, 100.3, 99.8]
NOISY_LOW = [45.0, 70.0, 55.0, 65.0, 60.0]  # -41.7% ± 12.4%: wider than +5%, wholly below +2%


def with_repeats(energies_j: list[float], *, paired: bool = False) -> Baseline:
    base = summary(energies_j)
    return replace(baseline(**base.metrics), per_repeat=base.per_repeat, paired=paired)


def test_with_matching_conditions_a_wide_interval_wholly_below_the_warn_limit_passes_as_improved() -> None:
    decision = evaluate(summary(NOISY_LOW), with_repeats(BASE_J), LIMITS, conditions_matched=True)
    (check,) = decision.checks
    assert (check.status, check.inconclusive, decision.verdict) == ("pass", False, "pass")
    assert check.reason == "improved: -41.7% ± 12.4% (95% CI), the whole interval is below no change"
    assert decision.notes == ()


def test_without_conditions_known_the_same_interval_stays_inconclusive() -> None:
    (check,) = evaluate(summary(NOISY_LOW), with_repeats(BASE_J), LIMITS).checks
    assert check.status == "warn" and check.inconclusive and check.reason.startswith("inconclusive: -41.7% ± 12.4% ")


def test_a_paired_base_is_measured_alike_so_its_wide_improvement_passes() -> None:
    base = [100.0, 140.0, 80.0, 120.0, 90.0]
    cand = [b * r for b, r in zip(base, [0.5, 0.8, 0.6, 0.75, 0.55], strict=True)]
    (check,) = evaluate(summary(cand), with_repeats(base, paired=True), LIMITS).checks
    assert check.method == "paired-log" and check.status == "pass" and check.reason.startswith("improved: ")


def test_an_interval_that_straddles_a_limit_stays_inconclusive_with_matching_conditions() -> None:
    noisy = [60.0, 95.0, 70.0, 88.0, 52.0, 130.0]
    (check,) = evaluate(summary(noisy), with_repeats(BASE_J), LIMITS, conditions_matched=True).checks
    assert check.interval_pct is not None and check.interval_pct[0] < 2.0 < check.interval_pct[1]
    assert check.inconclusive and check.status == "warn"


def test_a_narrow_significant_improvement_says_improved_whatever_the_conditions() -> None:
    (check,) = evaluate(summary([90.0, 90.5, 89.5, 90.2, 89.8]), with_repeats(BASE_J), LIMITS).checks
    assert check.status == "pass" and check.reason.startswith("improved: -10.")


def test_the_small_rules() -> None:
    assert lowest_limit(Level(warn=2.0, fail=5.0)) == 2.0 and lowest_limit(Level(fail=5.0)) == 5.0
    assert lowest_limit(Level()) is None
    below = compare_independent([0.7, 0.72, 0.69], [1.0, 1.01, 0.99])
    assert wholly_below(below, Level(warn=2.0)) and not wholly_below(below, Level())
    assert not wholly_below(compare_independent([1.0, 1.2, 0.9], [1.0, 1.01, 0.99]), Level(warn=2.0))
    assert improved_reason("-30.0% ± 1.0% (95% CI)") == (
        "improved: -30.0% ± 1.0% (95% CI), the whole interval is below no change"
    )
    assert [conditions_outcome(p) for p in ("pass", "warn", "fail")] == ["pass", "warn", "warn"]


def test_a_derived_figure_knows_no_conditions_so_its_wide_improvement_stays_inconclusive() -> None:
    now, base = summary(NOISY_LOW), with_repeats(BASE_J)
    notes: list[str] = []
    level = LIMITS.limits_pct["energy_per_prediction_j"]
    check = relative_check(
        "energy_per_prediction_j", level, now, base, comparison=ComparisonSpec(), notes=notes, inconclusive="fail"
    )
    assert (check.status, check.inconclusive) == ("fail", True)
    assert check.reason.startswith("inconclusive: -41.7% ± 12.4% (95% CI); ")


BUSIER = "the runner was busier than at the baseline (speed index −31%)"


def test_a_mismatch_with_no_change_to_show_says_only_why() -> None:
    now = summary([150.0, 151.0, 149.0])
    zero = replace(baseline(energy_per_prediction_j=0.0), per_repeat={})
    lacking = replace(baseline(energy_j=300.0), per_repeat={})
    for base in (zero, lacking):
        (check,) = evaluate(now, base, LIMITS, conditions_mismatch=BUSIER).checks
        assert (check.status, check.change_pct) == ("warn", None)
        assert check.reason == f"not comparable: {BUSIER}"
    (check,) = evaluate(now, baseline(energy_per_prediction_j=0.1), LIMITS, conditions_mismatch=BUSIER).checks
    assert check.reason == f"not comparable: {BUSIER}; the change (+50.0%) is not judged"


def test_an_interval_ending_exactly_at_the_lowest_limit_is_not_wholly_below_it() -> None:
    # (1.25 − 1) × 100 is exactly 25.0: no rounding at the boundary.
    at = Comparison(1.0, 0.8, 1.25, 0.95, "welch-log", 5, 5, 8.0)
    assert at.high_pct == 25.0
    assert not wholly_below(at, Level(warn=25.0, fail=50.0))
    assert wholly_below(at, Level(warn=25.5))


def test_an_unchanged_run_with_no_spread_passes_within_the_limit_not_as_improved() -> None:
    same = [100.0, 100.0, 100.0, 100.0]
    (check,) = evaluate(summary(same), with_repeats(same, paired=True), LIMITS).checks
    assert (check.status, check.interval_pct) == ("pass", (0.0, 0.0))
    assert check.reason == "+0.0% ± 0.0% (95% CI) is within the limit"
