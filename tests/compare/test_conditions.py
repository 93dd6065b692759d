"""Whether two runs' conditions agree within the tolerances, and which baseline matches best."""

from __future__ import annotations

from gate.compare.conditions import Tolerances, distance, mismatch, prefer_matching

QUIET = {"speed_index": 1300.0, "cpu_pressure_some_pct": 6.0}


def test_alike_conditions_match() -> None:
    assert mismatch({"speed_index": 1250.0, "cpu_pressure_some_pct": 30.0}, QUIET) is None


def test_a_slower_and_busier_runner_is_named_with_both_figures() -> None:
    found = mismatch({"speed_index": 897.0, "cpu_pressure_some_pct": 92.0}, QUIET)
    assert found is not None and found.busier
    assert found.describe() == "the runner was busier than at the baseline (speed index −31%, CPU pressure 92% vs 6%)"


def test_pressure_alone_or_speed_alone_is_enough() -> None:
    pressure = mismatch({"cpu_pressure_some_pct": 50.0}, QUIET)
    assert pressure is not None and pressure.figures == ("CPU pressure 50% vs 6%",)
    speed = mismatch({"speed_index": 1450.0}, QUIET)
    assert speed is not None and not speed.busier
    assert speed.describe() == "the runner was quieter than at the baseline (speed index +12%)"


def test_a_quieter_runner_than_the_baseline_is_also_not_comparable() -> None:
    found = mismatch(QUIET, {"speed_index": 1300.0, "cpu_pressure_some_pct": 95.0})
    assert found is not None and not found.busier
    assert found.figures == ("CPU pressure 6% vs 95%",)


def test_at_the_tolerance_still_matches() -> None:
    tight = Tolerances(speed_pct=10.0, pressure_pts=30.0)
    assert mismatch({"speed_index": 1170.0, "cpu_pressure_some_pct": 36.0}, QUIET, tight) is None


def test_a_side_without_conditions_cannot_mismatch() -> None:
    assert mismatch({}, QUIET) is None
    assert mismatch(QUIET, {}) is None
    assert distance(QUIET, {}) == 0.0


def test_distance_is_in_tolerances() -> None:
    assert distance({"speed_index": 1300.0, "cpu_pressure_some_pct": 66.0}, QUIET) == 2.0


def test_the_newest_matching_baseline_is_preferred() -> None:
    busy = {"speed_index": 900.0, "cpu_pressure_some_pct": 95.0}
    runs = [busy, QUIET, {"speed_index": 1290.0, "cpu_pressure_some_pct": 10.0}, busy]  # newest last
    assert prefer_matching(QUIET, runs) == 2
    assert prefer_matching(QUIET, runs[:3]) is None  # the newest already matches
    assert prefer_matching(QUIET, [busy, busy]) is None  # none does: the newest stays
    assert prefer_matching(QUIET, []) is None
