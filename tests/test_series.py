"""Linear interpolation on sampled series (GPU energy counter curves, RAPL polls)."""

from __future__ import annotations

import pytest

from gate.series import interpolate

TIMES = [0.0, 1.0, 3.0]
VALUES = [10.0, 20.0, 40.0]


@pytest.mark.parametrize(
    ("t", "expected"),
    [(0.0, 10.0), (0.5, 15.0), (1.0, 20.0), (2.0, 30.0), (3.0, 40.0), (-1.0, 0.0), (4.0, 50.0)],
)
def test_linear_inside_and_extrapolated_beyond_the_ends(t: float, expected: float) -> None:
    assert interpolate(TIMES, VALUES, t) == pytest.approx(expected)


def test_end_samples_at_the_same_time_do_not_divide_by_zero() -> None:
    assert interpolate([0.0, 0.0], [3.0, 4.0], 5.0) == 4.0
    assert interpolate([0.0, 1.0, 1.0], [0.0, 5.0, 7.0], 2.0) == 7.0
