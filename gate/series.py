"""Maths on sampled series (times sorted ascending, one value each). Pure."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence


def interpolate(times: Sequence[float], values: Sequence[float], t: float) -> float:
    """The value at `t`: linear between the samples around it, extrapolated from the first or last two
    beyond the ends (the later value where those two share a time). Needs two samples."""
    i = min(max(bisect_left(times, t), 1), len(times) - 1)
    t_a, t_b = times[i - 1], times[i]
    if t_b == t_a:
        return values[i]
    return values[i - 1] + (values[i] - values[i - 1]) * (t - t_a) / (t_b - t_a)
