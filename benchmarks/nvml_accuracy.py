#!/usr/bin/env python3
"""Accuracy and overhead of the NVML energy engine on a real GPU. One command:

    python benchmarks/nvml_accuracy.py --out nvml_accuracy.md

Needs an NVIDIA GPU, torch with CUDA, and green-gate's dependencies (run from the repository root,
or with green-gate installed). About 4 minutes with the defaults (it prints its estimate), so it
fits one short device call with time left to rerun it. Without a GPU it stops with exit 2 and says
why; it never prints made-up numbers.

What it does, on GPU 0 of the visible ones (CUDA_VISIBLE_DEVICES decides):
1. Read costs: mean latency of one energy-counter read and one power read (200 calls each), and
   how fresh the instant power field is by its own metadata (the age of its `timestamp` when the
   read returns, its `latencyUsec`, how often its value changes).
2. Steady workloads, each in a child process (`cap`: bf16 matmuls, at the power cap; `below`: a
   memory-bound copy, below it; only `cap` by default), after a warm-up: back-to-back windows of
   0.3, 1, 3 and 10 s, `--trials` of each. Every window is measured three ways at once:
   - engine: the sampler's timeline (100 Hz power, 10 Hz counter) through gate.energy.timeline;
   - naive: the energy counter read at the window's start and end;
   - codecarbon: an OfflineEmissionsTracker task started and stopped at the window's edges, its
     GPU figure limited to the measured GPU (`gpu_ids`), not the sum of the machine's GPUs.
   Reference: the mean power from the counter over at least 30 s around the window (the counter is
   exact over long spans; its 100 ms staleness is then <= 0.33% of that span), times the duration.
3. Edges (`burst`): the window is a burst of matmuls between idle stretches, `--bursts` long plus
   a random fraction of a counter tick (so it starts and ends mid-tick), its end marked after
   torch.cuda.synchronize(), measured by the same three methods. Reference: the idle lines fitted
   to the counter reads before and after the burst (`burst_reference_j`), so the counter's
   staleness meets idle power, not the step. The same bursts say how late the instant power field
   follows a step (item 21 of the review): the time from each edge until the sampled power (500 Hz)
   crosses halfway between idle and busy, an upper bound on the field's lag (the board's own ramp
   is in it).
   Reported per method and window: mean error, mean |error| and CV of measured/reference (%).
4. Overhead: the `cap` workload runs a fixed number of iterations (about `--overhead-s` / 2
   seconds) four times: without, with, with, then without the sampler running in this process (so a
   GPU warming over the runs does not count against the sampler); the wall-time difference of the
   means, and the sampler thread's CPU time as % of one core.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gate.devices.gpu import GpuInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WINDOWS_S = (0.3, 1.0, 3.0, 10.0)
BURSTS_S = (0.3, 1.0)
REFERENCE_SPAN_S = 30.0
WARMUP_S = 10.0
TICK_S = 0.1  # the energy counter's update period (measured on an H100)
BURST_GAP_S = 3.0  # idle between bursts: a settle and a fitted idle line on each side
SETTLE_S = 0.3  # left out of the idle fit next to a burst (clocks and power ramping down)
FIT_S = 1.2  # idle counter reads fitted on each side of a burst


# --- pure statistics (tested in CI) ----------------------------------------------------------------


@dataclass(frozen=True)
class Stats:
    trials: int
    mean_error_pct: float
    mean_abs_error_pct: float
    cv_pct: float


def stats(ratios: Sequence[float]) -> Stats:
    """measured/reference ratios -> errors and CV in %."""
    if len(ratios) < 2:
        raise ValueError("need at least two trials")
    errors = [(r - 1) * 100 for r in ratios]
    return Stats(
        len(ratios),
        statistics.fmean(errors),
        statistics.fmean(abs(e) for e in errors),
        statistics.stdev(ratios) / statistics.fmean(ratios) * 100,
    )


def idle_line(
    counter_t_s: Sequence[float], counter_mj: Sequence[int], lo_s: float, hi_s: float, tick_s: float = TICK_S
) -> tuple[float, float] | None:
    """Least-squares counter energy (J) = a + p t over the reads in [lo_s, hi_s] -> (a, p W).

    Each read is placed half a tick before it was taken (its mean staleness), as the engine does."""
    points = [(t - tick_s / 2, mj / 1000) for t, mj in zip(counter_t_s, counter_mj, strict=True) if lo_s <= t <= hi_s]
    if len(points) < 3:
        return None
    mean_t = statistics.fmean(t for t, _ in points)
    mean_j = statistics.fmean(j for _, j in points)
    spread = sum((t - mean_t) ** 2 for t, _ in points)
    if spread <= 0:
        return None
    slope = sum((t - mean_t) * (j - mean_j) for t, j in points) / spread
    return mean_j - slope * mean_t, slope


@dataclass(frozen=True)
class BurstReference:
    energy_j: float
    idle_before_w: float
    idle_after_w: float


def burst_reference_j(
    counter_t_s: Sequence[float],
    counter_mj: Sequence[int],
    start_s: float,
    end_s: float,
    *,
    settle_s: float = SETTLE_S,
    fit_s: float = FIT_S,
    tick_s: float = TICK_S,
) -> BurstReference | None:
    """The energy of [start_s, end_s] from the counter alone, for a burst between idle stretches.

    The counter's value at the burst's edges is read off idle lines fitted to the reads before and
    after it: a read's staleness there costs idle power x its tick phase, averaged over ~12 reads,
    not the burst's power. Power still above idle in the `settle_s` after the end (a slow ramp
    down) counts toward the reference, not the window: it is said in the docs, not hidden."""
    before = idle_line(counter_t_s, counter_mj, start_s - settle_s - fit_s, start_s - settle_s, tick_s)
    after = idle_line(counter_t_s, counter_mj, end_s + settle_s, end_s + settle_s + fit_s, tick_s)
    if before is None or after is None:
        return None
    energy_j = (after[0] + after[1] * end_s) - (before[0] + before[1] * start_s)
    return BurstReference(energy_j, before[1], after[1])


def step_lag_s(
    power_t_s: Sequence[float], power_w: Sequence[float], edge_s: float, from_w: float, to_w: float
) -> float | None:
    """Time from `edge_s` until the sampled power first crosses halfway from `from_w` to `to_w`."""
    half = (from_w + to_w) / 2
    rising = to_w > from_w
    from bisect import bisect_left

    for i in range(bisect_left(power_t_s, edge_s), len(power_t_s)):
        if (power_w[i] >= half) if rising else (power_w[i] <= half):
            return power_t_s[i] - edge_s
    return None


def read_instant_field(
    nvml: object, handle: object, reads: int, *, pause_s: float = 0.002, wall: Callable[[], float] = time.time
) -> list[tuple[float, int, int, int]]:
    """`reads` reads of NVML_FI_DEV_POWER_INSTANT: (wall time at return s, timestamp us, latencyUsec, mW)."""
    field_id = nvml.NVML_FI_DEV_POWER_INSTANT  # type: ignore[attr-defined]
    samples = []
    for _ in range(reads):
        (value,) = nvml.nvmlDeviceGetFieldValues(handle, [field_id])  # type: ignore[attr-defined]
        returned_s = wall()
        if value.nvmlReturn == 0:
            samples.append((returned_s, int(value.timestamp), int(value.latencyUsec), int(value.value.uiVal)))
        time.sleep(pause_s)
    return samples


def field_freshness(samples: Sequence[tuple[float, int, int, int]]) -> dict[str, float]:
    """Median age of the field's `timestamp` when the read returned (ms), median `latencyUsec` (us),
    and the median interval between distinct timestamps (ms): how often NVML refreshes the value."""
    if len(samples) < 3:
        return {}
    ages = [(returned_s * 1e6 - stamp_us) / 1000 for returned_s, stamp_us, _, _ in samples]
    stamps = sorted({stamp_us for _, stamp_us, _, _ in samples})
    gaps = [(b - a) / 1000 for a, b in itertools.pairwise(stamps)]
    return {
        "age_ms": statistics.median(ages),
        "latency_us": statistics.median(latency for _, _, latency, _ in samples),
        "update_ms": statistics.median(gaps) if gaps else math.nan,
    }


@dataclass
class Results:
    device: str = ""
    driver: str = ""
    read_cost_ms: dict[str, float] = field(default_factory=dict)
    # workload -> window -> method -> ratios
    ratios: dict[str, dict[float, dict[str, list[float]]]] = field(default_factory=dict)
    reference_w: dict[str, float] = field(default_factory=dict)
    overhead: dict[str, float] = field(default_factory=dict)
    freshness: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


METHODS = ("engine", "naive", "codecarbon")


def markdown(results: Results) -> str:
    lines = [
        f"# NVML energy engine: accuracy and overhead on {results.device} (driver {results.driver})",
        "",
        "Produced by `python benchmarks/nvml_accuracy.py`. Error = measured / reference - 1 per window; the",
        f"reference is the counter's mean power over >= {REFERENCE_SPAN_S:g} s around the window x its duration.",
        "",
        "Read costs: "
        + ", ".join(f"{name} {cost:.3f} ms" for name, cost in sorted(results.read_cost_ms.items()))
        + ".",
        "",
        "| Workload | Reference power | Window | Method | Trials | Mean error | Mean abs. error | CV |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for workload, by_window in results.ratios.items():
        for window, by_method in sorted(by_window.items()):
            for method in METHODS:
                ratios = by_method.get(method, [])
                if len(ratios) < 2:
                    lines.append(f"| {workload} | — | {window:g} s | {method} | {len(ratios)} | — | — | — |")
                    continue
                s = stats(ratios)
                mean_error = round(s.mean_error_pct, 2) + 0.0  # no "-0.00%"
                lines.append(
                    f"| {workload} | {results.reference_w.get(workload, math.nan):.0f} W | {window:g} s | {method} "
                    f"| {s.trials} | {mean_error:+.2f}% | {s.mean_abs_error_pct:.2f}% | {s.cv_pct:.2f}% |"
                )
    if results.overhead:
        o = results.overhead
        lines += [
            "",
            "| Overhead | Value |",
            "|---|---|",
            f"| Workload wall time without sampler | {o['wall_off_s']:.2f} s |",
            f"| Workload wall time with sampler | {o['wall_on_s']:.2f} s |",
            f"| Wall-time overhead | {(o['wall_on_s'] / o['wall_off_s'] - 1) * 100:+.2f}% |",
            f"| Sampler CPU (% of one core) | {o['sampler_cpu_pct']:.2f}% |",
        ]
    if results.freshness:
        f = results.freshness
        rows = [
            ("Age of the field's timestamp when the read returns (median)", "age_ms", "ms"),
            ("latencyUsec (median)", "latency_us", "µs"),
            ("Interval between distinct timestamps (median)", "update_ms", "ms"),
            ("Rising edge: burst start to half-way power (median)", "rise_ms", "ms"),
            ("Falling edge: burst end to half-way power (median)", "fall_ms", "ms"),
        ]
        lines += ["", "| Instant power freshness | Value |", "|---|---|"]
        lines += [
            f"| {label} | {f[key]:.1f} {unit} |" for label, key, unit in rows if key in f and not math.isnan(f[key])
        ]
    lines += ["", *(f"- {note}" for note in results.notes)]
    return "\n".join(lines) + "\n"


# --- the GPU workload (child process) --------------------------------------------------------------


def workload(kind: str, iterations: int | None, seconds: float | None, bursts: Sequence[float] = ()) -> None:
    import torch

    device = torch.device("cuda")
    if kind in ("cap", "burst"):
        a = torch.randn(8192, 8192, device=device, dtype=torch.bfloat16)
        b = torch.randn(8192, 8192, device=device, dtype=torch.bfloat16)
        c = torch.empty_like(a)

        def step() -> None:
            torch.matmul(a, b, out=c)

    else:
        x = torch.empty(1 << 29, dtype=torch.float16, device=device)  # 1 GiB
        y = torch.empty_like(x)

        def step() -> None:
            y.copy_(x)

    for _ in range(20):
        step()
    torch.cuda.synchronize()
    print("ready", flush=True)
    if kind == "burst":
        # Idle, then each burst: its start marked before the first launch, its end after the queue
        # has drained (as gate.phase does with torch), so the window holds all of its GPU work.
        time.sleep(BURST_GAP_S)
        for length_s in bursts:
            start = time.monotonic()
            print(json.dumps({"start": start}), flush=True)
            done = 0
            while time.monotonic() - start < length_s:
                step()
                done += 1
                if done % 4 == 0:
                    torch.cuda.synchronize()
            torch.cuda.synchronize()
            print(json.dumps({"end": time.monotonic()}), flush=True)
            time.sleep(BURST_GAP_S)
        print(json.dumps({"iterations": 0, "elapsed_s": 0.0}), flush=True)
        return
    done, start = 0, time.monotonic()
    while iterations is None or done < iterations:
        step()
        done += 1
        if done % 20 == 0:
            torch.cuda.synchronize()  # keep the queue short so the work stops when asked
            if seconds is not None and time.monotonic() - start >= seconds:
                break
    torch.cuda.synchronize()
    print(json.dumps({"iterations": done, "elapsed_s": time.monotonic() - start}), flush=True)


def start_workload(kind: str, *extra: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, __file__, "--workload", kind, *extra], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if line != "ready":
        proc.kill()
        raise SystemExit(f"the {kind} workload did not start (said {line!r}); is torch installed with CUDA?")
    return proc


def finish_workload(proc: subprocess.Popen[str]) -> dict[str, float]:
    assert proc.stdout is not None
    out = proc.stdout.read().strip().splitlines()
    if proc.wait() != 0 or not out:
        raise SystemExit(f"the workload failed (exit {proc.returncode})")
    result: dict[str, float] = json.loads(out[-1])
    return result


# --- measurement (parent) --------------------------------------------------------------------------


def read_costs(reader: object) -> dict[str, float]:
    costs = {}
    for name in ("energy_mj", "power_w"):
        fn = getattr(reader, name)
        start = time.perf_counter()
        for _ in range(200):
            fn(0)
        costs[f"{'counter' if name == 'energy_mj' else 'power'} read"] = (time.perf_counter() - start) / 200 * 1000
    return costs


def reference_power_w(timeline: object, lo: float, hi: float) -> float:
    """Mean power from the counter between the reads nearest lo and hi (each placed at its mean staleness)."""
    times = list(timeline.counter_t_s)  # type: ignore[attr-defined]
    values = list(timeline.counter_mj)  # type: ignore[attr-defined]
    from bisect import bisect_left

    i = min(bisect_left(times, lo), len(times) - 1)
    j = max(min(bisect_left(times, hi), len(times) - 1), i + 1)
    return float((values[j] - values[i]) / 1000 / (times[j] - times[i]))


def codecarbon_tracker(gpu: GpuInfo) -> Any:
    """codecarbon as the gate configures it, its GPU figure limited to `gpu`, not summed over the machine.

    By NVML index, which codecarbon numbers GPUs by whatever CUDA_VISIBLE_DEVICES says. Not by UUID:
    codecarbon 3.3 strips a "MIG-" prefix with str.lstrip("MIG-"), which also eats the G of "GPU-…",
    so no GPU UUID ever matches and its figure is 0 J."""
    from gate.energy.codecarbon import new_tracker

    return new_tracker(gpu_ids=[str(gpu.index)])


def codecarbon_gpu_j(data: Any) -> float | None:
    return float(data.gpu_energy) * 3.6e6 if data is not None and data.gpu_energy is not None else None


def measure_workload(
    kind: str, windows: Sequence[float], trials: int, reader: Any, sampler: Any, results: Results
) -> None:
    from gate.energy.timeline import window_energy

    tracker = codecarbon_tracker(reader.devices()[0])
    proc = start_workload(kind)
    marks: list[tuple[float, float, float, float, float, float, float | None]] = []
    try:
        time.sleep(WARMUP_S)
        for window in windows:
            for trial in range(trials):
                a0 = time.monotonic()
                e0 = reader.energy_mj(0)
                a1 = time.monotonic()
                tracker.start_task(f"{kind}-{window}-{trial}")
                c0 = time.monotonic()
                time.sleep(max(window - (c0 - a0), 0))
                c1 = time.monotonic()
                data = tracker.stop_task()
                b0 = time.monotonic()
                e1 = reader.energy_mj(0)
                b1 = time.monotonic()
                cc_j = codecarbon_gpu_j(data)
                marks.append(
                    (window, (a0 + a1) / 2, (b0 + b1) / 2, (e1 - e0) / 1000, (a1 + c0) / 2, (c1 + b0) / 2, cc_j)
                )
        time.sleep(REFERENCE_SPAN_S / 2)  # counter reads after the last window, for its reference
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait()
    timeline = sampler.timelines()[0]  # the reader measures one GPU
    steady_lo = timeline.counter_t_s[0]
    steady_hi = timeline.counter_t_s[-1]
    by_window: dict[float, dict[str, list[float]]] = {}
    refs = []
    for window, t0, t1, naive_j, cc0, cc1, cc_j in marks:
        mid = (t0 + t1) / 2
        half = max(REFERENCE_SPAN_S, t1 - t0) / 2
        lo, hi = max(mid - half, marks[0][1] - 5), min(mid + half, steady_hi)
        ref_w = reference_power_w(timeline, max(lo, steady_lo), hi)
        refs.append(ref_w)
        slot = by_window.setdefault(window, {m: [] for m in METHODS})
        engine = window_energy(timeline.around(t0, t1), t0, t1)
        slot["engine"].append(engine.energy_j / (ref_w * (t1 - t0)))
        slot["naive"].append(naive_j / (ref_w * (t1 - t0)))
        if cc_j is not None and cc1 > cc0:
            slot["codecarbon"].append(cc_j / (ref_w * (cc1 - cc0)))
    results.ratios[kind] = by_window
    results.reference_w[kind] = statistics.fmean(refs)


def burst_schedule(lengths: Sequence[float], trials: int, rng: random.Random) -> list[float]:
    """Each length `trials` times, interleaved, plus a random part of a tick: edges fall mid-tick."""
    return [length + rng.uniform(0, TICK_S) for _ in range(trials) for length in lengths]


def score_bursts(
    timeline: Any,
    bursts: Sequence[tuple[float, float, float, float | None, float | None]],
    nominal: Sequence[float],
) -> tuple[dict[float, dict[str, list[float]]], list[float], dict[str, float], list[str]]:
    """(start, end, naive J, codecarbon J, codecarbon s) per burst -> ratios per nominal length and method,
    busy power per burst, the step lags (ms) and notes. Pure, over a recorded timeline."""
    from gate.energy.timeline import window_energy

    by_window: dict[float, dict[str, list[float]]] = {}
    busy: list[float] = []
    rises: list[float] = []
    falls: list[float] = []
    notes: list[str] = []
    for (start, end, naive_j, cc_j, cc_s), length in zip(bursts, nominal, strict=True):
        ref = burst_reference_j(timeline.counter_t_s, timeline.counter_mj, start, end)
        if ref is None or ref.energy_j <= 0:
            notes.append(f"burst at {start:.1f} s: too few idle counter reads around it for a reference")
            continue
        slot = by_window.setdefault(length, {m: [] for m in METHODS})
        engine = window_energy(timeline.around(start, end), start, end)
        slot["engine"].append(engine.energy_j / ref.energy_j)
        if naive_j is not None:
            slot["naive"].append(naive_j / ref.energy_j)
        if cc_j is not None and cc_s:
            # codecarbon's task spans its own start/stop, a little longer than the burst: its power x the burst.
            slot["codecarbon"].append(cc_j / cc_s * (end - start) / ref.energy_j)
        busy_w = ref.energy_j / (end - start)
        busy.append(busy_w)
        rise = step_lag_s(timeline.power_t_s, timeline.power_w, start, ref.idle_before_w, busy_w)
        fall = step_lag_s(timeline.power_t_s, timeline.power_w, end, busy_w, ref.idle_after_w)
        rises += [rise * 1000] if rise is not None else []
        falls += [fall * 1000] if fall is not None else []
    lags = {}
    if rises:
        lags["rise_ms"] = statistics.median(rises)
    if falls:
        lags["fall_ms"] = statistics.median(falls)
    return by_window, busy, lags, notes


def measure_bursts(lengths: Sequence[float], trials: int, reader: Any, results: Results) -> None:
    from gate.energy.sampler import Sampler, SamplerConfig

    schedule = burst_schedule(lengths, trials, random.Random(20261203))
    nominal = [length for _ in range(trials) for length in lengths]
    tracker = codecarbon_tracker(reader.devices()[0])
    # 500 Hz: the step lags are read off the power samples, so their spacing bounds the resolution.
    sampler = Sampler(reader, SamplerConfig(power_hz=500, counter_hz=10))
    sampler.start()
    bursts: list[tuple[float, float, float, float | None, float | None]] = []
    try:
        proc = start_workload("burst", "--bursts", ",".join(f"{d:.4f}" for d in schedule))
        assert proc.stdout is not None
        start = e0 = c0 = 0.0
        for line in proc.stdout:
            mark = json.loads(line)
            if "start" in mark:
                start, e0 = mark["start"], reader.energy_mj(0)
                tracker.start_task(f"burst-{len(bursts)}")
                c0 = time.monotonic()
            elif "end" in mark:
                data = tracker.stop_task()
                c1 = time.monotonic()
                naive_j = (reader.energy_mj(0) - e0) / 1000
                bursts.append((start, mark["end"], naive_j, codecarbon_gpu_j(data), c1 - c0))
            else:
                break
        if proc.wait() != 0:
            raise SystemExit(f"the burst workload failed (exit {proc.returncode})")
    finally:
        sampler.stop()
    timeline = sampler.timelines()[0]
    by_window, busy, lags, notes = score_bursts(timeline, bursts, nominal[: len(bursts)])
    results.ratios["burst"] = by_window
    if busy:
        results.reference_w["burst"] = statistics.fmean(busy)
    results.freshness.update(lags)
    results.notes += notes
    results.notes.append(f"sampler CPU during the burst run: {sampler.cpu_fraction * 100:.2f}% of one core")


def measure_overhead(seconds: float, reader: object) -> dict[str, float]:
    from gate.energy.sampler import Sampler, SamplerConfig

    probe = finish_workload(start_workload("cap", "--seconds", "5"))
    iterations = int(probe["iterations"] / probe["elapsed_s"] * seconds / 2)
    sampler = Sampler(reader, SamplerConfig(power_hz=100, counter_hz=10))  # type: ignore[arg-type]
    walls: dict[str, list[float]] = {"off": [], "on": []}
    # Off, on, on, off: a GPU warming up over the runs weighs on both alike (one off then one on
    # would charge the second, hotter run to the sampler).
    for mode in ("off", "on", "on", "off"):
        if mode == "on":
            sampler.start()
        try:
            walls[mode].append(finish_workload(start_workload("cap", "--iterations", str(iterations)))["elapsed_s"])
        finally:
            sampler.stop()
    return {
        "wall_off_s": statistics.fmean(walls["off"]),
        "wall_on_s": statistics.fmean(walls["on"]),
        "sampler_cpu_pct": sampler.cpu_fraction * 100,
    }


def estimate_s(
    kinds: Sequence[str], windows: Sequence[float], bursts: Sequence[float], trials: int, overhead_s: float
) -> float:
    """Wall time of a run, for the banner (and for sizing the defaults to a device budget)."""
    total = 25.0 + (2 * overhead_s + 25 if overhead_s > 0 else 0)  # read costs, freshness; overhead runs
    for kind in kinds:
        if kind == "burst":
            total += 10 + BURST_GAP_S + trials * sum(b + TICK_S / 2 + BURST_GAP_S for b in bursts)
        else:
            total += WARMUP_S + trials * sum(windows) + REFERENCE_SPAN_S / 2 + 10
    return total


def instant_field_freshness(gpu: GpuInfo, notes: list[str], reads: int = 500) -> dict[str, float]:
    """The instant field's own metadata over `reads` reads of `gpu`, through pynvml directly (the
    gate's reader keeps only the value)."""
    import pynvml

    pynvml.nvmlInit()
    try:
        handle = pynvml.nvmlDeviceGetHandleByUUID(gpu.uuid)
        samples = read_instant_field(pynvml, handle, reads)
    except pynvml.NVMLError as exc:
        notes.append(f"instant power field metadata not read: {exc}")
        return {}
    finally:
        pynvml.nvmlShutdown()
    if len(samples) < reads // 2:
        notes.append(f"the instant power field answered {len(samples)} of {reads} reads")
    return field_freshness(samples)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=Path("nvml_accuracy.md"))
    # The defaults fit a short device budget (~4 min); `--trials 10 --workloads cap,below,burst
    # --overhead-s 60` is the long run (~9 min).
    parser.add_argument("--trials", type=int, default=4)
    parser.add_argument("--windows", default=",".join(f"{w:g}" for w in WINDOWS_S))
    parser.add_argument("--bursts", default=",".join(f"{w:g}" for w in BURSTS_S), help="burst lengths (s)")
    parser.add_argument("--workloads", default="cap,burst", help="of cap, below, burst")
    parser.add_argument("--overhead-s", type=float, default=20.0)
    parser.add_argument("--workload", help=argparse.SUPPRESS)
    parser.add_argument("--iterations", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, help=argparse.SUPPRESS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.workload:
        bursts = [float(b) for b in args.bursts.split(",") if b] if args.workload == "burst" else []
        workload(args.workload, args.iterations, args.seconds, bursts)
        return 0

    from gate.devices import nvml
    from gate.energy.sampler import Sampler, SamplerConfig
    from gate.errors import GateError

    try:
        # One GPU: the workload and every reference below are about device 0 of the visible ones (on a
        # multi-GPU machine the sampler would otherwise record all of them). codecarbon's figure still
        # sums every GPU of the machine: compare it only where there is one.
        first = os.environ.get("CUDA_VISIBLE_DEVICES", "0").split(",")[0]
        reader = nvml.open_reader({**os.environ, "CUDA_VISIBLE_DEVICES": first})
    except GateError as exc:
        print(f"nvml_accuracy: no GPU to measure: {exc.render()}", file=sys.stderr)
        return 2
    if not reader.devices():
        print("nvml_accuracy: NVML sees no GPU visible to this process (CUDA_VISIBLE_DEVICES?)", file=sys.stderr)
        return 2
    windows = [float(w) for w in args.windows.split(",")]
    burst_lengths = [float(b) for b in args.bursts.split(",") if b]
    kinds = [k for k in args.workloads.split(",") if k]
    gpu = reader.devices()[0]
    estimate = estimate_s(kinds, windows, burst_lengths, args.trials, args.overhead_s)
    print(f"nvml_accuracy: {gpu.name} (driver {gpu.driver}); about {estimate / 60:.1f} min", file=sys.stderr)
    results = Results(device=gpu.name, driver=gpu.driver, read_cost_ms=read_costs(reader))
    results.freshness.update(instant_field_freshness(gpu, results.notes))
    try:
        for kind in kinds:
            if kind == "burst":
                measure_bursts(burst_lengths, args.trials, reader, results)
                print("nvml_accuracy: burst done", file=sys.stderr)
                continue
            sampler = Sampler(reader, SamplerConfig(power_hz=100, counter_hz=10))
            sampler.start()
            try:
                measure_workload(kind, windows, args.trials, reader, sampler, results)
            finally:
                sampler.stop()
            results.notes.append(f"sampler CPU during the {kind} run: {sampler.cpu_fraction * 100:.2f}% of one core")
            print(f"nvml_accuracy: {kind} done", file=sys.stderr)
        if args.overhead_s > 0:
            results.overhead = measure_overhead(args.overhead_s, reader)
    finally:
        reader.close()
    text = markdown(results)
    args.out.write_text(text, encoding="utf-8")
    (args.out.with_suffix(".json")).write_text(
        json.dumps(
            {**results.__dict__, "ratios": {k: {str(w): m for w, m in v.items()} for k, v in results.ratios.items()}},
            indent=1,
        )
    )
    if os.environ.get("OUT"):
        Path(os.environ["OUT"], args.out.name).write_text(text, encoding="utf-8")
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
