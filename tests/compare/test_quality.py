"""Quality judged against the baseline's value, and energy per quality point. Pure data in, checks out."""

from __future__ import annotations

import dataclasses

import pytest

from gate.compare.model import Baseline, Decision
from gate.compare.quality import (
    Judging,
    efficiency_metric,
    emissions_per_point_g,
    relative_checks,
    with_relative_quality,
)
from gate.config.budget import Level, Rules
from gate.energy.model import RunSummary
from tests.helpers import baseline, summary

MIN_RATIO = Rules(quality_min_ratio={"accuracy": (0.99, 12)})
MAX_RATIO = Rules(quality_max_ratio={"loss": (1.02, 13)})


def _run(accuracy: float, energy_j: float = 100.0) -> RunSummary:
    return summary([energy_j], quality={"accuracy": accuracy})  # 1000 predictions: 0.1 J each at 100 J


@pytest.mark.parametrize(
    ("current", "status", "reason"),
    [
        (0.95, "pass", "1 × the baseline's 0.95"),
        (0.9405, "pass", "0.99 × the baseline's 0.95"),  # exactly at the floor passes
        (0.94, "fail", "0.9895 × the baseline's 0.95, below 0.99 ×"),
        (0.99, "pass", "1.042 × the baseline's 0.95"),
    ],
)
def test_min_ratio_is_judged_against_the_baselines_value(current: float, status: str, reason: str) -> None:
    (check, _) = relative_checks(_run(current), baseline(accuracy=0.95, energy_per_prediction_j=0.1), MIN_RATIO)
    assert (check.metric, check.rule, check.status, check.reason) == ("accuracy", "quality", status, reason)
    assert (check.baseline, check.source_line, check.limit) == (0.95, 12, "≥ 0.99 × baseline")
    assert check.change_pct == pytest.approx((current / 0.95 - 1) * 100)


def test_max_ratio_bounds_a_lower_is_better_metric() -> None:
    rules = MAX_RATIO
    ok = relative_checks(summary([1.0], quality={"loss": 0.51}), baseline(loss=0.5), rules)
    bad = relative_checks(summary([1.0], quality={"loss": 0.52}), baseline(loss=0.5), rules)
    assert [c.status for c in ok] == ["pass"]  # max_ratio alone reports no efficiency figure
    assert [(c.status, c.reason) for c in bad] == [("fail", "1.04 × the baseline's 0.5, above 1.02 ×")]


@pytest.mark.parametrize(
    ("base", "status", "reason"),
    [
        (None, "skip", "no baseline yet"),
        ({}, "skip", "the baseline run did not report it"),
        ({"accuracy": 0.0}, "skip", "the baseline's value 0 is not a positive number: no ratio"),
    ],
)
def test_a_ratio_without_a_usable_baseline_value_is_skipped(
    base: dict[str, float] | None, status: str, reason: str
) -> None:
    checks = relative_checks(_run(0.5), None if base is None else baseline(**base), MIN_RATIO)
    assert (checks[0].status, checks[0].reason) == (status, reason)


def test_a_ratio_on_a_metric_the_benchmark_did_not_report_fails() -> None:
    checks = relative_checks(summary([1.0]), baseline(accuracy=0.9), MIN_RATIO)
    assert [(c.metric, c.status, c.reason) for c in checks] == [("accuracy", "fail", "not reported by the benchmark")]


def test_efficiency_is_energy_per_item_per_quality_point_and_its_change() -> None:
    # 3% less energy but 5% less accuracy: the figure gets worse.
    rules = Rules(quality_min_ratio={"accuracy": (0.9, 1)}, efficiency_pct={"accuracy": Level(warn=1.0, fail=2.0)})
    checks = relative_checks(
        _run(0.95 * 0.95, energy_j=97.0), baseline(accuracy=0.95, energy_per_prediction_j=0.1), rules
    )
    (ratio, efficiency) = checks
    assert ratio.status == "pass"
    assert efficiency.metric == efficiency_metric("accuracy") == "efficiency:accuracy"
    assert efficiency.current == pytest.approx(0.097 / (0.95 * 0.95))
    assert efficiency.baseline == pytest.approx(0.1 / 0.95)
    assert efficiency.change_pct == pytest.approx((0.97 / 0.95 - 1) * 100)
    assert (efficiency.status, efficiency.limit) == ("fail", "warn > +1%, fail > +2%")
    assert efficiency.reason.startswith("+2.1% exceeds the fail limit")


def test_efficiency_without_a_limit_is_reported_and_never_fails() -> None:
    (_, efficiency) = relative_checks(_run(0.5), baseline(accuracy=0.95, energy_per_prediction_j=0.1), MIN_RATIO)
    assert (efficiency.status, efficiency.reason, efficiency.limit) == ("pass", "reported only", "")
    assert efficiency.change_pct == pytest.approx((0.1 / 0.5) / (0.1 / 0.95) * 100 - 100)


def test_efficiency_names_grams_per_point_when_the_run_has_an_intensity() -> None:
    from gate.carbon.model import Intensity

    run = summary([3.6e6], quality={"accuracy": 0.5}, intensity=Intensity(100.0, "fixed value"))  # 1 kWh: 100 g
    (_, efficiency) = relative_checks(run, None, MIN_RATIO)
    assert efficiency.reason == "no comparable baseline"  # the gCO2eq figure has its own report row
    assert emissions_per_point_g(run.metrics, 0.5) == pytest.approx(0.2)  # 100 g / 1000 items / 0.5


def test_on_other_hardware_the_ratio_holds_but_the_efficiency_has_no_baseline() -> None:
    rules = Rules(quality_min_ratio={"accuracy": (0.99, 1)}, efficiency_pct={"accuracy": Level(fail=2.0)})
    checks = relative_checks(
        _run(0.5), baseline(accuracy=0.95, energy_per_prediction_j=0.1), rules, Judging(comparable=False)
    )
    assert [(c.metric, c.status) for c in checks] == [("accuracy", "fail"), ("efficiency:accuracy", "skip")]


def test_the_verdict_worsens_with_a_failed_ratio_and_an_error_stays_an_error() -> None:
    base = baseline(accuracy=0.95)
    passed = with_relative_quality(Decision("pass", ()), _run(0.5), base, MIN_RATIO)
    errored = with_relative_quality(Decision("error", ()), _run(0.5), base, MIN_RATIO)
    untouched = Decision("warn", ())
    assert passed.verdict == "fail" and [c.metric for c in passed.checks] == ["accuracy", "efficiency:accuracy"]
    assert errored.verdict == "error"
    assert with_relative_quality(untouched, _run(0.5), base, Rules()) is untouched


EFFICIENCY_LIMIT = Rules(efficiency_pct={"accuracy": Level(warn=3.0, fail=8.0, line=9)})


def _repeated_baseline(energies_j: list[float], accuracy: float) -> Baseline:
    base = summary(energies_j, quality={"accuracy": accuracy})
    return Baseline("b" * 32, {**base.metrics, "accuracy": accuracy}, "c0ffee0", "main", 0, per_repeat=base.per_repeat)


def test_an_efficiency_limit_on_noisy_repeats_is_inconclusive_not_failed() -> None:
    # The same work on a loaded runner: +19% on the medians, but the repeats scatter by ±30%.
    base = _repeated_baseline([57.6, 53.9, 51.0, 60.3, 70.7], 0.74)
    noisy = summary([112.7, 59.8, 48.0, 68.7, 53.8], quality={"accuracy": 0.74})
    notes: list[str] = []
    (efficiency,) = relative_checks(noisy, base, EFFICIENCY_LIMIT, notes=notes)
    assert (efficiency.metric, efficiency.rule, efficiency.status) == ("efficiency:accuracy", "quality", "warn")
    assert efficiency.reason.startswith("inconclusive") and efficiency.interval_pct is not None
    assert efficiency.limit == "warn > +3%, fail > +8%" and efficiency.source_line == 9
    assert "efficiency:accuracy: inconclusive, the interval is wider than the +8% limit" in " ".join(notes)
    assert "repeat 1 (0.1523)" in notes[0]  # the outlier is named, and kept
    decided = with_relative_quality(Decision("pass", ()), noisy, base, EFFICIENCY_LIMIT, Judging(inconclusive="pass"))
    assert decided.verdict == "pass" and decided.notes  # the policy decides, and the note says so


def test_an_efficiency_limit_fails_a_clear_regression_on_repeats_with_its_interval() -> None:
    base = _repeated_baseline([100.0, 100.5, 99.5, 100.2, 99.8], 0.95)
    # 3% less energy, 10% less accuracy: energy per accuracy point up 7.8%, beyond +3% and near +8%.
    worse = summary([87.0, 87.3, 86.7, 87.1, 86.9], quality={"accuracy": 0.95 * 0.8})
    (efficiency,) = relative_checks(worse, base, EFFICIENCY_LIMIT)
    assert efficiency.status == "fail" and efficiency.reason.startswith("+8.8% ± ")
    low, high = efficiency.interval_pct or (0.0, 0.0)
    assert 8.0 < low < efficiency.change_pct < high  # type: ignore[operator]


def test_grams_per_item_per_point_needs_emissions_an_item_count_and_a_positive_quality() -> None:
    metrics = {"energy_j": 100.0, "emissions_g": 2.0, "energy_per_prediction_j": 0.1}
    assert emissions_per_point_g(metrics, 0.5) == pytest.approx(2.0 * 0.1 / 100.0 / 0.5)
    assert emissions_per_point_g({**metrics, "emissions_g": float("nan")}, 0.5) is None
    assert emissions_per_point_g({"energy_j": 100.0, "emissions_g": 2.0}, 0.5) is None
    assert emissions_per_point_g(metrics, 0.0) is None


@pytest.mark.parametrize(("value", "bound"), [(float("nan"), 1.02), (0.5, float("inf"))], ids=["value", "ratio"])
def test_a_ratio_rule_on_a_figure_that_is_not_finite_fails(value: float, bound: float) -> None:
    rules = Rules(quality_max_ratio={"loss": (bound, 13)})
    (check,) = relative_checks(summary([1.0], quality={"loss": value}), baseline(loss=0.5), rules)
    assert (check.status, check.reason) == ("fail", "this run's value or the ratio is not a finite number")
    assert (check.limit, check.source_line) == (f"≤ {bound:g} × baseline", 13)


@pytest.mark.parametrize(
    ("verdict", "extra", "expected"),
    [("pass", "warn", "warn"), ("warn", "fail", "fail"), ("fail", "warn", "fail"), ("warn", "warn", "warn")],
)
def test_a_quality_check_worsens_the_verdict_by_rank(verdict: str, extra: str, expected: str) -> None:
    base = _repeated_baseline([100.0, 100.5, 99.5, 100.2, 99.8], 0.95)
    # energy per point +4.0% ± 0.5% (warn) or +8.8% (fail) against warn +3%, fail +8%
    energies = [104.0, 104.3, 103.7, 104.1, 103.9] if extra == "warn" else [108.8, 109.1, 108.5, 108.9, 108.7]
    decided = with_relative_quality(
        Decision(verdict, ()),  # type: ignore[arg-type]
        summary(energies, quality={"accuracy": 0.95}),
        base,
        EFFICIENCY_LIMIT,
    )
    assert decided.checks[-1].status == extra
    assert decided.verdict == expected


def test_an_efficiency_limit_judged_without_a_notes_list_still_decides() -> None:
    base = _repeated_baseline([57.6, 53.9, 51.0, 60.3, 70.7], 0.74)
    noisy = summary([112.7, 59.8, 48.0, 68.7, 53.8], quality={"accuracy": 0.74})
    (efficiency,) = relative_checks(noisy, base, EFFICIENCY_LIMIT)
    assert (efficiency.status, efficiency.inconclusive) == ("warn", True)


def test_an_efficiency_limit_reads_as_the_budget_wrote_it() -> None:
    base = _repeated_baseline([100.0, 100.5, 99.5, 100.2, 99.8], 0.95)
    rules = Rules(efficiency_pct={"accuracy": Level(warn=-1.0, line=4)})  # must improve by 1%
    (efficiency,) = relative_checks(summary([100.0, 100.5, 99.5, 100.2, 99.8], quality={"accuracy": 0.95}), base, rules)
    assert (efficiency.limit, efficiency.source_line, efficiency.status) == ("warn > -1%", 4, "warn")


def test_judging_is_a_frozen_value() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        Judging().comparable = False  # type: ignore[misc]


def test_a_ratio_exactly_at_its_bound_holds() -> None:
    floor = Rules(quality_min_ratio={"accuracy": (0.99, 1)})
    (at_floor, _) = relative_checks(_run(0.495), baseline(accuracy=0.5, energy_per_prediction_j=0.1), floor)
    assert (at_floor.status, at_floor.reason) == ("pass", "0.99 × the baseline's 0.5")
    (at_ceiling,) = relative_checks(summary([1.0], quality={"loss": 0.51}), baseline(loss=0.5), MAX_RATIO)
    assert (at_ceiling.status, at_ceiling.reason) == ("pass", "1.02 × the baseline's 0.5")


def test_no_efficiency_figure_for_a_quality_of_zero() -> None:
    rules = Rules(efficiency_pct={"accuracy": Level(fail=2.0)})
    assert relative_checks(_run(0.0), baseline(accuracy=0.95, energy_per_prediction_j=0.1), rules) == ()


def test_an_efficiency_limit_without_a_baseline_is_skipped_on_its_budget_line() -> None:
    (efficiency,) = relative_checks(_run(0.9), None, EFFICIENCY_LIMIT)
    assert (efficiency.status, efficiency.reason, efficiency.source_line) == ("skip", "no comparable baseline", 9)
    assert efficiency.limit == "warn > +3%, fail > +8%"


def test_an_efficiency_figure_without_a_limit_or_a_baseline_passes_as_reported() -> None:
    rules = Rules(quality_min_ratio={"accuracy": (0.9, 1)})
    (_, alone) = relative_checks(_run(0.9), None, rules)
    assert (alone.status, alone.reason, alone.source_line) == ("pass", "no comparable baseline", None)
    (_, unknown) = relative_checks(_run(0.9), baseline(accuracy=0.9), rules)  # no energy per item there
    assert (unknown.status, unknown.reason, unknown.change_pct) == ("pass", "", None)
