"""The runner's condition around one measured repeat, as plain frozen data. Pure: no I/O here.

A busier runner makes the same code cost more: its threads wait for a CPU, spin while they wait,
share caches and an SMT sibling with strangers, run at another clock. The gate reads the machine
just before and just after each repeat (gate.bench.conditions) and keeps what it saw here, so that
two runs are compared only when they ran under like conditions (gate.compare.conditions).
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields

from gate.devices.pressure import StallTotals
from gate.devices.procstat import CpuTimes

# Environment variables that fix a thread pool's size; set to 1, its threads cannot spin-wait.
THREAD_POOL_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
# A repeat's threads are suspected of spin-waiting when several run while other tasks waited for a
# CPU at least this share of the window (the CPU pressure `some`), and the pools are not pinned to 1.
SPIN_PRESSURE_PCT = 20.0


@dataclass(frozen=True)
class Snapshot:
    """The machine's counters at one instant, read by gate.bench.conditions."""

    at_s: float  # a monotonic clock, seconds
    cpu: CpuTimes | None
    stall: StallTotals | None  # /proc/pressure/cpu
    cgroup_stall: StallTotals | None  # the benchmark's cgroup's cpu.pressure


@dataclass(frozen=True)
class ProbeTiming:
    """One run of the speed probe: a fixed amount of C work (hashing), timed in CPU and wall seconds."""

    work_mb: float
    cpu_s: float
    wall_s: float

    @property
    def speed_mb_per_cpu_s(self) -> float | None:
        return self.work_mb / self.cpu_s if self.cpu_s > 0 else None


# NVML's clock-event reasons (nvmlClocksEventReason*, formerly *ThrottleReason*): bit -> how the report
# names it. The bits are NVML's documented constants.
CLOCK_EVENT_REASONS: dict[int, str] = {
    0x1: "idle",
    0x2: "applications clocks",
    0x4: "power-capped",
    0x8: "hardware slowdown",
    0x10: "sync boost",
    0x20: "thermal slowdown",
    0x40: "hardware thermal slowdown",
    0x80: "power brake",
    0x100: "display clock",
}
# The reasons that lower the clocks below what the work would get on a healthy, uncapped board.
SLOWDOWN_REASONS = frozenset(
    {"power-capped", "hardware slowdown", "thermal slowdown", "hardware thermal slowdown", "power brake"}
)
# The per-repeat series (RunSummary.per_repeat, MLflow `repeat.gpu_disturbed`) flagging, 1.0 or 0.0,
# the repeats that disturbances() named: the verdict leaves them out on both sides alike.
DISTURBED = "gpu_disturbed"
# A repeat is disturbed when a slowdown held this share of its samples (and the run's typical repeat
# did not), or another process used its GPU.
SLOWDOWN_SHARE = 0.10


def clock_event_names(mask: int) -> frozenset[str]:
    """The reasons set in an NVML clock-event bitmask, by name (unknown bits as hex)."""
    names = {name for bit, name in CLOCK_EVENT_REASONS.items() if mask & bit}
    rest = mask & ~sum(CLOCK_EVENT_REASONS)
    if rest:
        names.add(f"reason {rest:#x}")
    return frozenset(names)


@dataclass(frozen=True)
class GpuSample:
    """One GPU at one instant during a repeat (gate.devices.nvml.ConditionSampler)."""

    uuid: str
    sm_clock_mhz: float | None
    memory_clock_mhz: float | None
    reasons: frozenset[str]
    temperature_c: float | None
    power_limit_w: float | None
    pids: frozenset[int]  # processes on the GPU


@dataclass(frozen=True)
class GpuConditions:
    """One GPU over one repeat: its clocks, why they were lowered, its temperature, who else used it."""

    uuid: str
    samples: int
    sm_clock_mhz_min: float | None
    sm_clock_mhz_median: float | None
    memory_clock_mhz_median: float | None
    temperature_c_max: float | None
    power_limit_w: float | None
    reason_shares: dict[str, float]  # clock-event reason -> share of the samples it was set in (0-1)
    tenants: tuple[int, ...]  # processes seen on the GPU that were not the benchmark's


def gpu_conditions(samples: Sequence[GpuSample], benchmark_pids: frozenset[int]) -> tuple[GpuConditions, ...]:
    """Each GPU's conditions over a repeat from its samples; `benchmark_pids`: the benchmark's process
    tree as seen during the window (and the gate's own), which are not tenants."""
    out = []
    for uuid in dict.fromkeys(s.uuid for s in samples):
        mine = [s for s in samples if s.uuid == uuid]
        sm = [s.sm_clock_mhz for s in mine if s.sm_clock_mhz is not None]
        mem = [s.memory_clock_mhz for s in mine if s.memory_clock_mhz is not None]
        temps = [s.temperature_c for s in mine if s.temperature_c is not None]
        limits = [s.power_limit_w for s in mine if s.power_limit_w is not None]
        reasons = sorted({r for s in mine for r in s.reasons})
        seen = frozenset().union(*(s.pids for s in mine))
        out.append(
            GpuConditions(
                uuid=uuid,
                samples=len(mine),
                sm_clock_mhz_min=min(sm) if sm else None,
                sm_clock_mhz_median=statistics.median(sm) if sm else None,
                memory_clock_mhz_median=statistics.median(mem) if mem else None,
                temperature_c_max=max(temps) if temps else None,
                power_limit_w=min(limits) if limits else None,
                reason_shares={r: sum(r in s.reasons for s in mine) / len(mine) for r in reasons},
                tenants=tuple(sorted(seen - benchmark_pids)),
            )
        )
    return tuple(out)


def disturbances(repeats: Sequence[Sequence[GpuConditions]]) -> tuple[str | None, ...]:
    """Per repeat, what disturbed its GPUs ("power-capped 41% of the time", "another process (pid 4242)
    on GPU-1234"), or None. A slowdown counts when it held SLOWDOWN_SHARE of the repeat's samples
    while it did not in the run's typical repeat: a board that is power-capped throughout every repeat
    is its steady state, and alike in every run on it."""
    typical: dict[str, float] = {}
    for reason in SLOWDOWN_REASONS:
        shares = [max((g.reason_shares.get(reason, 0.0) for g in gpus), default=0.0) for gpus in repeats]
        typical[reason] = statistics.median(shares) if shares else 0.0
    out: list[str | None] = []
    for gpus in repeats:
        found: list[str] = []
        for reason in sorted(SLOWDOWN_REASONS):
            share = max((g.reason_shares.get(reason, 0.0) for g in gpus), default=0.0)
            if share >= SLOWDOWN_SHARE and typical[reason] < SLOWDOWN_SHARE:
                found.append(f"{reason} {share * 100:.0f}% of the time")
        for g in gpus:
            if g.tenants:
                pids = ", ".join(str(p) for p in g.tenants[:3]) + (" …" if len(g.tenants) > 3 else "")
                found.append(f"another process (pid {pids}) on {g.uuid}")
        out.append("; ".join(found) if found else None)
    return tuple(out)


@dataclass(frozen=True)
class RepeatConditions:
    """What the runner was like during one measured repeat. A figure is None where it could not be read."""

    window_s: float  # between the snapshot before the repeat and the one after it
    cpu_pressure_some_pct: float | None  # share of the window some runnable task waited for a CPU
    cpu_pressure_full_pct: float | None  # share of it every runnable task waited
    cgroup_cpu_pressure_some_pct: float | None  # the same within the benchmark's own cgroup
    steal_pct: float | None  # CPU time the hypervisor gave to other guests, of all CPU time
    others_busy_pct: float | None  # of the machine's busy CPU time, what was not the benchmark's
    cpu_per_wall: float | None  # the benchmark's CPU seconds per wall second (busy threads on average)
    load_avg_1m: float | None  # at the end of the repeat
    speed_index: float | None  # the probes' MB hashed per CPU second, mean of before and after
    speed_before: float | None
    speed_after: float | None
    probe_cpu_share: float | None  # probes' CPU s / wall s: below 1, the probe itself waited for a CPU
    threads_max: int | None  # most threads the benchmark's process tree had at once
    cpus: int | None  # logical CPUs of the machine
    threads_pinned: bool = False  # the budget's env pins a thread pool (OMP_NUM_THREADS…) to 1
    spin_wait_suspected: bool = False
    gpus: tuple[GpuConditions, ...] = ()  # each of the benchmark's GPUs, sampled during the window

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "gpus"}
        out["gpus"] = [asdict(g) for g in self.gpus]
        return out


# The figures two runs' conditions are compared on and summarised by, as medians over the repeats.
NUMERIC_FIGURES = (
    "cpu_pressure_some_pct",
    "cpu_pressure_full_pct",
    "cgroup_cpu_pressure_some_pct",
    "steal_pct",
    "others_busy_pct",
    "cpu_per_wall",
    "load_avg_1m",
    "speed_index",
    "probe_cpu_share",
    "threads_max",
)


def stall_pct(
    before: StallTotals | None, after: StallTotals | None, window_s: float, *, full: bool = False
) -> float | None:
    """The share of the window (percent, 0-100) the stall counter grew by."""
    if before is None or after is None or window_s <= 0:
        return None
    start, end = (before.full_us, after.full_us) if full else (before.some_us, after.some_us)
    if start is None or end is None or end < start:
        return None
    return min(100.0, (end - start) / 1e6 / window_s * 100.0)


def pinned(env: Mapping[str, str]) -> bool:
    """Whether the benchmark's env pins a thread pool to one thread (it then cannot spin-wait)."""
    return any(env.get(name, "").strip() == "1" for name in THREAD_POOL_VARIABLES)


def spin_wait_suspected(threads_max: int | None, pressure_some_pct: float | None, threads_pinned: bool) -> bool:
    """Several threads ran while others' tasks waited for a CPU: threads that spin while they wait for
    each other (OpenBLAS, OpenMP, a framework's pool) then burn CPU seconds the code did not need."""
    if threads_pinned or threads_max is None or pressure_some_pct is None:
        return False
    return threads_max >= 2 and pressure_some_pct >= SPIN_PRESSURE_PCT


def from_window(
    before: Snapshot,
    after: Snapshot,
    *,
    benchmark_cpu_s: float | None,
    benchmark_wall_s: float | None,
    probes: Sequence[ProbeTiming],
    load_avg_1m: float | None,
    threads_max: int | None,
    cpus: int | None,
    threads_pinned: bool = False,
    gpus: tuple[GpuConditions, ...] = (),
) -> RepeatConditions:
    """The conditions of one repeat from the snapshots around it, the probes run just outside it
    (`probes`: before, after) and the benchmark's own CPU and wall time."""
    window_s = max(0.0, after.at_s - before.at_s)
    steal = others = None
    if before.cpu is not None and after.cpu is not None:
        total = after.cpu.total_s - before.cpu.total_s
        busy = after.cpu.busy_s - before.cpu.busy_s
        if total > 0:
            steal = max(0.0, (after.cpu.steal_s - before.cpu.steal_s) / total * 100.0)
        if busy > 0 and benchmark_cpu_s is not None:
            others = min(100.0, max(0.0, (busy - benchmark_cpu_s) / busy * 100.0))
    speeds = [p.speed_mb_per_cpu_s for p in probes]
    known = [s for s in speeds if s is not None]
    probe_cpu = sum(p.cpu_s for p in probes)
    probe_wall = sum(p.wall_s for p in probes)
    some = stall_pct(before.stall, after.stall, window_s)
    return RepeatConditions(
        window_s=window_s,
        cpu_pressure_some_pct=some,
        cpu_pressure_full_pct=stall_pct(before.stall, after.stall, window_s, full=True),
        cgroup_cpu_pressure_some_pct=stall_pct(before.cgroup_stall, after.cgroup_stall, window_s),
        steal_pct=steal,
        others_busy_pct=others,
        cpu_per_wall=(benchmark_cpu_s / benchmark_wall_s) if benchmark_cpu_s is not None and benchmark_wall_s else None,
        load_avg_1m=load_avg_1m,
        speed_index=statistics.fmean(known) if known else None,
        speed_before=speeds[0] if speeds else None,
        speed_after=speeds[-1] if len(speeds) > 1 else None,
        probe_cpu_share=min(1.0, probe_cpu / probe_wall) if probe_wall > 0 else None,
        threads_max=threads_max,
        cpus=cpus,
        threads_pinned=threads_pinned,
        spin_wait_suspected=spin_wait_suspected(threads_max, some, threads_pinned),
        gpus=gpus,
    )


def medians(repeats: Sequence[RepeatConditions]) -> dict[str, float]:
    """Each numeric figure's median over the repeats that read it (a run's conditions in one dict)."""
    out: dict[str, float] = {}
    for name in NUMERIC_FIGURES:
        values = [float(v) for r in repeats if (v := getattr(r, name)) is not None]
        if values:
            out[name] = statistics.median(values)
    return out


def spin_note(repeats: Sequence[RepeatConditions]) -> str | None:
    """What to tell the user when repeats' threads look like they spin-waited, and the fix."""
    suspected = [i for i, r in enumerate(repeats) if r.spin_wait_suspected]
    if not suspected:
        return None
    threads = max((repeats[i].threads_max or 0) for i in suspected)
    pressure = max((repeats[i].cpu_pressure_some_pct or 0.0) for i in suspected)
    listed = ", ".join(str(i + 1) for i in suspected)
    return (
        f"Repeat(s) {listed}: {threads} threads ran while other tasks waited for a CPU up to "
        f"{pressure:.0f}% of the time; thread pools that spin while they wait (OpenBLAS, OpenMP, "
        "PyTorch) then burn CPU seconds the code does not need, so its CPU energy moves with the "
        'runner\'s load. Pin them in the budget\'s env: OMP_NUM_THREADS: "1", OPENBLAS_NUM_THREADS: "1" '
        "(or the number of cores the job owns)."
    )


def disturbance_notes(repeats: Sequence[RepeatConditions]) -> tuple[str, ...]:
    """One line per repeat a throttled GPU or a tenant disturbed: "repeat 3: power-capped 41% of the time"."""
    if not any(r.gpus for r in repeats):
        return ()
    found = disturbances([r.gpus for r in repeats])
    return tuple(f"repeat {i + 1}: {what}" for i, what in enumerate(found) if what is not None)
