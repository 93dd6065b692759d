"""The NVML meter on the stand-in driver's simulated boards, stepped on a fake clock: the real
start()/stop() path, the real NVML reader and sampler, without a thread or real time."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable

from gate.config.budget import EnergySpec
from gate.devices.nvml import NvmlReader
from gate.energy.model import EnergyReading
from gate.energy.nvml_meter import NvmlMeter
from gate.energy.sampler import Sampler, SamplerConfig
from tests.fakes.nvml import Board, FakeDriver, SimClock, h100


class SteppedSampler(Sampler):
    """The sampler stepped by the meter's sleep on a fake clock instead of by its thread."""

    def start(self) -> None:
        pass

    @property
    def running(self) -> bool:
        return not self._stop.is_set()  # as the thread would: a lost GPU ends it


def stepping(sampler: Sampler, clock: SimClock) -> Callable[[float], None]:
    """A sleep that steps `sampler` at 100 Hz on the fake clock, as its thread would."""

    def sleep(seconds: float) -> None:
        until = clock() + seconds
        while clock() < until:
            sampler.step()
            clock.advance(0.01)

    return sleep


def write_marks(meter: NvmlMeter, *windows: tuple[float, float], name: str = "inference") -> None:
    """Phase marks for `windows` on the meter's clock, as gate.phase writes them."""
    offset = time.time() - time.monotonic()
    lines = [
        json.dumps({"v": 1, "event": event, "phase": name, "t": t, "wall": t + offset, "pid": 7})
        for a, b in windows
        for event, t in (("start", a), ("end", b))
    ]
    meter.phases_path.write_text("\n".join(lines) + "\n")


class RunOnBoard:
    """Benchmark runs on one simulated H100 timed like the hardware: the counter ticks every 100 ms at
    the phase `phase_s`, each tick up to 2 ms late, and reports it `latency_s` later.

    Power: `power_w` where given; else idle 75 W, 700 W from `lead_s` after start() until `tail_s`
    before stop() (set by `run`), then a hot idle cooling to 75 W (time constant 8 s)."""

    def __init__(
        self,
        *,
        latency_s: float,
        phase_s: float,
        instant: bool = True,
        spec: EnergySpec | None = None,
        power_w: Callable[[float], float] | None = None,
        gpu: dict[str, object] | None = None,
        **board: object,
    ) -> None:
        self.clock = SimClock(100.0)
        self.busy: tuple[float, float] | None = None
        self.curve = power_w
        options: dict[str, object] = {
            "origin_s": 90.0 + phase_s, "counter_latency_s": latency_s, "tick_jitter_s": 0.002, **board,
        }  # fmt: skip
        self.board = Board(self.power_w, self.clock, advance=self.clock.advance, **options)  # type: ignore[arg-type]
        readings = {**({} if instant else {"instant": -1}), **(gpu or {})}
        self.driver = FakeDriver([h100("GPU-a", board=self.board, **readings)], driver="580.65.06")
        reader = NvmlReader({}, nvml=self.driver)
        sampler = SteppedSampler(reader, SamplerConfig(), clock=self.clock)
        self.meter = NvmlMeter(
            reader, spec or EnergySpec(idle_s=3), clock=self.clock, sleep=stepping(sampler, self.clock), sampler=sampler
        )

    def power_w(self, t: float) -> float:
        if self.curve is not None:
            return self.curve(t)
        if self.busy is None or t < self.busy[0]:
            return 75.0
        if t < self.busy[1]:
            return 700.0
        return 75.0 + 51.0 * math.exp(-(t - self.busy[1]) / 8.0)

    def run(self, window_s: float, lead_s: float = 0.05, tail_s: float = 0.03) -> tuple[EnergyReading, float]:
        """The reading stop() gives for a whole run and the board's true energy over [start(), stop()]."""
        self.meter.start()
        t0 = self.clock()
        self.busy = (t0 + lead_s, t0 + window_s - tail_s)
        self.meter.sleep(window_s)
        t1 = self.clock()
        reading = self.meter.stop()
        return reading, self.board.energy_j(t1) - self.board.energy_j(t0)

    def phase(self, a: float, b: float, until_s: float) -> EnergyReading:
        """The reading stop() gives for a phase marked [a, b], the run going on until `until_s`."""
        self.meter.start()
        self.meter.sleep(until_s - self.clock())
        write_marks(self.meter, (a, b))
        return self.meter.stop()

    def true_j(self, a: float, b: float) -> float:
        return self.board.energy_j(b) - self.board.energy_j(a)
