"""Energy of any time window from a GPU's timeline of counter reads and power samples. Pure maths.

The NVML energy counter is exact over long spans but coarse: it updates about every 100 ms, so a
read is on average half a tick stale, and naive start/stop reads are off by up to one tick at each
edge (one tick at 700 W is 70 J, 7% of a 1 s window). Instant-power samples are cheap and fine-grained
but their gain is only good to a fraction of a percent. The engine takes the best of both:

    energy(t0, t1) = k * integral of power over [t0, t1]       (trapezoid, edges interpolated)
    k = counter energy / power integral, over the counter steps within `calibration_span_s` around
        the window, each counter read placed `staleness` before it was taken

so the power samples resolve where inside a tick the window starts and ends, and the counter fixes
their scale. A read returns the value of the latest tick the driver has reported: its staleness is
the driver's reporting latency plus the time since that tick, which depends on the tick's phase
against the reads. It is fitted from the trace (`fit_staleness`: the shift that lines the counter's
steps up with the power samples' steps), half a tick where the power never moved enough to say. The
answer for a window is only final once the counter has been read past its end (the meter waits for
that). Fallbacks, each named in the result's `method` with what really happened: power samples only
(no counter, or the counter not read across the window): the trapezoid; counter only (no power
samples, or power disagreeing with it): the counter interpolated linearly between reads; nothing:
NoEnergyDataError, never 0 J.

Counter values are unsigned and may wrap (`wrap_mj`) or restart (driver reload): a decrease by more
than half the range is a wrap; any other decrease is a reset, and that step is left out.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import pairwise

from gate.devices.gpu import NoEnergyDataError
from gate.series import interpolate

COUNTER_WRAP_MJ = 2**64  # nvmlDeviceGetTotalEnergyConsumption returns an unsigned long long
TICK_S = 0.1  # how often the counter updates (measured on an H100, see docs/measurement.md)
CALIBRATION_SPAN_S = 60.0
MAX_HOLD_S = 0.25  # how far past the first/last power sample a window may reach (value held)
CALIBRATION_BOUNDS = (0.5, 2.0)  # a k outside this means the power readings are not to be trusted

STALENESS_MAX_S = 0.4  # the longest counter staleness considered: 100 ms ticks + 300 ms latency
STALENESS_STEP_S = 0.002
GRID_BETTER = 0.5  # the tick grid is used where its misfit is under half a constant shift's
AVERAGE_S = 1.0  # nvmlDeviceGetPowerUsage's averaging window on Ampere and newer

METHOD_COMBINED = "NVML energy counter, sub-tick edges from power samples"
METHOD_POWER = "NVML power samples integrated (no energy counter)"
METHOD_POWER_UNREAD = "NVML power samples integrated (the energy counter was not read across this window)"
METHOD_COUNTER = "NVML energy counter, interpolated between reads (no power samples)"
METHOD_COUNTER_DISAGREE = (
    "NVML energy counter, interpolated between reads (power samples disagree with it by more than 2x)"
)
# Where the only power reading is nvmlDeviceGetPowerUsage's 1 s average (Ampere and newer when the
# instant field is missing), its samples lag a step by ~0.5 s: placing edges with them misses a 1 s
# phase by about -41%. The counter interpolated between its 100 ms reads is then the better edge.
METHOD_COUNTER_AVERAGED = (
    "NVML energy counter, interpolated between reads (power is a 1 s average here, too slow for edges)"
)
METHOD_POWER_AVERAGED = "NVML 1 s-averaged power integrated (no energy counter: edges blurred by about 1 s)"
METHOD_POWER_AVERAGED_UNREAD = (
    "NVML 1 s-averaged power integrated (the energy counter was not read across this window: "
    "edges blurred by about 1 s)"
)


@dataclass(frozen=True)
class Timeline:
    """One GPU's readings on the monotonic clock, both series sorted by time."""

    counter_t_s: Sequence[float] = ()
    counter_mj: Sequence[int] = ()
    power_t_s: Sequence[float] = ()
    power_w: Sequence[float] = ()
    tick_s: float = TICK_S
    wrap_mj: int = COUNTER_WRAP_MJ
    power_averaged: bool = False  # power samples are a trailing 1 s average, not instant power
    staleness_s: float | None = None  # how old a counter read's value is; None: fitted from the trace

    def __post_init__(self) -> None:
        if len(self.counter_t_s) != len(self.counter_mj) or len(self.power_t_s) != len(self.power_w):
            raise ValueError("timeline series of different lengths")

    def around(self, t0_s: float, t1_s: float, margin_s: float = CALIBRATION_SPAN_S) -> Timeline:
        """The part within `margin_s` of [t0, t1]: same answers, less work on a long recording."""
        lo, hi = t0_s - margin_s, t1_s + margin_s
        c0, c1 = bisect_left(self.counter_t_s, lo), bisect_right(self.counter_t_s, hi)
        p0, p1 = bisect_left(self.power_t_s, lo), bisect_right(self.power_t_s, hi)
        return Timeline(
            self.counter_t_s[c0:c1],
            self.counter_mj[c0:c1],
            self.power_t_s[p0:p1],
            self.power_w[p0:p1],
            self.tick_s,
            self.wrap_mj,
            self.power_averaged,
            self.staleness_s,
        )


@dataclass(frozen=True)
class WindowEnergy:
    energy_j: float
    duration_s: float
    method: str
    calibration: float | None = None  # k, when the counter scaled the power samples
    staleness_s: float | None = None  # where each counter read was placed before it was taken

    @property
    def mean_power_w(self) -> float:
        return self.energy_j / self.duration_s if self.duration_s > 0 else 0.0


@dataclass(frozen=True)
class CounterStep:
    """Energy the counter added between two consecutive reads taken at t_a_s and t_b_s."""

    t_a_s: float
    t_b_s: float
    energy_j: float


@dataclass(frozen=True)
class Placement:
    """When each counter read's value was true.

    A read returns the latest tick the driver has reported: ticks every `tick_s`, each reported
    `latency_s` after it. On the tick grid (`grid_phase_s` set: where, modulo the tick, a read starts
    seeing the next tick), a read at t holds the tick at floor((t - phase) / tick) x tick + phase -
    latency, so two reads either side of a report are placed a whole tick apart, as they are. Without
    a grid, every read is placed `staleness_s` before it was taken (its mean staleness)."""

    staleness_s: float
    grid_phase_s: float | None = None
    tick_s: float = TICK_S
    latency_s: float = 0.0
    # Reads taken within a tick's jitter of its report saw it or not: each one's tick, where its
    # neighbouring counter steps told (read time -> place).
    assigned: Mapping[float, float] = field(default_factory=dict)

    def place(self, t: float) -> float:
        if t in self.assigned:
            return self.assigned[t]
        if self.grid_phase_s is None:
            return t - self.staleness_s
        phase, tick = self.grid_phase_s, self.tick_s
        return math.floor((t - phase) / tick) * tick + phase - self.latency_s


def counter_steps(t_s: Sequence[float], mj: Sequence[int], wrap_mj: int = COUNTER_WRAP_MJ) -> list[CounterStep]:
    """Steps between consecutive reads, unwrapped; a step across a counter reset is left out."""
    steps = []
    for i in range(1, len(mj)):
        delta = mj[i] - mj[i - 1]
        if delta < 0:
            if -delta > wrap_mj // 2:
                delta += wrap_mj  # wrapped past the top of its range
            else:
                continue  # reset (driver reload): this step's energy is unknown
        steps.append(CounterStep(t_s[i - 1], t_s[i], delta / 1000))
    return steps


class PowerIntegral:
    """Cumulative trapezoid over power samples; O(log n) per query."""

    def __init__(self, t_s: Sequence[float], power_w: Sequence[float], max_hold_s: float = MAX_HOLD_S) -> None:
        if len(t_s) < 2:
            raise ValueError("need two power samples")
        self.t_s = t_s
        self.power_w = power_w
        self.max_hold_s = max_hold_s
        cumulative = [0.0]
        for i in range(1, len(t_s)):
            cumulative.append(cumulative[-1] + (power_w[i] + power_w[i - 1]) / 2 * (t_s[i] - t_s[i - 1]))
        self._cum = cumulative

    def covers(self, t0: float, t1: float) -> bool:
        return t0 >= self.t_s[0] - self.max_hold_s and t1 <= self.t_s[-1] + self.max_hold_s

    def at(self, t: float) -> float:
        """Energy in J from the first sample to t (held constant beyond the samples)."""
        ts, ps = self.t_s, self.power_w
        if t <= ts[0]:
            return -(ts[0] - t) * ps[0]
        if t >= ts[-1]:
            return self._cum[-1] + (t - ts[-1]) * ps[-1]
        i = bisect_right(ts, t) - 1
        dt = t - ts[i]
        span = ts[i + 1] - ts[i]
        p_t = ps[i] + (ps[i + 1] - ps[i]) * dt / span if span > 0 else ps[i]
        return self._cum[i] + (ps[i] + p_t) / 2 * dt

    def between(self, t0: float, t1: float) -> float:
        return self.at(t1) - self.at(t0)


def _counter_curve(timeline: Timeline, placement: Placement) -> tuple[list[float], list[float]]:
    """Cumulative counter energy (J) at each read, placed where its value was true; resets bridged."""
    t_s, mj = timeline.counter_t_s, timeline.counter_mj
    times = [placement.place(t_s[0])]
    energy = [0.0]
    rate_w = 0.0
    steps = {s.t_b_s: s for s in counter_steps(t_s, mj, timeline.wrap_mj)}
    for i in range(1, len(t_s)):
        dt = t_s[i] - t_s[i - 1]
        step = steps.get(t_s[i])
        if step is not None:
            delta = step.energy_j
            rate_w = delta / dt if dt > 0 else rate_w
        else:
            delta = rate_w * dt  # across a reset: the previous rate
        times.append(placement.place(t_s[i]))
        energy.append(energy[-1] + delta)
    # Two reads of the same tick share a place: keep the curve's times strictly increasing.
    kept_t, kept_e = [times[0]], [energy[0]]
    for t, e in zip(times[1:], energy[1:], strict=True):
        if t > kept_t[-1]:
            kept_t.append(t)
            kept_e.append(e)
        else:
            kept_e[-1] = e
    return kept_t, kept_e


def _moved(power_w: Sequence[float]) -> bool:
    """Whether power changed enough for the counter's steps to be lined up with it."""
    if len(power_w) < 2:
        return False
    low, high = min(power_w), max(power_w)
    return high - low > max(5.0, 0.05 * abs(high))


def _grid(low: float, high: float, step: float) -> list[float]:
    return [low + i * step for i in range(round((high - low) / step) + 1)]


def _best(candidates: Sequence[float], residual: Callable[[float], float | None]) -> float | None:
    """The candidate with the smallest residual, refined around it; None where none could be scored."""
    coarse = 10 * STALENESS_STEP_S
    scored = [(r, d) for d in candidates if (r := residual(d)) is not None]
    if not scored:
        return None
    _, best = min(scored)
    fine = [
        (r, d)
        for d in _grid(max(best - coarse, 0.0), best + coarse, STALENESS_STEP_S)
        if (r := residual(d)) is not None
    ]
    return min(fine)[1] if fine else best


Misfit = Callable[[Callable[[float], float]], float | None]


def fit_staleness(timeline: Timeline, power: PowerIntegral | None) -> Placement | None:
    """When each read's counter value was true, fitted from the trace; None where the power never
    moved enough to say (any placement then gives the same answers).

    With instant power: the placement for which each counter step matches k x the power integral
    between its two reads' places: a constant shift d, or the tick grid (phase and reporting latency,
    the tick period taken as `timeline.tick_s`) where that fits clearly better (reads near a tick's
    report see it or not: their staleness jumps by a tick, which no constant shift follows). With
    only the 1 s-averaged power: the shift for which the counter, interpolated between reads moved d
    earlier, predicts the averaged readings (E(t) - E(t - 1 s))."""
    if power is None or not _moved(timeline.power_w) or len(timeline.counter_t_s) < 3:
        return None
    steps = counter_steps(timeline.counter_t_s, timeline.counter_mj, timeline.wrap_mj)
    coarse = _grid(0.0, STALENESS_MAX_S, 10 * STALENESS_STEP_S)
    t_s, w = timeline.power_t_s, timeline.power_w
    threshold_w = max(5.0, 0.05 * max(w))

    def moving(t0: float, t1: float) -> bool:
        """Whether power moved within [t0, t1]: only there does the shift change the fit."""
        i, j = bisect_left(t_s, t0), bisect_right(t_s, t1)
        return j - i >= 2 and max(w[i:j]) - min(w[i:j]) > threshold_w

    if not timeline.power_averaged:
        usable = [
            s
            for s in steps
            if s.t_a_s - STALENESS_MAX_S >= t_s[0] and s.t_b_s <= t_s[-1] and moving(s.t_a_s - STALENESS_MAX_S, s.t_b_s)
        ]
        if len(usable) < 3:
            return None

        usable = usable[:: max(1, len(usable) // 120)]  # bounded work on a long, busy recording

        def misfit(place: Callable[[float], float]) -> float | None:
            pairs = [(s.energy_j, power.between(place(s.t_a_s), place(s.t_b_s))) for s in usable]
            power_j = sum(p for _, p in pairs)
            if power_j <= 0:
                return None
            k = sum(c for c, _ in pairs) / power_j
            return sum((c - k * p) ** 2 for c, p in pairs)

        def residual(d: float) -> float | None:
            return misfit(lambda t: t - d)

        shift = _best(coarse, residual)
        if shift is None:
            return None
        shifted = residual(shift)
        grid = _fit_grid(misfit, timeline.tick_s, [t for step in usable for t in (step.t_a_s, step.t_b_s)])
        if grid is not None and shifted is not None and grid[0] < GRID_BETTER * shifted:
            placed = replace(grid[1], assigned=_assign_near_reports(timeline, power, grid[1]))
            mean = sum(t - placed.place(t) for t in timeline.counter_t_s) / len(timeline.counter_t_s)
            return replace(placed, staleness_s=mean)  # the reads' own mean staleness, to report
        return Placement(shift)

    reads = timeline.counter_t_s
    chosen = [
        (t_s[j], w[j])
        for j in range(len(t_s))
        if t_s[j] - AVERAGE_S - STALENESS_MAX_S >= reads[0]
        and t_s[j] <= reads[-1] - STALENESS_MAX_S
        and moving(t_s[j] - AVERAGE_S - STALENESS_MAX_S, t_s[j])
    ]
    chosen = chosen[:: max(1, len(chosen) // 1000)]  # enough averaged readings to line up, bounded work
    if len(chosen) < 10:
        return None

    def residual_averaged(d: float) -> float | None:
        times, energy = _counter_curve(timeline, Placement(d))
        pairs = [
            ((interpolate(times, energy, t) - interpolate(times, energy, t - AVERAGE_S)) / AVERAGE_S, watts)
            for t, watts in chosen
        ]
        sensed = sum(p for _, p in pairs)
        if sensed <= 0:
            return None
        k = sum(c for c, _ in pairs) / sensed
        return sum((c - k * p) ** 2 for c, p in pairs)

    shift = _best(coarse, residual_averaged)
    return None if shift is None else Placement(shift)


JITTER_S = 0.004  # reads this close to a tick's report may have seen it or not


def _assign_near_reports(timeline: Timeline, power: PowerIntegral, grid: Placement) -> dict[float, float]:
    """For each read within JITTER_S of the grid's report time, the tick (this one or the one before)
    that makes its two counter steps match k x the power between the places: a read that sees a
    tick or not at random is then placed where its value was true, not a whole tick off."""
    assert grid.grid_phase_s is not None
    t_s, tick = timeline.counter_t_s, grid.tick_s
    steps = {s.t_b_s: s.energy_j for s in counter_steps(t_s, timeline.counter_mj, timeline.wrap_mj)}
    places = [grid.place(t) for t in t_s]
    counter_j = sum(steps.values())
    power_j = power.between(places[0], places[-1]) if places[-1] > places[0] else 0.0
    if counter_j <= 0 or power_j <= 0:
        return {}
    k = counter_j / power_j
    assigned: dict[float, float] = {}
    lo, hi = power.t_s[0], power.t_s[-1]  # steps beyond the power samples cannot be checked
    for i in range(len(t_s)):
        after_report = (t_s[i] - grid.grid_phase_s) % tick
        if JITTER_S <= after_report <= tick - JITTER_S:
            continue
        # Its steps to the reads before and after (the first and last read have one): energy and span.
        sides = []
        if i > 0 and t_s[i] in steps:
            sides.append((steps[t_s[i]], places[i - 1], True))
        if i + 1 < len(t_s) and t_s[i + 1] in steps:
            sides.append((steps[t_s[i + 1]], places[i + 1], False))
        # Just after the grid's report time the read may not have seen the tick yet; just before,
        # it may have seen it already.
        other = places[i] - tick if after_report < JITTER_S else places[i] + tick
        low, high = min(places[i], other), max(places[i], other)
        # Each place must keep the reads in order; only steps within the power samples can be checked.
        options = [x for x in (places[i], other) if all((y <= x if before else x <= y) for _, y, before in sides)]
        sides = [(e, y, before) for e, y, before in sides if lo <= min(y, low) and max(y, high) <= hi]
        if not sides or len(options) < 2:
            continue

        def misfit(x: float, sides: list[tuple[float, float, bool]] = sides) -> float:
            return sum(
                (energy_j - k * (power.between(y, x) if before else power.between(x, y))) ** 2
                for energy_j, y, before in sides
            )

        best = min(options, key=misfit)
        if best != places[i]:
            places[i] = best
            assigned[t_s[i]] = best
    return assigned


def _fit_grid(misfit: Misfit, tick_s: float, reads_s: Sequence[float]) -> tuple[float, Placement] | None:
    """The tick grid (phase, latency) with the smallest misfit. The misfit changes with the phase only
    where it crosses a read's phase (mod the tick), so the phases tried are the gaps between reads'."""
    read_phases = sorted({round((t % tick_s) / 0.0005) * 0.0005 for t in reads_s})
    if not read_phases:
        return None
    gaps = [(a + b) / 2 for a, b in pairwise(read_phases)]
    gaps.append((read_phases[-1] + read_phases[0] + tick_s) / 2 % tick_s)  # the gap across the tick's end
    best: tuple[float, Placement] | None = None
    for phase in gaps:
        for latencies in (_grid(0.0, STALENESS_MAX_S - tick_s, 0.02),):
            scored = [
                (r, lat) for lat in latencies if (r := misfit(Placement(0.0, phase, tick_s, lat).place)) is not None
            ]
            if not scored:
                continue
            _, latency = min(scored)
            fine = _grid(max(latency - 0.02, 0.0), latency + 0.02, STALENESS_STEP_S)
            scored = [(r, lat) for lat in fine if (r := misfit(Placement(0.0, phase, tick_s, lat).place)) is not None]
            r, latency = min(scored)
            if best is None or r < best[0]:
                best = (r, Placement(latency + tick_s / 2, phase, tick_s, latency))
    return best


class TimelineIndex:
    """One GPU's timeline prepared once for any number of windows: its power integral, counter steps
    and their running sums, so each window costs O(log n) instead of O(n). A run with one phase per
    batch has thousands of windows; built per window, these took ~3 ms each per GPU."""

    def __init__(self, timeline: Timeline) -> None:
        self.timeline = timeline
        self.power = PowerIntegral(timeline.power_t_s, timeline.power_w) if len(timeline.power_t_s) >= 2 else None
        self.steps = counter_steps(timeline.counter_t_s, timeline.counter_mj, timeline.wrap_mj)
        if timeline.staleness_s is not None:
            fitted: Placement | None = Placement(timeline.staleness_s)
        else:
            fitted = fit_staleness(timeline, self.power)
        self.staleness_fitted = timeline.staleness_s is None and fitted is not None
        self.placement = fitted if fitted is not None else Placement(timeline.tick_s / 2)
        self.staleness_s = self.placement.staleness_s
        place = self.placement.place
        # Calibration steps: counter steps placed `staleness` early that lie within the power
        # samples; sorted by time, with running sums of both energies.
        self._a: list[float] = []
        self._b: list[float] = []
        self._counter_cum = [0.0]
        self._power_cum = [0.0]
        power = self.power
        if power is not None:
            for step in self.steps:
                a, b = place(step.t_a_s), place(step.t_b_s)
                if a < power.t_s[0] or b > power.t_s[-1]:
                    continue
                self._a.append(a)
                self._b.append(b)
                self._counter_cum.append(self._counter_cum[-1] + step.energy_j)
                self._power_cum.append(self._power_cum[-1] + power.between(a, b))
        self._curve: tuple[list[float], list[float]] | None = None

    def calibration(self, t0_s: float, t1_s: float, span_s: float = CALIBRATION_SPAN_S) -> float | None:
        """k = counter energy / power integral over the steps within the span around the window."""
        middle = (t0_s + t1_s) / 2
        half = max(span_s, t1_s - t0_s) / 2
        first = bisect_left(self._b, middle - half)  # steps ending at or after the span's start
        last = bisect_right(self._a, middle + half)  # steps starting at or before its end
        if last <= first:
            return None
        counter_j = self._counter_cum[last] - self._counter_cum[first]
        power_j = self._power_cum[last] - self._power_cum[first]
        if power_j <= 0 or counter_j <= 0:
            return None
        k = counter_j / power_j
        low, high = CALIBRATION_BOUNDS
        return k if low <= k <= high else None

    def _power_disagrees(self, t0_s: float, t1_s: float, span_s: float) -> bool:
        """Whether the calibration was refused for a k out of bounds (not for want of counter steps)."""
        middle, half = (t0_s + t1_s) / 2, max(span_s, t1_s - t0_s) / 2
        first, last = bisect_left(self._b, middle - half), bisect_right(self._a, middle + half)
        if last <= first:
            return False
        counter_j = self._counter_cum[last] - self._counter_cum[first]
        power_j = self._power_cum[last] - self._power_cum[first]
        return counter_j > 0 and power_j > 0

    def window(
        self, t0_s: float, t1_s: float, *, calibration_span_s: float = CALIBRATION_SPAN_S, what: str = "the GPU"
    ) -> WindowEnergy:
        """Energy in [t0_s, t1_s] (see the module docstring). Raises NoEnergyDataError, never returns 0 for nothing."""
        if not (math.isfinite(t0_s) and math.isfinite(t1_s)) or t1_s < t0_s:
            raise ValueError(f"bad window [{t0_s}, {t1_s}]")
        timeline = self.timeline
        duration_s = t1_s - t0_s
        power = self.power if self.power is not None and self.power.covers(t0_s, t1_s) else None
        steps = self.steps
        disagree = False
        if power is not None and steps and not timeline.power_averaged:
            k = self.calibration(t0_s, t1_s, calibration_span_s)
            if k is not None:
                return WindowEnergy(k * power.between(t0_s, t1_s), duration_s, METHOD_COMBINED, k, self.staleness_s)
            disagree = self._power_disagrees(t0_s, t1_s, calibration_span_s)
        if steps:  # no power samples, or they disagree with the counter: the counter alone
            if self._curve is None:
                self._curve = _counter_curve(timeline, self.placement)
            times, energy = self._curve
            if times[0] - timeline.tick_s <= t0_s and t1_s <= times[-1] + timeline.tick_s:
                if timeline.power_averaged:
                    method = METHOD_COUNTER_AVERAGED
                else:
                    method = METHOD_COUNTER_DISAGREE if disagree else METHOD_COUNTER
                return WindowEnergy(
                    interpolate(times, energy, t1_s) - interpolate(times, energy, t0_s),
                    duration_s,
                    method,
                    staleness_s=self.staleness_s,
                )
        if power is not None:
            unread = len(timeline.counter_t_s) > 0  # a counter exists but was not read across the window
            if timeline.power_averaged:
                method = METHOD_POWER_AVERAGED_UNREAD if unread else METHOD_POWER_AVERAGED
            else:
                method = METHOD_POWER_UNREAD if unread else METHOD_POWER
            return WindowEnergy(power.between(t0_s, t1_s), duration_s, method)
        raise NoEnergyDataError(
            f"no energy reading of {what} covers the window [{t0_s:.3f} s, {t1_s:.3f} s] "
            f"({len(timeline.counter_t_s)} counter reads, {len(timeline.power_t_s)} power samples)",
            hint="the sampler recorded nothing usable there: see the sampler errors above, "
            "or check `nvidia-smi -q -d POWER`",
        )


def window_energy(
    timeline: Timeline,
    t0_s: float,
    t1_s: float,
    *,
    calibration_span_s: float = CALIBRATION_SPAN_S,
    what: str = "the GPU",
) -> WindowEnergy:
    """Energy in [t0_s, t1_s] of one window (see the module docstring; TimelineIndex for many)."""
    if not (math.isfinite(t0_s) and math.isfinite(t1_s)) or t1_s < t0_s:
        raise ValueError(f"bad window [{t0_s}, {t1_s}]")
    return TimelineIndex(timeline).window(t0_s, t1_s, calibration_span_s=calibration_span_s, what=what)


def idle_power_w(timeline: Timeline, t0_s: float, t1_s: float) -> float:
    """Mean power over an idle stretch (raises NoEnergyDataError like window_energy)."""
    return window_energy(timeline, t0_s, t1_s).mean_power_w
