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


class ConstantReader:
    def __init__(self, gpus: int, counter_cost_s: float = 0.0) -> None:
        self.gpus = tuple(GpuInfo("fake", f"GPU-{i}", "0", index=i) for i in range(gpus))
        self.counter_cost_s = counter_cost_s
        self.mj = 0

    def devices(self) -> tuple[GpuInfo, ...]:
        return self.gpus

    def energy_mj(self, position: int) -> int:
        if self.counter_cost_s:
            time.sleep(self.counter_cost_s)  # latency only (a VM's cost is partly CPU: see nvml_accuracy.py)
        self.mj += 30_000
        return self.mj

    def power_w(self, position: int) -> float:
        return 300.0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    print("| GPUs | power Hz | counter Hz | counter latency | samples/s achieved | sampler CPU (% of one core) |")
    print("|---|---|---|---|---|---|")
    for gpus, power_hz, counter_hz, latency_s in [
        (1, 100, 10, 0.0),
        (1, 200, 10, 0.0),
        (1, 100, 10, 0.004),
        (8, 100, 10, 0.0),
    ]:
        sampler = Sampler(ConstantReader(gpus, latency_s), SamplerConfig(power_hz=power_hz, counter_hz=counter_hz))
        sampler.start()
        time.sleep(args.seconds)
        sampler.stop()
        rate = len(sampler.timelines()[0].power_t_s) / sampler.wall_s
        print(
            f"| {gpus} | {power_hz} | {counter_hz} | {latency_s * 1000:g} ms | {rate:.1f} "
            f"| {sampler.cpu_fraction * 100:.2f}% |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
