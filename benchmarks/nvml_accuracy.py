#!/usr/bin/env python3
"""Accuracy and overhead of the NVML energy engine on a real GPU. One command:

    python benchmarks/nvml_accuracy.py --out nvml_accuracy.md

Needs an NVIDIA GPU, torch with CUDA, and green-gate's dependencies (run from the repository root,
or with green-gate installed). About 7.5 minutes with the defaults. Without a GPU it stops with exit
2 and says why; it never prints made-up numbers.

What it does, on GPU 0 of the visible ones (CUDA_VISIBLE_DEVICES decides):
1. Read costs: mean latency of one energy-counter read and one power read (200 calls each).
2. For each steady workload, run in a child process (`cap`: bf16 matmuls, at the power cap;
   `below`: a memory-bound copy, below it), after a warm-up: back-to-back windows of 0.3, 1, 3 and
   10 s, `--trials` of each. Every window is measured three ways at once:
   - engine: the sampler's timeline (100 Hz power, 10 Hz counter) through gate.energy.timeline;
   - naive: the energy counter read at the window's start and end;
   - codecarbon: an OfflineEmissionsTracker task started and stopped at the window's edges.
   Reference: the mean power from the counter over at least 30 s around the window (the counter is
   exact over long spans; its 100 ms staleness is then <= 0.33% of that span), times the duration.
   Reported per method and window: mean error, mean |error| and CV of measured/reference (%).
3. Overhead: the `cap` workload runs a fixed number of iterations (about `--overhead-s` / 2
   seconds) four times: without, with, with, then without the sampler running in this process (so a
   GPU warming over the runs does not count against the sampler); the wall-time difference of the
   means, and the sampler thread's CPU time as % of one core.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WINDOWS_S = (0.3, 1.0, 3.0, 10.0)
REFERENCE_SPAN_S = 30.0
WARMUP_S = 10.0


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


@dataclass
class Results:
    device: str = ""
    driver: str = ""
    read_cost_ms: dict[str, float] = field(default_factory=dict)
    # workload -> window -> method -> ratios
    ratios: dict[str, dict[float, dict[str, list[float]]]] = field(default_factory=dict)
    reference_w: dict[str, float] = field(default_factory=dict)
    overhead: dict[str, float] = field(default_factory=dict)
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
    lines += ["", *(f"- {note}" for note in results.notes)]
    return "\n".join(lines) + "\n"


# --- the GPU workload (child process) --------------------------------------------------------------


def workload(kind: str, iterations: int | None, seconds: float | None) -> None:
    import torch

    device = torch.device("cuda")
    if kind == "cap":
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
    return (values[j] - values[i]) / 1000 / (times[j] - times[i])


def measure_workload(
    kind: str, windows: Sequence[float], trials: int, reader: object, sampler: object, results: Results
) -> None:
    from gate.energy.codecarbon import new_tracker
    from gate.energy.timeline import window_energy

    tracker = new_tracker()  # codecarbon exactly as the gate configures it
    proc = start_workload(kind)
    marks: list[tuple[float, float, float, float, float, float, float | None]] = []
    try:
        time.sleep(WARMUP_S)
        for window in windows:
            for trial in range(trials):
                a0 = time.monotonic()
                e0 = reader.energy_mj(0)  # type: ignore[attr-defined]
                a1 = time.monotonic()
                tracker.start_task(f"{kind}-{window}-{trial}")
                c0 = time.monotonic()
                time.sleep(max(window - (c0 - a0), 0))
                c1 = time.monotonic()
                data = tracker.stop_task()
                b0 = time.monotonic()
                e1 = reader.energy_mj(0)  # type: ignore[attr-defined]
                b1 = time.monotonic()
                cc_j = float(data.gpu_energy) * 3.6e6 if data is not None and data.gpu_energy is not None else None
                marks.append(
                    (window, (a0 + a1) / 2, (b0 + b1) / 2, (e1 - e0) / 1000, (a1 + c0) / 2, (c1 + b0) / 2, cc_j)
                )
        time.sleep(REFERENCE_SPAN_S / 2)  # counter reads after the last window, for its reference
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait()
    (timeline,) = sampler.timelines()  # type: ignore[attr-defined]
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=Path("nvml_accuracy.md"))
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--windows", default=",".join(f"{w:g}" for w in WINDOWS_S))
    parser.add_argument("--workloads", default="cap,below")
    parser.add_argument("--overhead-s", type=float, default=60.0)
    parser.add_argument("--workload", help=argparse.SUPPRESS)
    parser.add_argument("--iterations", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.workload:
        workload(args.workload, args.iterations, args.seconds)
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
    kinds = [k for k in args.workloads.split(",") if k]
    estimate_s = (
        len(kinds) * (WARMUP_S + args.trials * sum(windows) + REFERENCE_SPAN_S / 2 + 10) + 2 * args.overhead_s + 25
    )
    gpu = reader.devices()[0]
    print(f"nvml_accuracy: {gpu.name} (driver {gpu.driver}); about {estimate_s / 60:.1f} min", file=sys.stderr)
    results = Results(device=gpu.name, driver=gpu.driver, read_cost_ms=read_costs(reader))
    try:
        for kind in kinds:
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
