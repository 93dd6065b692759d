"""Per-case limits (gate/compare/cases.py): each case judged on its own repeats, alone."""

from __future__ import annotations

from dataclasses import replace

import pytest

from gate.compare.cases import case_checks, with_case_checks
from gate.compare.model import Baseline, Decision
from gate.config.budget import ComparisonSpec, Level, Outcome, Rules
from gate.energy.model import PhaseSummary, RunSummary, phase_metric
from tests.helpers import summary

CASES = {"test_small": 1.0, "test_medium": 2.0, "test_large": 3.0, "test_sort": 0.5, "test_join": 0.7}
SPREAD = (0.99, 1.01, 1.0, 0.995, 1.005)  # the same small noise in every case's five repeats


def _suite(scale: dict[str, float] | None = None) -> RunSummary:
    """Five cases, 40 calls each, five repeats; `scale` multiplies a case's energy."""
    scale = scale or {}
    series: dict[str, tuple[float, ...]] = {}
    phases = []
    for name, mj in CASES.items():
        per_call = tuple(mj * 1e-3 * scale.get(name, 1.0) * f for f in SPREAD)
        series[phase_metric(name, "energy_per_item_j")] = per_call
        series[phase_metric(name, "energy_j")] = tuple(v * 40 for v in per_call)
        phases.append(PhaseSummary(name, sorted(per_call)[2] * 40, 0.1, 40, sorted(per_call)[2]))
    return replace(summary([10.0] * 5), phases=tuple(phases), phase_series=series)


def _baseline(run: RunSummary) -> Baseline:
    medians = {k: sorted(v)[2] for k, v in run.phase_series.items()}
    return Baseline("b" * 32, {**run.metrics, **medians}, "c0ffee0", "main", 0, per_repeat=dict(run.phase_series))


RULES = Rules(cases={"test_*": {"energy_per_item_j": Level(fail=15.0, line=9)}})


def _judge(run: RunSummary, baseline: Baseline | None, rules: Rules = RULES) -> tuple[dict[str, str], list[str]]:
    notes: list[str] = []
    checks = case_checks(run, baseline, rules, comparison=ComparisonSpec(), notes=notes)
    return {c.metric: c.status for c in checks}, notes


def test_a_thirty_percent_regression_in_one_case_fails_that_case_alone() -> None:
    statuses, _ = _judge(_suite({"test_large": 1.3}), _baseline(_suite()))
    assert statuses.pop("phase.test_large.energy_per_item_j") == "fail"
    assert set(statuses.values()) == {"pass"} and len(statuses) == 4


def test_the_case_check_decides_on_the_repeats_with_an_interval() -> None:
    notes: list[str] = []
    (check, *_) = case_checks(
        _suite({"test_small": 1.3}), _baseline(_suite()), RULES, comparison=ComparisonSpec(), notes=notes
    )
    assert check.metric == "phase.test_small.energy_per_item_j"
    assert check.change_pct == pytest.approx(30.0) and check.interval_pct is not None
    assert (check.source_line, check.limit) == (9, "fail > +15%")


def test_an_exact_name_wins_over_a_glob() -> None:
    rules = Rules(cases={"test_*": {"energy_j": Level(fail=50.0)}, "test_large": {"energy_j": Level(fail=10.0)}})
    statuses, _ = _judge(_suite({"test_large": 1.3, "test_small": 1.3}), _baseline(_suite()), rules)
    assert statuses["phase.test_large.energy_j"] == "fail"  # +30% over its own +10%
    assert statuses["phase.test_small.energy_j"] == "pass"  # +30% within the glob's +50%


def test_without_a_baseline_cases_are_skipped_and_unmatched_patterns_noted() -> None:
    rules = Rules(cases={**RULES.cases, "bench_*": {"energy_j": Level(fail=5.0)}})
    statuses, notes = _judge(_suite(), None, rules)
    assert set(statuses.values()) == {"skip"}
    assert notes == ["Case limits that matched no measured case: bench_*."]


def test_case_failures_worsen_the_decision() -> None:
    run, base = _suite({"test_sort": 1.5}), _baseline(_suite())
    notes: list[str] = []
    checks = case_checks(run, base, RULES, comparison=ComparisonSpec(), notes=notes)
    decided = with_case_checks(Decision("pass", ()), checks, notes)
    assert decided.verdict == "fail" and len(decided.checks) == 5


def test_limits_without_measured_cases_say_how_to_mark_them() -> None:
    _, notes = _judge(summary([10.0, 10.0]), None)
    assert "green-gate's pytest plugin" in notes[0]


def test_a_parametrised_case_is_judged_under_the_key_mlflow_keeps() -> None:
    run = _suite()
    name = "test_parse[small]"
    series = tuple(1e-3 * f for f in SPREAD)
    run = replace(
        run,
        phases=(*run.phases, PhaseSummary(name, 0.04, 0.1, 40, 1e-3)),
        phase_series={**run.phase_series, phase_metric(name, "energy_per_item_j"): series},
    )
    dearer = replace(
        run, phase_series={**run.phase_series, phase_metric(name, "energy_per_item_j"): tuple(v * 1.3 for v in series)}
    )
    statuses, _ = _judge(
        dearer, _baseline(run), Rules(cases={"test_parse[[]*": {"energy_per_item_j": Level(fail=15.0)}})
    )
    assert statuses == {"phase.test_parse_small_.energy_per_item_j": "fail"}


def test_a_paired_base_judges_each_case_on_pairs() -> None:
    base = replace(_baseline(_suite()), paired=True)
    notes: list[str] = []
    checks = case_checks(_suite({"test_join": 1.3}), base, RULES, comparison=ComparisonSpec(mode="paired"), notes=notes)
    join = next(c for c in checks if c.metric == "phase.test_join.energy_per_item_j")
    assert (join.status, join.method) == ("fail", "paired-log")


# --- each policy, each shape of missing figure, and the median of an even count ------------------

NOISY = (0.6, 1.5, 0.8, 1.3, 1.0)  # a case far noisier than its +15% limit can resolve


def _one_case(per_item: tuple[float, ...] | None, *, count_items: bool = True) -> RunSummary:
    """One case, `test_one`, with the given per-item series (None: the case has no series at all)."""
    series: dict[str, tuple[float, ...]] = {}
    if per_item is not None:
        series[phase_metric("test_one", "energy_j")] = tuple(v * 40 for v in per_item)
        if count_items:
            series[phase_metric("test_one", "energy_per_item_j")] = per_item
    phase = PhaseSummary("test_one", 0.04, 0.1, 40 if count_items else None, 1e-3 if count_items else None)
    return replace(summary([10.0] * len(per_item or SPREAD)), phases=(phase,), phase_series=series)


ONE_CASE = Rules(cases={"test_one": {"energy_per_item_j": Level(fail=15.0, line=4), "energy_j": Level(warn=5.0)}})


def test_a_case_without_its_series_is_skipped_with_the_reason() -> None:
    notes: list[str] = []
    base = _baseline(_one_case(SPREAD))
    checks = case_checks(_one_case(SPREAD, count_items=False), base, ONE_CASE, comparison=ComparisonSpec(), notes=notes)
    assert [(c.metric, c.status, c.current, c.reason, c.source_line) for c in checks] == [
        ("phase.test_one.energy_per_item_j", "skip", None, "the case counted no items", 4),
        (
            "phase.test_one.energy_j",
            "pass",
            pytest.approx(40.0, rel=1e-3),
            "+0.0% ± 1.2% (95% CI) is within the limit",
            None,
        ),
    ]
    unmeasured = case_checks(_one_case(None), base, ONE_CASE, comparison=ComparisonSpec(), notes=notes)
    assert [(c.status, c.reason) for c in unmeasured] == [
        ("skip", "the case counted no items"),
        ("skip", "not measured in every repeat"),
    ]
    assert notes == []


@pytest.mark.parametrize(("policy", "status"), [("pass", "skip"), ("warn", "warn"), ("fail", "fail")])
def test_missing_baseline_policy_decides_each_case(policy: Outcome, status: str) -> None:
    notes: list[str] = []
    (check, _) = case_checks(
        _one_case((1.0, 3.0, 2.0, 4.0)),
        None,
        ONE_CASE,
        comparison=ComparisonSpec(),
        missing_baseline=policy,
        notes=notes,
    )
    assert (check.status, check.reason, check.source_line) == (status, "no baseline", 4)
    assert check.current == 2.5  # the median of an even count: the mean of the middle two


def test_an_odd_count_s_median_is_its_middle_value() -> None:
    notes: list[str] = []
    (check, _) = case_checks(_one_case((5.0, 1.0, 2.0)), None, ONE_CASE, comparison=ComparisonSpec(), notes=notes)
    assert check.current == 2.0


def test_a_case_on_an_incomparable_runner_is_skipped_whatever_its_change() -> None:
    notes: list[str] = []
    checks = case_checks(
        _one_case(tuple(v * 2 for v in SPREAD)),
        _baseline(_one_case(SPREAD)),
        ONE_CASE,
        comparison=ComparisonSpec(),
        comparable=False,
        notes=notes,
    )
    assert [(c.status, c.current, c.baseline, c.change_pct, c.reason) for c in checks] == [
        ("skip", 2.0, None, None, "not comparable"),
        ("skip", 80.0, None, None, "not comparable"),
    ]


@pytest.mark.parametrize(("policy", "status"), [(None, "warn"), ("pass", "skip"), ("warn", "warn"), ("fail", "fail")])
def test_inconclusive_policy_decides_a_noisy_case(policy: Outcome | None, status: str) -> None:
    notes: list[str] = []
    rules = Rules(cases={"test_one": {"energy_per_item_j": Level(fail=15.0)}})
    run, base = _one_case(NOISY), _baseline(_one_case(SPREAD))
    if policy is None:  # the default
        (check,) = case_checks(run, base, rules, comparison=ComparisonSpec(), notes=notes)
    else:
        (check,) = case_checks(run, base, rules, comparison=ComparisonSpec(), inconclusive=policy, notes=notes)
    assert check.status == status and check.inconclusive
    assert check.reason.startswith("inconclusive: ")


def test_a_suite_whose_limits_all_matched_adds_no_note() -> None:
    statuses, notes = _judge(_suite(), _baseline(_suite()))
    assert set(statuses.values()) == {"pass"} and notes == []


def test_no_case_limits_and_no_cases_adds_no_note() -> None:
    notes: list[str] = []
    assert case_checks(summary([10.0, 10.0]), None, Rules(), comparison=ComparisonSpec(), notes=notes) == []
    assert notes == []


def test_a_note_alone_still_reaches_the_decision() -> None:
    decided = with_case_checks(Decision("warn", ()), [], ["Case limits that matched no measured case: bench_*."])
    assert decided == Decision("warn", (), notes=("Case limits that matched no measured case: bench_*.",))


def test_case_checks_and_notes_are_added_after_the_decision_s_own() -> None:
    run, base = _suite({"test_sort": 1.5}), _baseline(_suite())
    rules = Rules(cases={**RULES.cases, "bench_*": {"energy_j": Level(fail=5.0)}})
    notes: list[str] = []
    checks = case_checks(run, base, rules, comparison=ComparisonSpec(), notes=notes)
    earlier = Decision("warn", (), notes=("earlier",))
    decided = with_case_checks(earlier, checks, notes)
    assert decided.verdict == "fail"
    assert decided.checks == tuple(checks)
    assert decided.notes == ("earlier", "Case limits that matched no measured case: bench_*.")
