#!/usr/bin/env python3
"""What a first GPU run must show about the NVML engine, as one Markdown table. One command:

    python benchmarks/gpu_verify.py --out gpu-verify       # about 7 minutes on one H100

Needs an NVIDIA GPU, torch with CUDA and green-gate's dependencies (run from the repository root).
Without a GPU it stops with exit 2 and says why; it never prints made-up numbers. On GPU 0 of the
visible ones (CUDA_VISIBLE_DEVICES decides), each step with the result expected of it:

1. Read facts: the cost of one energy-counter read, one instant-field read and one averaged-power
   read; the counter's tick (p10/median/p90 of the time between changes, read back to back); the
   instant field's `valueType` (1, unsigned int) and `scopeId` (0).
2. Online vs offline on bursts: 1 s and 3 s bursts of bf16 matmuls inside `gate.phase` (which waits
   for the GPU before both marks), each scored by the real meter's stop() right at its end (online)
   and again from the complete recording 3 s later (offline); also the tick grid and reporting
   latency the engine fitted, and k. Expected: online within 0.5% of offline, label "sub-tick edges".
3. The averaged-power fallback scored online: the same bursts measured at the same time by a second
   meter whose reader only has the 1 s-averaged power. Expected: within 5% of the instant-power
   figure at 1 s, label "power is a 1 s average".
4. Idle after a CUDA process exits: a child process runs matmuls for 8 s and exits; the meter's idle
   reading (`basis: active`) then, its fitted cooling time constant, and the mean power 40-45 s
   after the exit. Expected: within 1 W of that, or a note saying it was still cooling.
5. End to end: `green-gate check` on benchmarks/gpu_matmul (3 repeats of ~5 s) in a scratch git
   repository. Expected: exit 0, method "NVML energy counter, sub-tick edges from power samples",
   no sampler errors, repeats within ~1%.

Writes DIR/gpu_verify.md (the table) and DIR/gpu_verify.json (every figure).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CHILD_BUSY = (
    "import sys, time, torch\n"
    "a = torch.randn(8192, 8192, device='cuda', dtype=torch.bfloat16)\n"
    "end = time.monotonic() + float(sys.argv[1])\n"
    "while time.monotonic() < end:\n"
    "    for _ in range(8): a @ a\n"
    "    torch.cuda.synchronize()\n"
)


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)]


def tick_facts(
    read_mj: Callable[[], int], seconds: float, clock: Callable[[], float] = time.monotonic
) -> dict[str, float]:
    """The counter read back to back for `seconds`: the cost of a read and the time between its changes."""
    costs, changes = [], []
    last: int | None = None
    end = clock() + seconds
    while clock() < end:
        before = clock()
        value = read_mj()
        after = clock()
        costs.append(after - before)
        if last is not None and value != last:
            changes.append((before + after) / 2)
        last = value
    intervals = [b - a for a, b in pairwise(changes)]
    if not intervals:
        return {"counter_read_ms": statistics.fmean(costs) * 1000}
    return {
        "counter_read_ms": statistics.fmean(costs) * 1000,
        "tick_p10_ms": percentile(intervals, 0.1) * 1000,
        "tick_median_ms": statistics.median(intervals) * 1000,
        "tick_p90_ms": percentile(intervals, 0.9) * 1000,
    }


def read_cost_ms(read: Callable[[], object], count: int = 200) -> float:
    started = time.perf_counter()
    for _ in range(count):
        read()
    return (time.perf_counter() - started) / count * 1000


def field_facts(nvml: Any, handle: Any) -> dict[str, float]:
    fields = nvml.nvmlDeviceGetFieldValues(handle, [nvml.NVML_FI_DEV_POWER_INSTANT])
    return {
        "instant_value_type": float(fields[0].valueType),
        "instant_scope_id": float(fields[0].scopeId),
        "instant_read_ms": read_cost_ms(
            lambda: nvml.nvmlDeviceGetFieldValues(handle, [nvml.NVML_FI_DEV_POWER_INSTANT])
        ),
        "averaged_read_ms": read_cost_ms(lambda: nvml.nvmlDeviceGetPowerUsage(handle)),
    }


def phase_windows(text: str) -> list[tuple[float, float]]:
    """[start, end] of each phase in a GREEN_GATE_PHASES file, in order."""
    starts: dict[str, float] = {}
    windows = []
    for line in text.splitlines():
        mark = json.loads(line)
        if mark["event"] == "start":
            starts[mark["phase"]] = mark["t"]
        else:
            windows.append((starts.pop(mark["phase"]), mark["t"]))
    return windows


def compare(online_j: float, offline_j: float) -> float:
    return (online_j / offline_j - 1) * 100 if offline_j > 0 else float("nan")


def bursts(lengths_s: Sequence[float], count: int) -> list[dict[str, Any]]:
    """Bursts scored online (stop() at once) and offline (3 s later), by an instant-power meter and an
    averaged-power one recording at the same time."""
    import torch

    from gate.config.budget import EnergySpec
    from gate.devices.nvml import NvmlReader
    from gate.energy.nvml_meter import NvmlMeter
    from gate.energy.timeline import TimelineIndex
    from gate.phase import PHASES_ENV, phase

    instant_reader = NvmlReader()
    averaged_reader = NvmlReader()
    averaged_reader._instant = [False] * len(averaged_reader.devices())  # the fallback, forced
    instant = NvmlMeter(instant_reader, EnergySpec(idle_s=0))
    averaged = NvmlMeter(averaged_reader, EnergySpec(idle_s=0))
    a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    rows = []
    try:
        for _ in range(count):
            for length_s in lengths_s:
                instant.start()
                averaged.start()
                time.sleep(1.0)
                os.environ[PHASES_ENV] = str(instant.phases_path)
                with phase("burst"):
                    end = time.monotonic() + length_s
                    while time.monotonic() < end:
                        for _ in range(4):
                            a @ a
                        torch.cuda.synchronize()
                del os.environ[PHASES_ENV]
                averaged.phases_path.write_text(instant.phases_path.read_text())
                (window,) = phase_windows(instant.phases_path.read_text())
                online = instant.stop()
                online_averaged = averaged.stop()
                time.sleep(3.0)
                (timeline,) = instant.sampler.timelines()
                index = TimelineIndex(timeline.around(*window))
                offline = index.window(*window)
                rows.append(
                    {
                        "length_s": length_s,
                        "online_j": online.scopes[0].energy_j,
                        "offline_j": offline.energy_j,
                        "online_vs_offline_pct": compare(online.scopes[0].energy_j, offline.energy_j),
                        "method": online.scopes[0].method,
                        "calibration": offline.calibration,
                        "staleness_ms": index.placement.staleness_s * 1000,
                        "latency_ms": index.placement.latency_s * 1000
                        if index.placement.grid_phase_s is not None
                        else None,
                        "averaged_j": online_averaged.scopes[0].energy_j,
                        "averaged_vs_instant_pct": compare(online_averaged.scopes[0].energy_j, offline.energy_j),
                        "averaged_method": online_averaged.scopes[0].method,
                        "sampler_errors": list(instant.sampler.errors),
                    }
                )
    finally:
        instant.close()
        averaged.close()
    return rows


def idle_after_exit(busy_s: float = 8.0, later_s: float = 40.0) -> dict[str, Any]:
    from gate.config.budget import EnergySpec
    from gate.devices.nvml import NvmlReader
    from gate.energy.nvml_meter import NvmlMeter

    meter = NvmlMeter(NvmlReader(), EnergySpec(idle_s=3, basis="active"))
    try:
        meter.sampler.start()
        subprocess.run([sys.executable, "-c", CHILD_BUSY, str(busy_s)], check=True)
        exited = time.monotonic()
        meter.start()
        settled_s = time.monotonic() - exited
        (idle_w,) = meter.idle_power_w or (float("nan"),)
        time.sleep(max(later_s - (time.monotonic() - exited), 0.0))
        t0 = time.monotonic()
        time.sleep(5.0)
        later_w = meter._mean_power_w(t0, time.monotonic())[0]
        meter.stop()
    finally:
        meter.close()
    return {
        "idle_w": idle_w,
        "settled_after_s": settled_s,
        "floor_later_w": later_w,
        "residual_w": idle_w - later_w,
        "notes": list(meter.idle_notes),
    }


def end_to_end(seconds: float = 5.0, repeats: int = 3) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="gpu-verify-") as scratch:
        repo = Path(scratch) / "gpu_matmul"
        shutil.copytree(ROOT / "benchmarks" / "gpu_matmul", repo)
        budget = repo / "green-budget.yml"
        text = budget.read_text().replace("repeats: 5", f"repeats: {repeats}")
        budget.write_text(text.replace("python bench.py", f"python bench.py --seconds {seconds:g}"))
        for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["-c", "user.name=v", "-c", "user.email=v@v",
                     "commit", "-qm", "verify"]):  # fmt: skip
            subprocess.run(["git", *args], cwd=repo, check=True)
        out = repo / "result.json"
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        done = subprocess.run(
            [sys.executable, "-m", "gate", "check", "--branch", "main", "--json", str(out)],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if not out.exists():
            return {"exit": done.returncode, "error": done.stderr[-2000:]}
        bench = json.loads(out.read_text())["benchmarks"][0]
        energies = bench["per_repeat"].get("energy_j", [])
        spread = (max(energies) / min(energies) - 1) * 100 if energies and min(energies) > 0 else float("nan")
        gpu = next((s for s in bench["scopes"] if s["scope"] == "gpu"), {})
        return {
            "exit": done.returncode,
            "verdict": bench["verdict"],
            "method": gpu.get("method"),
            "calibration": gpu.get("calibration"),
            "counter_staleness_s": gpu.get("counter_staleness_s"),
            "repeats_spread_pct": spread,
            "warnings": [n for n in bench["notes"] if n.startswith("warning")],
        }


def markdown(figures: dict[str, Any]) -> str:
    """The figures as one Markdown table: what was measured, the value, what was expected."""
    rows: list[tuple[str, str, str]] = []
    facts = figures.get("facts", {})
    expected_facts = {
        "counter_read_ms": "~4 ms on a VM",
        "tick_median_ms": "~100 ms",
        "tick_p10_ms": "",
        "tick_p90_ms": "",
        "instant_read_ms": "≪ counter read (≥ 1 ms: the sampler adapts its rate)",
        "averaged_read_ms": "",
        "instant_value_type": "1 (unsigned int)",
        "instant_scope_id": "0",
    }
    for key, expected in expected_facts.items():
        if key in facts:
            rows.append((key, f"{facts[key]:.3g}", expected))
    for burst in figures.get("bursts", []):
        name = f"burst {burst['length_s']:g} s"
        rows.append((f"{name}: online vs offline", f"{burst['online_vs_offline_pct']:+.2f}%", "within ±0.5%"))
        rows.append((f"{name}: averaged-power fallback vs instant", f"{burst['averaged_vs_instant_pct']:+.2f}%",
                     "within ±5% at 1 s"))  # fmt: skip
        rows.append((f"{name}: k, staleness, latency", f"{burst['calibration']}, {burst['staleness_ms']:.0f} ms, "
                     f"{burst['latency_ms']} ms", "k within 0.95-1.05"))  # fmt: skip
        rows.append((f"{name}: labels", f"{burst['method']} / {burst['averaged_method']}",
                     "sub-tick edges / power is a 1 s average"))  # fmt: skip
    idle = figures.get("idle")
    if idle:
        rows.append(("idle after exit: read / 40 s later", f"{idle['idle_w']:.1f} W / {idle['floor_later_w']:.1f} W "
                     f"(after {idle['settled_after_s']:.0f} s)", "within 1 W, or noted"))  # fmt: skip
        rows.append(("idle notes", "; ".join(idle["notes"]) or "none", ""))
    e2e = figures.get("end_to_end")
    if e2e:
        rows.append(("green-gate check on gpu_matmul", f"exit {e2e['exit']}, {e2e.get('verdict')}", "exit 0"))
        rows.append(("its method", str(e2e.get("method")), "sub-tick edges from power samples"))
        if "repeats_spread_pct" in e2e:
            rows.append(("its repeats' spread", f"{e2e['repeats_spread_pct']:.2f}%", "~1%"))
    lines = ["| figure | value | expected |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(lines) + "\n"


def gpu_or_exit() -> None:
    from gate.devices.nvml import visible_gpus

    if not visible_gpus():
        print("gpu_verify: no NVIDIA GPU visible through NVML (no driver or no device): nothing measured")
        raise SystemExit(2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="directory for gpu_verify.md and .json")
    parser.add_argument("--bursts", default="1,3", help="burst lengths in s (default 1,3)")
    parser.add_argument("--count", type=int, default=5, help="bursts of each length (default 5)")
    args = parser.parse_args(argv)
    gpu_or_exit()
    import pynvml

    args.out.mkdir(parents=True, exist_ok=True)
    figures: dict[str, Any] = {}
    started = time.monotonic()
    pynvml.nvmlInit()
    try:
        handle = pynvml.nvmlDeviceGetHandleByIndex(0)
        figures["facts"] = {
            **tick_facts(lambda: pynvml.nvmlDeviceGetTotalEnergyConsumption(handle), 3.0),
            **field_facts(pynvml, handle),
        }
    finally:
        pynvml.nvmlShutdown()
    figures["bursts"] = bursts([float(x) for x in args.bursts.split(",")], args.count)
    figures["idle"] = idle_after_exit()
    figures["end_to_end"] = end_to_end()
    figures["wall_s"] = time.monotonic() - started
    (args.out / "gpu_verify.json").write_text(json.dumps(figures, indent=2, default=str))
    table = markdown(figures)
    (args.out / "gpu_verify.md").write_text(table)
    print(table)
    print(f"{figures['wall_s']:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
