"""When a carbon-aware wait proceeds. Pure: times and intensities in, decisions out.

The wait proceeds as soon as one of these holds, checked in this order:
  below_threshold  the zone's live intensity is under the threshold
  forecast_window  the planned window has arrived: the forecast's first hour under the threshold
                   within the maximum wait, else its cleanest hour within it
  max_wait         the maximum wait is used up
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from gate.carbon.model import ForecastPoint

Reason = Literal["below_threshold", "forecast_window", "max_wait", "unavailable"]
_DURATION = re.compile(r"^\s*(?:(\d+(?:\.\d+)?)h)?\s*(?:(\d+(?:\.\d+)?)m)?\s*(?:(\d+(?:\.\d+)?)s?)?\s*$")


def parse_duration_s(text: str) -> float:
    """'90' / '90s' -> 90, '15m' -> 900, '2h' -> 7200, '1h30m' -> 5400. ValueError otherwise."""
    match = _DURATION.match(text.lower())
    if not match or not any(match.groups()):
        raise ValueError(f"{text!r} is not a duration; write it like 90s, 15m, 2h or 1h30m")
    hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds


@dataclass(frozen=True)
class Plan:
    started: datetime
    deadline: datetime
    threshold_g_per_kwh: float | None
    target: datetime | None = None  # when the forecast says to go; None: no forecast
    target_g_per_kwh: float | None = None
    target_kind: Literal["under_threshold", "cleanest"] | None = None


def plan(
    now: datetime,
    max_wait_s: float,
    threshold_g_per_kwh: float | None,
    forecast: Sequence[ForecastPoint] = (),
) -> Plan:
    """The deadline, and the forecast hour to wait for (its start, or now for the current hour)."""
    deadline = now + timedelta(seconds=max_wait_s)
    hour = timedelta(hours=1)
    window = [p for p in forecast if p.at + hour > now and p.at <= deadline]
    if not window:
        return Plan(now, deadline, threshold_g_per_kwh)
    under = [p for p in window if threshold_g_per_kwh is not None and p.g_per_kwh < threshold_g_per_kwh]
    kind: Literal["under_threshold", "cleanest"] = "under_threshold" if under else "cleanest"
    chosen = under[0] if under else min(window, key=lambda p: (p.g_per_kwh, p.at))
    return Plan(now, deadline, threshold_g_per_kwh, max(chosen.at, now), chosen.g_per_kwh, kind)


@dataclass(frozen=True)
class Step:
    proceed: bool
    reason: Reason | None
    message: str
    sleep_s: float = 0.0


def step(now: datetime, plan_: Plan, live_g_per_kwh: float | None, poll_s: float) -> Step:
    """Proceed now, or how long to sleep before looking again (never past the target or deadline)."""
    threshold = plan_.threshold_g_per_kwh
    if live_g_per_kwh is not None and threshold is not None and live_g_per_kwh < threshold:
        return Step(True, "below_threshold", f"{live_g_per_kwh:g} gCO2eq/kWh is under the threshold of {threshold:g}")
    if plan_.target is not None and now >= plan_.target:
        what = (
            "first forecast hour under the threshold"
            if plan_.target_kind == "under_threshold"
            else ("forecast's cleanest hour within the maximum wait")
        )
        return Step(True, "forecast_window", f"the {what} has arrived (forecast {plan_.target_g_per_kwh:g} gCO2eq/kWh)")
    if now >= plan_.deadline:
        return Step(True, "max_wait", f"the maximum wait ({span(plan_.deadline - plan_.started)}) is used up")
    wake = min(t for t in (now + timedelta(seconds=poll_s), plan_.target, plan_.deadline) if t is not None)
    return Step(False, None, "", (wake - now).total_seconds())


def span(delta: timedelta) -> str:
    seconds = round(delta.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{hours}h" if hours else "", f"{minutes}m" if minutes else "", f"{seconds}s" if seconds else ""]
    return "".join(parts) or "0s"
