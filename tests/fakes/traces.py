"""Synthetic GPU traces with a known exact answer, and a GpuReader that replays them (a test double of
gate.devices.gpu.GpuReader, the engine's own protocol, not of pynvml)."""

from __future__ import annotations

import math
import random
import time
from bisect import bisect_right
from dataclasses import dataclass, field

from gate.devices.gpu import GpuInfo, GpuNotSupportedError
from gate.energy.timeline import Timeline


@dataclass(frozen=True)
class PowerProfile:
    """Piecewise-constant true power: `levels[i]` watts from `starts_s[i]` on (starts_s[0] == 0)."""

    starts_s: tuple[float, ...]
    levels_w: tuple[float, ...]

    @classmethod
    def steady(cls, watts: float) -> PowerProfile:
        return cls((0.0,), (watts,))

    def power_w(self, t: float) -> float:
        return self.levels_w[max(bisect_right(self.starts_s, t) - 1, 0)]

    def energy_j(self, t: float) -> float:
        """Exact energy from 0 to t."""
        total = 0.0
        for i, start in enumerate(self.starts_s):
            end = self.starts_s[i + 1] if i + 1 < len(self.starts_s) else math.inf
            if t <= start:
                break
            total += self.levels_w[i] * (min(t, end) - start)
        return total

    def between(self, t0: float, t1: float) -> float:
        return self.energy_j(t1) - self.energy_j(t0)


@dataclass(frozen=True)
class Trace:
    """How the readings of one GPU are generated from a profile."""

    profile: PowerProfile
    tick_s: float = 0.1
    tick_phase_s: float = 0.0  # counter updates at tick_phase_s + n * tick_s
    counter_offset_mj: int = 123_456_789
    wrap_mj: int = 2**64
    power_gain: float = 1.0  # the power sensor's scale error
    power_noise_w: float = 0.0
    seed: int = 0

    def counter_mj(self, t: float) -> int:
        """What a read at time t returns: the energy at the latest tick, in whole mJ, wrapped."""
        n = math.floor((t - self.tick_phase_s) / self.tick_s)
        tick_t = self.tick_phase_s + n * self.tick_s
        return (self.counter_offset_mj + math.floor(self.profile.energy_j(max(tick_t, 0.0)) * 1000)) % self.wrap_mj

    def sampled(
        self, duration_s: float, *, counter_hz: float = 10.0, power_hz: float = 200.0, read_phase_s: float = 0.0
    ) -> Timeline:
        rng = random.Random(self.seed)
        counter_t = [read_phase_s + i / counter_hz for i in range(int(duration_s * counter_hz) + 1)]
        power_t = [i / power_hz for i in range(int(duration_s * power_hz) + 1)]
        return Timeline(
            counter_t_s=counter_t,
            counter_mj=[self.counter_mj(t) for t in counter_t],
            power_t_s=power_t,
            power_w=[self.profile.power_w(t) * self.power_gain + rng.gauss(0, self.power_noise_w) for t in power_t],
            tick_s=self.tick_s,
            wrap_mj=self.wrap_mj,
        )


@dataclass
class TraceReader:
    """Replays traces against a fake clock that the test (or the reads) advance."""

    traces: tuple[Trace, ...]
    now_s: float = 0.0
    counter_read_cost_s: float = 0.0  # simulated NVML latency, added to the clock per counter read
    has_counter: bool = True
    reads: dict[str, int] = field(default_factory=lambda: {"energy": 0, "power": 0})

    def clock(self) -> float:
        return self.now_s

    def devices(self) -> tuple[GpuInfo, ...]:
        return tuple(
            GpuInfo(f"Fake GPU {i}", f"GPU-fake-{i}", "0.0", index=i, power_limit_w=700.0, mig_mode=False)
            for i in range(len(self.traces))
        )

    def energy_mj(self, position: int) -> int:
        if not self.has_counter:
            raise GpuNotSupportedError("no energy counter on this fake GPU")
        self.reads["energy"] += 1
        self.now_s += self.counter_read_cost_s
        return self.traces[position].counter_mj(self.now_s)

    def power_w(self, position: int) -> float:
        self.reads["power"] += 1
        trace = self.traces[position]
        return trace.profile.power_w(self.now_s) * trace.power_gain


class RealTimeTraceReader(TraceReader):
    """The same traces on the real monotonic clock (trace time 0 = when the reader was made)."""

    def __init__(self, traces: tuple[Trace, ...]) -> None:
        super().__init__(traces)
        self.origin_s = time.monotonic()

    def clock(self) -> float:
        return time.monotonic()

    def energy_mj(self, position: int) -> int:
        self.now_s = time.monotonic() - self.origin_s
        return super().energy_mj(position)

    def power_w(self, position: int) -> float:
        self.now_s = time.monotonic() - self.origin_s
        return super().power_w(position)
