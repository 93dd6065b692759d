#!/usr/bin/env python3
"""CPU cost of the sampler thread itself, with a fake GPU reader (no GPU needed).

    python benchmarks/sampler_cost.py [--seconds 10]

The reader returns constants instantly, so this measures the sampler's own Python work (timestamps,
appends, scheduling) per configuration. On a GPU the NVML calls add their own cost: a counter read
takes about 4 ms on an H100 VM (docs/measurement.md), which is why the counter is read at 10 Hz;
benchmarks/nvml_accuracy.py measures the real total on a GPU.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gate.devices.gpu import GpuInfo
from gate.energy.sampler import Sampler, SamplerConfig


def burn(seconds: float) -> None:
    """A read whose cost is CPU, not waiting (the worst case for the sampler's share of a core)."""
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


class ConstantReader:
    def __init__(self, gpus: int, counter_cost_s: float = 0.0, read_cpu_s: float = 0.0) -> None:
        self.gpus = tuple(GpuInfo("fake", f"GPU-{i}", "0", index=i) for i in range(gpus))
        self.counter_cost_s = counter_cost_s
        self.read_cpu_s = read_cpu_s
        self.mj = 0

    def devices(self) -> tuple[GpuInfo, ...]:
        return self.gpus

    def energy_mj(self, position: int) -> int:
        if self.counter_cost_s:
            time.sleep(self.counter_cost_s)  # latency only (a VM's cost is partly CPU: see nvml_accuracy.py)
        burn(self.read_cpu_s)
        self.mj += 30_000
        return self.mj

    def power_w(self, position: int) -> float:
        burn(self.read_cpu_s)
        return 300.0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    print(
        "| GPUs | power Hz | counter Hz | counter latency | CPU per read | samples/s achieved (GPU 0) "
        "| largest gap | sampler CPU (% of one core) | slowed down |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for gpus, power_hz, counter_hz, latency_s, read_cpu_s in [
        (1, 100, 10, 0.0, 0.0),
        (1, 200, 10, 0.0, 0.0),
        (1, 100, 10, 0.004, 0.0),
        (8, 100, 10, 0.0, 0.0),
        (8, 100, 10, 0.0, 0.004),
    ]:
        reader = ConstantReader(gpus, latency_s, read_cpu_s)
        cpu_seen: list[tuple[float, float]] = []  # (wall, the thread's CPU), from a hook in its thread
        sampler = Sampler(
            reader,
            SamplerConfig(power_hz=power_hz, counter_hz=counter_hz),
            hooks=(lambda now, seen=cpu_seen: seen.append((now, time.thread_time())),),
        )
        sampler.start()
        time.sleep(args.seconds)
        sampler.stop()
        t = sampler.timelines()[0].power_t_s
        # The steady state: the last half (an adapting sampler starts at the configured rate).
        hz, gap = sampler.rates(t[0] + (t[-1] - t[0]) / 2, t[-1])[0]
        half = [(w, c) for w, c in cpu_seen if w >= cpu_seen[0][0] + (cpu_seen[-1][0] - cpu_seen[0][0]) / 2]
        share = (half[-1][1] - half[0][1]) / (half[-1][0] - half[0][0]) * 100
        print(
            f"| {gpus} | {power_hz} | {counter_hz} | {latency_s * 1000:g} ms | {read_cpu_s * 1000:g} ms | {hz:.1f} "
            f"| {gap * 1000:.0f} ms | {share:.2f}% | {sampler.slowdown:.0f}x |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
