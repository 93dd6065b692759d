"""A background thread that records each GPU's timeline: power samples at `power_hz`, counter reads at `counter_hz`.

Power reads cost microseconds; a counter read costs milliseconds on a VM (about 4 ms on an H100 VM,
see docs/measurement.md), so the counter is read at about 10 Hz and power at 100 Hz. The sampler
only talks to a `GpuReader`, so a fake reader drives it in tests. Reading errors are kept, not
raised in the thread: a reading the GPU does not offer is dropped for that GPU, a refused one too;
a transient failure (NVML's TIMEOUT or UNKNOWN) is retried at the next due read and the reading is
dropped only after `MAX_CONSECUTIVE_FAILURES` in a row (a single glitch must not switch the method
of every later window); a lost or unreachable GPU, or anything unexpected in the thread, stops the
sampler, and `errors` says why.
"""

from __future__ import annotations

import threading
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise

from gate.devices.gpu import (
    AveragedPowerReader,
    GpuLostError,
    GpuNotSupportedError,
    GpuReader,
    GpuReadError,
    GpuUnreachableError,
)
from gate.energy.timeline import Timeline

Hook = Callable[[float], None]

MAX_CONSECUTIVE_FAILURES = 5
# The sampler thread may use this share of one core: where its reads cost more (8 GPUs whose reads
# burn ms of CPU each), it reads less often (power first, down to the counter's rate, then both),
# and goes back up when they get cheap again.
CPU_BUDGET = 0.05
ADAPT_EVERY_S = 1.0
MIN_COUNTER_HZ = 0.5  # reads at least every 2 s, however costly


@dataclass
class ReadCost:
    """What one kind of read has cost so far, measured as the sampler runs."""

    count: int = 0
    wall_s: float = 0.0
    cpu_s: float = 0.0

    def add(self, wall_s: float, cpu_s: float) -> None:
        self.count += 1
        self.wall_s += wall_s
        self.cpu_s += cpu_s

    def describe(self) -> str:
        if not self.count:
            return "none"
        return f"{self.wall_s / self.count * 1000:.2g} ms wall / {self.cpu_s / self.count * 1000:.2g} ms CPU"


def adapted_slowdown(slowdown: float, cpu_fraction: float, budget: float = CPU_BUDGET) -> float:
    """How many times less often to read than configured, given the CPU share the last period used."""
    if cpu_fraction > budget:
        return slowdown * cpu_fraction / budget * 1.1  # straight to within the budget, with a margin
    if cpu_fraction < budget / 2 and slowdown > 1.0:
        return max(slowdown / 1.5, 1.0)  # cheaper again: back up, a step at a time
    return slowdown


@dataclass(frozen=True)
class SamplerConfig:
    power_hz: float = 100.0
    counter_hz: float = 10.0
    hook_period_s: float = 0.5  # how often hooks (progress, RAPL polls) run in the sampler thread

    def __post_init__(self) -> None:
        if not (0 < self.counter_hz <= self.power_hz <= 1000):
            raise ValueError("need 0 < counter_hz <= power_hz <= 1000")


class _Series:
    def __init__(self) -> None:
        self.counter_t = array("d")
        self.counter_mj = array("Q")
        self.power_t = array("d")
        self.power_w = array("d")
        self.counter_ok = True
        self.power_ok = True
        self.failures_in_a_row = {"power": 0, "energy counter": 0}
        self.next_counter = -float("inf")  # when this GPU's counter is next due (staggered across GPUs)
        self.next_power = -float("inf")


class Sampler:
    """Records timelines until stop(); `step()` is one iteration, so tests can drive it on a fake clock."""

    def __init__(
        self,
        reader: GpuReader,
        config: SamplerConfig | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        hooks: tuple[Hook, ...] = (),
        cpu_clock: Callable[[], float] = time.thread_time,
    ) -> None:
        self.reader = reader
        self.config = config or SamplerConfig()
        self.clock = clock
        self.cpu_clock = cpu_clock  # the sampler thread's own CPU time
        self.costs = {"power": ReadCost(), "energy counter": ReadCost()}
        self.slowdown = 1.0  # read this many times less often than configured (CPU_BUDGET)
        self.slowest = 1.0
        self._adapt_at: tuple[float, float] | None = None  # (wall, CPU) when the rate was last adapted
        self.hooks = list(hooks)
        self.devices = reader.devices()
        self.errors: list[str] = []
        self.notes: list[str] = []
        self.cpu_s = 0.0  # CPU time the sampler thread used
        self.wall_s = 0.0
        self._series = [_Series() for _ in self.devices]
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_counter = -float("inf")
        self._next_hook = -float("inf")
        self._last_power: list[tuple[float, float] | None] = [None] * len(self.devices)
        self._energy_j = 0.0  # running trapezoid over all GPUs, for live progress

    # --- the loop ---------------------------------------------------------------------------------

    def power_period_s(self) -> float:
        """Power is read `slowdown` times less often than configured (at least every 2 s)."""
        return min(self.slowdown / self.config.power_hz, 1 / MIN_COUNTER_HZ)

    def counter_period_s(self) -> float:
        """The counter is slowed only once power is read no more often than it is."""
        return min(max(1 / self.config.counter_hz, self.slowdown / self.config.power_hz), 1 / MIN_COUNTER_HZ)

    def _adapt(self, now: float) -> None:
        cpu = self.cpu_clock()
        if self._adapt_at is None:
            self._adapt_at = (now, cpu)
            return
        wall0, cpu0 = self._adapt_at
        if now - wall0 < ADAPT_EVERY_S:
            return
        self._adapt_at = (now, cpu)
        slowdown = adapted_slowdown(self.slowdown, (cpu - cpu0) / (now - wall0))
        if slowdown > self.slowdown and slowdown > 1.0 and self.slowdown == 1.0:
            self.notes.append(
                f"the sampler's reads cost {(cpu - cpu0) / (now - wall0) * 100:.0f}% of a core: it reads "
                f"{slowdown:.1f}x less often (power: {self.costs['power'].describe()} a read)"
            )
        self.slowdown = slowdown
        self.slowest = max(self.slowest, slowdown)

    def step(self) -> None:
        """Read power (and the counter) for every GPU where due, then run due hooks."""
        now = self.clock()
        self._adapt(now)
        period = self.counter_period_s()
        if self._next_counter == -float("inf"):
            # Counter reads cost ~4 ms each: read back to back for 8 GPUs they would hold power
            # sampling for 32 ms every tenth of a second. Staggered, each step reads at most about one.
            count = len(self._series)
            for position, series in enumerate(self._series):
                series.next_counter = now + period * position / count if count else now
            self._next_counter = now
        for position, series in enumerate(self._series):
            if series.counter_ok and now >= series.next_counter:
                series.next_counter = max(series.next_counter + period, now)
                self._read_counter(position, series)
        power_period = self.power_period_s()
        for position, series in enumerate(self._series):
            if series.power_ok and now >= series.next_power - power_period / 4:  # within a loop's slack
                series.next_power = max(series.next_power + power_period, now)
                self._read_power(position, series)
        if self.hooks and now >= self._next_hook:
            self._next_hook = now + self.config.hook_period_s
            for hook in list(self.hooks):
                try:
                    hook(now)
                except Exception as exc:  # a hook must not stop the measurement
                    self.errors.append(f"{getattr(hook, '__qualname__', hook)} failed: {exc}")
                    self.hooks.remove(hook)

    def _read_counter(self, position: int, series: _Series) -> None:
        before, cpu = self.clock(), self.cpu_clock()
        try:
            value = self.reader.energy_mj(position)
        except GpuNotSupportedError:
            series.counter_ok = False
            self.notes.append(f"{self._name(position)} has no energy counter: its power samples are integrated")
            return
        except GpuReadError as exc:
            self._fail(position, "energy counter", exc)
            return
        series.failures_in_a_row["energy counter"] = 0
        after = self.clock()
        self.costs["energy counter"].add(after - before, self.cpu_clock() - cpu)
        t = (before + after) / 2
        with self._lock:
            series.counter_t.append(t)
            series.counter_mj.append(value)

    def _read_power(self, position: int, series: _Series) -> None:
        before, cpu = self.clock(), self.cpu_clock()
        try:
            value = self.reader.power_w(position)
        except GpuNotSupportedError:
            series.power_ok = False
            self.notes.append(f"{self._name(position)} reports no power: energy comes from its counter alone")
            return
        except GpuReadError as exc:
            self._fail(position, "power", exc)
            return
        series.failures_in_a_row["power"] = 0
        after = self.clock()
        self.costs["power"].add(after - before, self.cpu_clock() - cpu)
        t = (before + after) / 2
        with self._lock:
            series.power_t.append(t)
            series.power_w.append(value)
            last = self._last_power[position]
            if last is not None:
                self._energy_j += (value + last[1]) / 2 * (t - last[0])
            self._last_power[position] = (t, value)

    def _fail(self, position: int, what: str, exc: GpuReadError) -> None:
        series = self._series[position]
        if type(exc) is GpuReadError:  # transient (TIMEOUT, UNKNOWN): the next due read tries again
            series.failures_in_a_row[what] += 1
            count = series.failures_in_a_row[what]
            if count < MAX_CONSECUTIVE_FAILURES:
                self.notes.append(f"{self._name(position)}: reading {what} failed, retried: {exc.message}")
                return
            self.errors.append(f"{self._name(position)}: reading {what} failed {count} times in a row: {exc.message}")
        else:
            self.errors.append(f"{self._name(position)}: reading {what} failed: {exc.message}")
        if isinstance(exc, (GpuLostError, GpuUnreachableError)):
            self._stop.set()
        else:  # e.g. permission: this reading is gone for this GPU, the others go on
            if what == "power":
                series.power_ok = False
            else:
                series.counter_ok = False

    def _name(self, position: int) -> str:
        gpu = self.devices[position]
        return f"GPU {gpu.index} ({gpu.name})"

    def _run(self) -> None:
        cpu0, wall0 = time.thread_time(), time.monotonic()
        next_at = self.clock()
        try:
            while not self._stop.is_set():
                self.step()
                next_at += self.power_period_s()
                delay = next_at - self.clock()
                if delay < 0:  # fell behind (slow reads): do not try to catch up in a burst
                    next_at = self.clock()
                    delay = 0.0
                self._stop.wait(delay)
        except BaseException as exc:  # an old pynvml, a binding mismatch, ctypes: never die silently
            self.errors.append(f"the GPU sampler thread failed: {type(exc).__name__}: {exc}")
            self._stop.set()
        finally:
            self.cpu_s += time.thread_time() - cpu0
            self.wall_s += time.monotonic() - wall0

    # --- control and results ----------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="green-gate-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            thread.join()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def cpu_fraction(self) -> float:
        """CPU time of the sampler thread as a fraction of one core over its wall time."""
        return self.cpu_s / self.wall_s if self.wall_s > 0 else 0.0

    def energy_so_far_j(self) -> float:
        """Running integral of power over all GPUs since the sampler started (for live progress)."""
        with self._lock:
            return self._energy_j

    def power_now_w(self) -> float:
        with self._lock:
            return sum(last[1] for last in self._last_power if last is not None)

    def recorded(self) -> tuple[tuple[float, float] | None, ...]:
        """Per GPU, the span (first, last) its readings cover so far: the counter's where it is read,
        else its power samples'; (inf, -inf) before the first; None for a GPU with nothing left to read."""
        spans: list[tuple[float, float] | None] = []
        with self._lock:
            for s in self._series:
                times = s.counter_t if s.counter_ok else s.power_t if s.power_ok else None
                if times is None:
                    spans.append(None)
                else:
                    spans.append((times[0], times[-1]) if times else (float("inf"), -float("inf")))
        return tuple(spans)

    def rates(self, t0_s: float, t1_s: float) -> tuple[tuple[float, float], ...]:
        """Per GPU over [t0, t1]: the power samples' achieved rate (Hz) and their largest gap (s)."""
        found = []
        with self._lock:
            for s in self._series:
                times = [t for t in s.power_t if t0_s <= t <= t1_s]
                if len(times) < 2:
                    found.append((0.0, t1_s - t0_s))
                    continue
                gaps = [b - a for a, b in pairwise(times)]
                edges = [times[0] - t0_s, t1_s - times[-1]]
                found.append(((len(times) - 1) / (times[-1] - times[0]), max(gaps + edges)))
        return tuple(found)

    def describe_costs(self) -> str:
        """The reads' measured costs and the thread's share of a core, for the reading's notes."""
        adapted = (
            f"; it read up to {self.slowest:.1f}x less often to stay within {CPU_BUDGET:.0%} of a core"
            if self.slowest > 1
            else ""
        )
        return (
            f"sampler reads: power {self.costs['power'].describe()}, energy counter "
            f"{self.costs['energy counter'].describe()}{adapted}"
        )

    def timelines(self) -> tuple[Timeline, ...]:
        """A consistent copy of every GPU's timeline so far (the thread keeps recording)."""
        reader = self.reader
        averaged = [
            isinstance(reader, AveragedPowerReader) and reader.power_averaged(i) for i in range(len(self._series))
        ]
        with self._lock:
            return tuple(
                Timeline(
                    counter_t_s=array("d", s.counter_t),
                    counter_mj=array("Q", s.counter_mj),
                    power_t_s=array("d", s.power_t),
                    power_w=array("d", s.power_w),
                    power_averaged=averaged[i],
                )
                for i, s in enumerate(self._series)
            )
