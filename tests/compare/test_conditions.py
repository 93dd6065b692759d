"""Whether two runs' conditions agree within the tolerances, and which baseline matches best."""

from __future__ import annotations

from dataclasses import FrozenInstanceError

import pytest

from gate.compare.conditions import (
    TOLERANCES,
    Mismatch,
    Tolerances,
    distance,
    mismatch,
    prefer_matching,
    speed_change_pct,
)

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


# --- the defaults, the exact boundaries, and a runner slower on one figure and quieter on the other -


def test_the_default_tolerances_are_six_percent_speed_and_thirty_points_pressure() -> None:
    assert TOLERANCES == Tolerances() == Tolerances(speed_pct=6.0, pressure_pts=30.0)
    assert mismatch({"speed_index": 106.5}, {"speed_index": 100.0}) is not None
    assert mismatch({"speed_index": 105.5}, {"speed_index": 100.0}) is None
    assert mismatch({"cpu_pressure_some_pct": 36.5}, {"cpu_pressure_some_pct": 6.0}) is not None
    assert mismatch({"cpu_pressure_some_pct": 36.0}, {"cpu_pressure_some_pct": 6.0}) is None


def test_tolerances_and_mismatches_are_frozen() -> None:
    found = mismatch({"speed_index": 50.0}, {"speed_index": 100.0})
    assert found == Mismatch(busier=True, figures=("speed index −50%",))
    with pytest.raises(FrozenInstanceError):
        found.busier = False  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        TOLERANCES.speed_pct = 99.0  # type: ignore[misc]


def test_a_speed_change_exactly_at_the_tolerance_matches() -> None:
    # 112.5 / 100 − 1 is exactly 0.125: no rounding on either side of the boundary.
    assert speed_change_pct({"speed_index": 112.5}, {"speed_index": 100.0}) == 12.5
    assert mismatch({"speed_index": 112.5}, {"speed_index": 100.0}, Tolerances(speed_pct=12.5)) is None
    assert mismatch({"speed_index": 87.5}, {"speed_index": 100.0}, Tolerances(speed_pct=12.5)) is None


def test_a_baseline_without_a_positive_speed_index_has_no_speed_change() -> None:
    assert speed_change_pct({"speed_index": 5.0}, {"speed_index": 0.0}) is None
    assert speed_change_pct({"speed_index": 5.0}, {"speed_index": -1.0}) is None
    assert speed_change_pct({"speed_index": 1.0}, {"speed_index": 0.5}) == 100.0
    assert speed_change_pct({}, {"speed_index": 1.0}) is None


def test_a_speed_change_below_one_percent_has_its_direction() -> None:
    tight = Tolerances(speed_pct=0.25)
    faster = mismatch({"speed_index": 100.8}, {"speed_index": 100.0}, tight)
    slower = mismatch({"speed_index": 99.2}, {"speed_index": 100.0}, tight)
    assert faster is not None and faster.describe() == "the runner was quieter than at the baseline (speed index +1%)"
    assert slower is not None and slower.describe() == "the runner was busier than at the baseline (speed index −1%)"


def test_busier_on_either_figure_counts_as_busier() -> None:
    slower_less_pressure = mismatch(
        {"speed_index": 50.0, "cpu_pressure_some_pct": 5.0}, {"speed_index": 100.0, "cpu_pressure_some_pct": 90.0}
    )
    faster_more_pressure = mismatch(
        {"speed_index": 200.0, "cpu_pressure_some_pct": 90.0}, {"speed_index": 100.0, "cpu_pressure_some_pct": 5.0}
    )
    assert slower_less_pressure == Mismatch(busier=True, figures=("speed index −50%", "CPU pressure 5% vs 90%"))
    assert faster_more_pressure == Mismatch(busier=True, figures=("speed index +100%", "CPU pressure 90% vs 5%"))


def test_distance_counts_the_speed_in_its_tolerance() -> None:
    assert distance({"speed_index": 112.5}, {"speed_index": 100.0}) == 12.5 / 6.0
    ten = Tolerances(speed_pct=10.0)
    assert distance({"speed_index": 125.0, "cpu_pressure_some_pct": 6.0}, {"speed_index": 100.0}, ten) == 2.5
    assert distance({"speed_index": 75.0}, {"speed_index": 100.0}, Tolerances(speed_pct=50.0)) == 0.5


def test_the_oldest_baseline_is_preferred_when_only_it_matches() -> None:
    busy = {"speed_index": 900.0, "cpu_pressure_some_pct": 95.0}
    assert prefer_matching(QUIET, [QUIET, busy, busy]) == 0
    assert prefer_matching(QUIET, [QUIET, busy, busy, busy]) == 0
    assert prefer_matching(QUIET, [busy, QUIET, busy, busy]) == 1
    assert prefer_matching(QUIET, [busy]) is None


def test_a_figure_that_moved_in_neither_direction_takes_no_side() -> None:
    # Only a tolerance below zero reports an unchanged figure. It leaves the direction to the other
    # figure; with none, the mismatch falls to the busier side, as one whose figures point both ways.
    below_zero = Tolerances(speed_pct=-1.0, pressure_pts=-1.0)
    assert mismatch(QUIET, QUIET, below_zero) == Mismatch(
        busier=True, figures=("speed index +0%", "CPU pressure 6% vs 6%")
    )
    less_pressure = mismatch(QUIET, {"speed_index": 1300.0, "cpu_pressure_some_pct": 50.0}, below_zero)
    assert less_pressure == Mismatch(busier=False, figures=("speed index +0%", "CPU pressure 6% vs 50%"))
    faster = mismatch({"speed_index": 1430.0, "cpu_pressure_some_pct": 6.0}, QUIET, below_zero)
    assert faster == Mismatch(busier=False, figures=("speed index +10%", "CPU pressure 6% vs 6%"))
