"""Which time windows of a run are measured: the phases a benchmark marked (see gate.phase), or the whole run.

Pure: text in, windows out. Overlapping or nested phases (several processes, a phase inside another)
are merged, so no second of the run is counted twice.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import NamedTuple

from gate.errors import BenchmarkError
from gate.phase import FORMAT, PHASES_ENV

PHASE_HELP = "wrap the measured loop in `with phase(name, items=n):` (docs/measurement.md, 'Phases')"


@dataclass(frozen=True)
class PhaseWindow:
    name: str
    t0_s: float
    t1_s: float
    items: int | None = None
    pid: int | None = None
    # The marking process's CPU seconds at the start and end marks (gate.phase writes them); None
    # for marks without them.
    cpu0_s: float | None = None
    cpu1_s: float | None = None

    @property
    def cpu_s(self) -> float | None:
        if self.cpu0_s is None or self.cpu1_s is None:
            return None
        return max(self.cpu1_s - self.cpu0_s, 0.0)


@dataclass(frozen=True)
class PhaseShare:
    """One measured phase on its own (prefill apart from decode): its merged windows and its items."""

    name: str
    windows: tuple[tuple[float, float], ...]
    items: int | None  # None unless every window of this phase gave a count
    cpu_s: float | None = None  # CPU seconds its processes spent inside it; None where a mark lacks them

    @property
    def duration_s(self) -> float:
        return sum(t1 - t0 for t0, t1 in self.windows)


@dataclass(frozen=True)
class Attribution:
    """The windows energy is measured over, and what decided them."""

    windows: tuple[tuple[float, float], ...]
    items: int | None  # the phases' item count, when every measured phase gave one
    phases: tuple[str, ...]  # names of the measured phases; () means the whole run
    outside_s: float = 0.0  # marked time that fell outside the run and is not measured
    by_phase: tuple[PhaseShare, ...] = ()  # each measured phase apart, in order of first start
    # CPU seconds the marking processes spent inside the measured phases (nested phases counted
    # once); None: the whole run is measured, or a mark lacks its CPU time.
    cpu_s: float | None = None

    @property
    def duration_s(self) -> float:
        return sum(t1 - t0 for t0, t1 in self.windows)

    def describe(self) -> str:
        if not self.phases:
            return "the whole run (the benchmark marked no phase)"
        count = len(self.windows)
        where = f"phase {', '.join(repr(p) for p in self.phases)} ({count} window{'s' if count > 1 else ''})"
        if self.outside_s > 0:
            # e.g. a process the benchmark left running, or marks on another clock (a VM, another kernel)
            where += f"; {self.outside_s:.3g} s of the marked phases lay outside the run and are not measured"
        return where


MAX_CLOCK_SKEW_S = 2.0  # wall - monotonic may drift by NTP slewing; another kernel's differs by far more


def parse_phases(text: str, clock_offset_s: float | None = None) -> tuple[PhaseWindow, ...]:
    """The completed phases in a GREEN_GATE_PHASES file. Raises BenchmarkError naming the line.

    `clock_offset_s`: the gate's own wall - monotonic time; a mark whose `wall` - `t` differs from it
    by more than MAX_CLOCK_SKEW_S was stamped on another monotonic clock and cannot be placed."""
    open_marks: dict[tuple[int | None, str], list[tuple[float, int, float | None]]] = {}
    windows: list[PhaseWindow] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        mark = _mark(raw, number)
        if (
            clock_offset_s is not None
            and mark.wall is not None
            and abs(mark.wall - mark.t - clock_offset_s) > MAX_CLOCK_SKEW_S
        ):
            raise BenchmarkError(
                f"${PHASES_ENV} line {number}: phase {mark.phase!r} was stamped on another monotonic clock than "
                f"the gate's (offset {mark.wall - mark.t - clock_offset_s:+.3g} s): the benchmark runs on another "
                "kernel (a VM, a sandboxed container), so its phases cannot be lined up with the GPU readings",
                hint="run the benchmark where the gate runs, or measure the whole run (no phases)",
            )
        key = (mark.pid, mark.phase)
        if mark.event == "start":
            open_marks.setdefault(key, []).append((mark.t, number, mark.cpu_s))
            continue
        stack = open_marks.get(key)
        if not stack:
            raise BenchmarkError(
                f"${PHASES_ENV} line {number}: phase {mark.phase!r} ends without having started",
                hint=PHASE_HELP,
            )
        t0, _, cpu0_s = stack.pop()
        items = mark.items
        if items is not None and (isinstance(items, bool) or not isinstance(items, int) or items <= 0):
            raise BenchmarkError(
                f"${PHASES_ENV} line {number}: phase {mark.phase!r} has items={items!r}",
                hint="items is the number of predictions the phase made: a positive whole number",
            )
        if mark.t < t0:
            raise BenchmarkError(f"${PHASES_ENV} line {number}: phase {mark.phase!r} ends before it starts")
        windows.append(PhaseWindow(mark.phase, t0, mark.t, items, mark.pid, cpu0_s, mark.cpu_s))
    for (_, name), stack in open_marks.items():
        if stack:
            raise BenchmarkError(
                f"${PHASES_ENV} line {stack[0][1]}: phase {name!r} started but never ended",
                hint="the benchmark stopped inside the phase; use `with phase(...)` so the end is always written",
            )
    return tuple(sorted(windows, key=lambda w: (w.t0_s, w.t1_s)))


class _Mark(NamedTuple):
    event: str
    phase: str
    t: float
    pid: int | None
    items: object
    wall: float | None = None  # time.time() beside t (marks written by older helpers have none)
    cpu_s: float | None = None  # the marking process's CPU seconds (older helpers write none)


def _mark(raw: str, number: int) -> _Mark:
    where = f"${PHASES_ENV} line {number}"
    try:
        mark = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise BenchmarkError(f"{where} is not JSON: {exc.msg}", hint=PHASE_HELP) from None
    if not isinstance(mark, dict) or mark.get("v") != FORMAT:
        raise BenchmarkError(
            f"{where}: not a phase mark of format {FORMAT}",
            hint="write phases only through green-gate's phase() helper, of the same version as the gate",
        )
    t = mark.get("t")
    if (
        mark.get("event") not in ("start", "end")
        or not isinstance(mark.get("phase"), str)
        or isinstance(t, bool)
        or not isinstance(t, (int, float))
        or not math.isfinite(t)
    ):
        raise BenchmarkError(f"{where}: a phase mark needs event start|end, a phase name and a time", hint=PHASE_HELP)
    pid = mark.get("pid")
    return _Mark(
        mark["event"],
        mark["phase"],
        float(t),
        pid if isinstance(pid, int) else None,
        mark.get("items"),
        _finite_or_none(mark.get("wall")),
        _finite_or_none(mark.get("cpu_s")),
    )


def _finite_or_none(value: object) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def attribute(
    phases: tuple[PhaseWindow, ...], run_t0_s: float, run_t1_s: float, selected: tuple[str, ...] | None = None
) -> Attribution:
    """The measured windows: the selected phases (default: every phase), clipped to the run and merged."""
    if not phases:
        if selected:
            raise BenchmarkError(
                f"the budget measures phase(s) {', '.join(selected)} but the benchmark marked no phase",
                hint=PHASE_HELP,
            )
        return Attribution(((run_t0_s, run_t1_s),), None, ())
    chosen = [p for p in phases if selected is None or p.name in selected]
    if not chosen:
        marked = sorted({p.name for p in phases})
        raise BenchmarkError(
            f"the budget measures phase(s) {', '.join(selected or ())} "
            f"but the benchmark marked only {', '.join(marked)}",
            hint="rename the phase in the benchmark or in `energy.phases` of the budget file",
        )
    merged = _merged(chosen, run_t0_s, run_t1_s)
    if not merged:
        raise BenchmarkError("the marked phases lie outside the measured run", hint=PHASE_HELP)
    names = tuple(dict.fromkeys(p.name for p in chosen))
    by_phase = []
    for name in names:
        of_name = [p for p in chosen if p.name == name]
        windows = _merged(of_name, run_t0_s, run_t1_s)
        if windows:  # a phase wholly outside the run has nothing to report
            by_phase.append(PhaseShare(name, windows, _items(of_name, run_t0_s, run_t1_s), _cpu_s(of_name)))
    outside_s = sum(max(run_t0_s - p.t0_s, 0.0) + max(p.t1_s - run_t1_s, 0.0) for p in chosen)
    return Attribution(
        merged,
        _items(chosen, run_t0_s, run_t1_s),
        names,
        outside_s if outside_s > 1e-3 else 0.0,
        tuple(by_phase),
        _cpu_s(chosen),
    )


def _merged(phases: list[PhaseWindow], run_t0_s: float, run_t1_s: float) -> tuple[tuple[float, float], ...]:
    """The phases' windows clipped to the run, overlapping ones merged: no second counted twice."""
    clipped = sorted(
        (max(p.t0_s, run_t0_s), min(p.t1_s, run_t1_s)) for p in phases if p.t1_s > run_t0_s and p.t0_s < run_t1_s
    )
    merged: list[tuple[float, float]] = []
    for t0, t1 in clipped:
        if merged and t0 <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], t1))
        else:
            merged.append((t0, t1))
    return tuple(merged)


def _cpu_s(phases: list[PhaseWindow]) -> float | None:
    """CPU seconds inside `phases`: per process, its overlapping (nested) windows merged and counted
    once from the CPU time at the first start to that at the last end; the processes added up."""
    if not phases or any(p.cpu_s is None for p in phases):
        return None
    total = 0.0
    for pid in {p.pid for p in phases}:
        spans: list[list[float]] = []  # [t0, t1, cpu0, cpu1] of merged windows, in time order
        for p in sorted((p for p in phases if p.pid == pid), key=lambda p: p.t0_s):
            assert p.cpu0_s is not None and p.cpu1_s is not None
            if spans and p.t0_s <= spans[-1][1]:
                last = spans[-1]
                last[1], last[3] = max(last[1], p.t1_s), max(last[3], p.cpu1_s)
            else:
                spans.append([p.t0_s, p.t1_s, p.cpu0_s, p.cpu1_s])
        total += sum(max(cpu1 - cpu0, 0.0) for _, _, cpu0, cpu1 in spans)
    return total


def _items(phases: list[PhaseWindow], run_t0_s: float, run_t1_s: float) -> int | None:
    """Their item count, only when every one gave it (a partial sum would understate J per item); a
    phase clipped at the run's edges counts the share of its items its measured part holds (its
    energy is only that part's)."""
    if not all(p.items is not None for p in phases):
        return None
    total = 0.0
    for p in phases:
        inside_s = max(min(p.t1_s, run_t1_s) - max(p.t0_s, run_t0_s), 0.0)
        span_s = p.t1_s - p.t0_s
        total += (p.items or 0) * (inside_s / span_s if span_s > 0 else 1.0)
    return round(total)
