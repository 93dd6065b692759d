"""A stand-in for the NVIDIA driver behind pynvml: pynvml's own error type, codes and field-value struct,
with the C library replaced by GPUs described in plain data. How the NVML boundary behaves on the driver
versions and GPUs a test machine does not have."""

from __future__ import annotations

import math
import sys
import time
import types
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import pynvml
import pytest


class _LibraryMismatch(Exception):
    """Where the installed nvidia-ml-py predates NVMLLibraryMismatchError (the floor, 12.535.108)."""


class FakeDriver(types.ModuleType):
    """NVML as pynvml exposes it, for GPUs described by `gpus` (name, uuid, readings or errors to raise).

    A module, so that `installed` can stand it in for pynvml itself; `init_error` is the NVML code
    nvmlInit fails with (no driver, driver not loaded), None when it succeeds.
    """

    NVMLError = pynvml.NVMLError
    # What nvidia-ml-py's throwOnVersionMismatch raises from the process-list calls on an old driver:
    # an Exception, not an NVMLError.
    NVMLLibraryMismatchError = getattr(pynvml, "NVMLLibraryMismatchError", _LibraryMismatch)
    NVMLError_NotSupported = pynvml.NVMLError_NotSupported  # codecarbon catches it around memory info
    c_nvmlMemory_t = pynvml.c_nvmlMemory_t

    def __init__(self, gpus: list[dict[str, object]], driver: str = "470.256.02", *, init_error: int | None = None):
        super().__init__("pynvml")
        self.gpus = gpus
        self.driver = driver
        self.init_error = init_error
        self.sessions = 0  # nvmlInit calls not yet matched by nvmlShutdown
        self.field_calls = 0
        self.reads: Counter[str] = Counter()  # per-GPU queries by reading ("energy_mj", "utilization", ...)
        for name in dir(pynvml):
            if name.startswith(("NVML_ERROR_", "NVML_FI_", "NVML_SUCCESS", "NVML_TEMPERATURE_")):
                setattr(self, name, getattr(pynvml, name))

    def _get(self, handle: int, key: str) -> object:
        self.reads[key] += 1
        faults = self.gpus[handle].get("faults")
        if isinstance(faults, dict) and faults.get(key):
            raise pynvml.NVMLError(faults[key].pop(0))  # one queued transient error (TIMEOUT, UNKNOWN), then normal
        value = self.gpus[handle].get(key)
        if isinstance(value, Scripted):
            value = value.next()
        if isinstance(value, Exception):
            raise value
        return value

    def nvmlInit(self) -> None:
        if self.init_error is not None:
            raise pynvml.NVMLError(self.init_error)
        self.sessions += 1

    def nvmlShutdown(self) -> None:
        self.sessions -= 1

    def nvmlSystemGetDriverVersion(self) -> str:
        return self.driver

    def nvmlDeviceGetCount(self) -> int:
        return len(self.gpus)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> int:
        self._get(index, "open")  # an error here: a device NVML counts but refuses (cgroup, Slurm)
        return index

    def nvmlDeviceGetName(self, handle: int) -> object:
        return self._get(handle, "name")

    def nvmlDeviceGetUUID(self, handle: int | str) -> object:
        if isinstance(handle, str):  # a MIG handle
            return handle
        return self._get(handle, "uuid")

    def nvmlDeviceGetEnforcedPowerLimit(self, handle: int) -> object:
        return self._get(handle, "limit_mw")

    def nvmlDeviceGetMigMode(self, handle: int) -> object:
        return self._get(handle, "mig")

    def nvmlDeviceGetMaxMigDeviceCount(self, handle: int) -> int:
        return len(self._get(handle, "mig_slots"))  # type: ignore[arg-type]

    def nvmlDeviceGetMigDeviceHandleByIndex(self, handle: int, slot: int) -> str:
        uuid = self._get(handle, "mig_slots")[slot]  # type: ignore[index]
        if uuid is None:
            raise pynvml.NVMLError(pynvml.NVML_ERROR_NOT_FOUND)
        return str(uuid)

    def nvmlDeviceGetComputeRunningProcesses(self, handle: int) -> object:
        procs = self._get(handle, "compute")
        board = self._board(handle)
        if board is None or not isinstance(procs, list):
            return procs
        return [*procs, *(Proc(pid) for pid in board.pids_at(board.clock()))]  # tenants started by now

    def nvmlDeviceGetGraphicsRunningProcesses(self, handle: int) -> object:
        return self._get(handle, "graphics")

    def _board(self, handle: int) -> Board | None:
        board = self.gpus[handle].get("board")
        return board if isinstance(board, Board) else None

    def nvmlDeviceGetTotalEnergyConsumption(self, handle: int) -> object:
        value = self._get(handle, "energy_mj")
        board = self._board(handle)
        if board is None:
            return value
        board.check()
        return board.counter_mj()

    def nvmlDeviceGetPowerUsage(self, handle: int) -> object:
        value = self._get(handle, "average_mw")
        board = self._board(handle)
        if board is None:
            return value
        board.check()
        return board.average_mw()

    def nvmlDeviceGetTemperature(self, handle: int, sensor: int) -> object:
        """Deprecated in nvidia-ml-py 13 and to be removed in CUDA 14: `temperature_legacy` says how it fails."""
        self._get(handle, "temperature_legacy")
        return self._get(handle, "temperature_c")

    def nvmlDeviceGetTemperatureV(self, handle: int, sensor: int) -> object:
        self._get(handle, "temperature_v")  # an error here: a driver older than the versioned call
        return self._get(handle, "temperature_c")

    def nvmlDeviceGetMemoryInfo(self, handle: int) -> object:
        total = self._get(handle, "memory_b")
        total = total if isinstance(total, int) else 80 * 2**30
        return pynvml.c_nvmlMemory_t(total, total, 0)

    def nvmlDeviceGetUtilizationRates(self, handle: int) -> object:
        busy = self._get(handle, "utilization")
        return types.SimpleNamespace(gpu=busy if isinstance(busy, int) else 0, memory=0)

    def nvmlDeviceGetComputeMode(self, handle: int) -> object:
        mode = self._get(handle, "compute_mode")
        return mode if isinstance(mode, int) else 0

    def nvmlDeviceGetFieldValues(self, handle: int, field_ids: list[int]) -> object:
        self.field_calls += 1
        instant = self._get(handle, "instant")
        board = self._board(handle)
        values = (pynvml.c_nvmlFieldValue_t * len(field_ids))()
        values[0].fieldId = field_ids[0]
        if board is not None:
            board.check()
        if board is not None and isinstance(instant, int) and instant >= 0:
            instant, values[0].timestamp = board.instant_sample()
            values[0].latencyUsec = 0
        field_errors = self.gpus[handle].get("instant_field_errors")
        code = field_errors.pop(0) if isinstance(field_errors, list) and field_errors else None
        if code is not None and code != pynvml.NVML_SUCCESS:  # per-field codes, one per call, then success
            values[0].nvmlReturn = code
        elif isinstance(instant, int) and instant >= 0:
            values[0].nvmlReturn = pynvml.NVML_SUCCESS
            values[0].valueType = pynvml.NVML_VALUE_TYPE_UNSIGNED_INT  # what the hardware answers (mW)
            values[0].value.uiVal = instant
        else:
            values[0].nvmlReturn = pynvml.NVML_ERROR_NOT_SUPPORTED
        return values

    # --- the GPU's condition: clocks, clock-event (throttle) reasons --------------------------------

    def nvmlDeviceGetClockInfo(self, handle: int, clock_type: int) -> object:
        """`sm_clock_mhz` / `memory_clock_mhz`: a number, or Scripted to drop the clocks mid-run."""
        key = "sm_clock_mhz" if clock_type == 1 else "memory_clock_mhz"
        value = self._get(handle, key)
        default = 1980 if clock_type == 1 else 2619  # an H100 SXM at full clocks
        return value if isinstance(value, int) else default

    def nvmlDeviceGetCurrentClocksEventReasons(self, handle: int) -> object:
        """`clock_events`: NVML's bitmask (0x4 power cap, 0x20 / 0x40 thermal, 0x8 hardware slowdown…),
        or Scripted to throttle part of a run; an older driver lacks the call (`clock_events_v`)."""
        self._get(handle, "clock_events_v")
        value = self._get(handle, "clock_events")
        return value if isinstance(value, int) else 0

    def nvmlDeviceGetCurrentClocksThrottleReasons(self, handle: int) -> object:
        value = self._get(handle, "clock_events")
        return value if isinstance(value, int) else 0


class Scripted:
    """A reading that changes from one query to the next (a GPU that throttles, drops its clocks, or
    that a tenant starts using mid-run): the values in order, then the last one for good."""

    def __init__(self, *values: object) -> None:
        self.values = list(values)
        self.calls = 0

    def next(self) -> object:
        value = self.values[min(self.calls, len(self.values) - 1)]
        self.calls += 1
        return value


class Live(Scripted):
    """A reading computed at each query (e.g. power-capped while a benchmark holds a file open)."""

    def __init__(self, read: Callable[[], object]) -> None:
        super().__init__(None)
        self.read = read

    def next(self) -> object:
        self.calls += 1
        return self.read()


def installed(monkeypatch: pytest.MonkeyPatch, driver: FakeDriver) -> FakeDriver:
    """`driver` as the pynvml that gate.devices.nvml imports (it imports pynvml where it uses it)."""
    monkeypatch.setitem(sys.modules, "pynvml", driver)
    return driver


def seen_by_codecarbon(monkeypatch: pytest.MonkeyPatch, driver: FakeDriver) -> FakeDriver:
    """`driver` as the pynvml codecarbon reads, too (it binds pynvml, and whether it initialised, on import).

    Call `codecarbon.core.hardware_cache.clear_cache()` before and after: codecarbon keeps the
    hardware it found for the rest of the process."""
    from codecarbon.core import gpu, gpu_nvidia

    monkeypatch.setattr(gpu_nvidia, "pynvml", driver)
    monkeypatch.setattr(gpu_nvidia, "PYNVML_AVAILABLE", True)
    monkeypatch.setattr(gpu, "PYNVML_AVAILABLE", True)
    monkeypatch.setattr(gpu, "is_nvidia_system", lambda: True)  # it asks `nvidia-smi --help`
    return driver


def nvml_error(code: int) -> pynvml.NVMLError:
    return pynvml.NVMLError(code)


class Proc:
    """An entry of nvmlDeviceGet*RunningProcesses."""

    def __init__(self, pid: int) -> None:
        self.pid = pid


def h100(uuid: str, **overrides: object) -> dict[str, object]:
    """An idle H100 on a recent driver: every reading answers; `overrides` replace readings or raise."""
    gpu: dict[str, object] = {
        "name": "NVIDIA H100 80GB HBM3", "uuid": uuid, "limit_mw": 700_000, "mig": [0, 0], "mig_slots": [],
        "compute": [], "graphics": [], "energy_mj": 1_000_000, "average_mw": 120_500, "instant": 130_250,
        "temperature_c": 41,
    }  # fmt: skip
    gpu.update(overrides)
    return gpu


# --- the hardware behind the readings -------------------------------------------------------------


class SimClock:
    """A fake monotonic clock that the test and the simulated reads advance."""

    def __init__(self, now_s: float = 0.0) -> None:
        self.now_s = now_s

    def __call__(self) -> float:
        return self.now_s

    def advance(self, seconds: float) -> None:
        self.now_s += seconds


class Board:
    """One GPU's power as the hardware reports it, from a true power curve `power_w(t)` (t on `clock`).

    What NVIDIA documents and what was measured on an H100 VM (docs/measurement.md), with what has not
    been measured yet as settings a test chooses:
    - the energy counter (mJ) updates every `tick_s` (~100 ms), each tick up to `tick_jitter_s` late
      (seeded by `seed`), at a phase set by `origin_s`; a tick's value becomes readable only
      `counter_latency_s` after it (the driver's reporting latency); one read costs
      `counter_read_s` (~4 ms) on the clock and returns the latest readable tick's value;
    - `nvmlDeviceGetPowerUsage` is a trailing `average_s` (1 s) mean on Ampere and newer;
    - the instant field (NVML_FI_DEV_POWER_INSTANT) is the power `instant_lag_s` ago, refreshed every
      `instant_period_s` (0: continuously), with its `timestamp` saying so, as an unsigned int
      (`valueType` 1); one power read of either kind costs `power_read_s`;
    - the power sensor reads `power_gain` x true power + `power_offset_w` (the counter is exact);
    - `tenants`: other processes that start on the GPU mid-run, adding their power and appearing in
      the process lists from their start;
    - `lost_at_s`: from then on every read fails with `lost_code` (GPU_IS_LOST, RESET_REQUIRED).
    Energy is integrated on a `resolution_s` grid, extended as time goes on.
    """

    def __init__(
        self,
        power_w: Callable[[float], float],
        clock: Callable[[], float],
        *,
        advance: Callable[[float], None] | None = None,
        tick_s: float = 0.1,
        counter_read_s: float = 0.004,
        average_s: float = 1.0,
        origin_s: float | None = None,
        resolution_s: float = 0.001,
        counter_offset_mj: int = 987_654_321,
        instant_lag_s: float = 0.0,
        instant_period_s: float = 0.0,
        counter_latency_s: float = 0.0,
        tick_jitter_s: float = 0.0,
        power_read_s: float = 0.0,
        power_gain: float = 1.0,
        power_offset_w: float = 0.0,
        tenants: tuple[Tenant, ...] = (),
        lost_at_s: float | None = None,
        lost_code: int = pynvml.NVML_ERROR_GPU_IS_LOST,
        seed: int = 0,
    ) -> None:
        self.true_power_w = power_w
        self.clock = clock
        # A fake clock is advanced by the read's cost; the real one passes while the read sleeps.
        self.advance = advance if advance is not None else time.sleep
        self.tick_s = tick_s
        self.counter_read_s = counter_read_s
        self.average_s = average_s
        self.origin_s = clock() - 2 * average_s if origin_s is None else origin_s
        self.resolution_s = resolution_s
        self.counter_offset_mj = counter_offset_mj
        self.instant_lag_s = instant_lag_s
        self.instant_period_s = instant_period_s
        self.counter_latency_s = counter_latency_s
        self.tick_jitter_s = tick_jitter_s
        self.power_read_s = power_read_s
        self.power_gain = power_gain
        self.power_offset_w = power_offset_w
        self.tenants = tenants
        self.lost_at_s = lost_at_s
        self.lost_code = lost_code
        self.seed = seed
        self.wall_offset_s = time.time() - clock()  # `clock` time -> wall time, for the field's timestamp
        self._cumulative_j = [0.0]

    def power_w(self, t: float) -> float:
        """True board power at t: the benchmark's curve and any tenant running then."""
        return self.true_power_w(t) + sum(tenant.watts for tenant in self.tenants if t >= tenant.start_s)

    def pids_at(self, t: float) -> list[int]:
        return [tenant.pid for tenant in self.tenants if t >= tenant.start_s]

    def check(self) -> None:
        """Raise the lost GPU's error once it is lost."""
        if self.lost_at_s is not None and self.clock() >= self.lost_at_s:
            raise pynvml.NVMLError(self.lost_code)

    def energy_j(self, t: float) -> float:
        """True energy from the origin to t."""
        steps = (t - self.origin_s) / self.resolution_s
        n = max(int(steps), 0)
        cumulative = self._cumulative_j
        while len(cumulative) <= n + 1:
            k = len(cumulative) - 1
            middle = self.origin_s + (k + 0.5) * self.resolution_s
            cumulative.append(cumulative[-1] + self.power_w(middle) * self.resolution_s)
        fraction = min(max(steps - n, 0.0), 1.0)
        return cumulative[n] + (cumulative[n + 1] - cumulative[n]) * fraction

    def tick_time(self, n: int) -> float:
        """When tick n happened: on the tick grid, up to `tick_jitter_s` late (the same every time asked)."""
        late = 0.0
        if self.tick_jitter_s > 0:
            late = self.tick_jitter_s * (((n * 2654435761 + self.seed * 40503) % 1000003) / 1000003)
        return self.origin_s + n * self.tick_s + late

    def counter_mj(self) -> int:
        self.advance(self.counter_read_s)
        return self.counter_mj_at(self.clock())

    def counter_mj_at(self, t: float) -> int:
        """What a counter read ending at t returns: the value of the latest tick readable by then."""
        visible = t - self.counter_latency_s
        n = math.floor((visible - self.origin_s) / self.tick_s)
        while n > 0 and self.tick_time(n) > visible:  # this tick came late: not there yet
            n -= 1
        return self.counter_offset_mj + math.floor(self.energy_j(self.tick_time(n)) * 1000)

    def sensed_w(self, watts: float) -> float:
        return self.power_gain * watts + self.power_offset_w

    def average_mw(self) -> int:
        self.advance(self.power_read_s)
        now = self.clock()
        true_w = (self.energy_j(now) - self.energy_j(now - self.average_s)) / self.average_s
        return round(self.sensed_w(true_w) * 1000)

    def instant_mw(self) -> int:
        return self.instant_sample()[0]

    def instant_sample(self) -> tuple[int, int]:
        """The instant field: (mW, its sample's time in µs since 1970, as NVML's `timestamp`).

        The power `instant_lag_s` ago, sampled every `instant_period_s` (0: continuously): what
        nobody has measured yet (docs/measurement.md, item 21), so a test can set it."""
        self.advance(self.power_read_s)
        t = self.clock() - self.instant_lag_s
        if self.instant_period_s > 0:
            t = self.origin_s + math.floor((t - self.origin_s) / self.instant_period_s) * self.instant_period_s
        return round(self.sensed_w(self.power_w(t)) * 1000), round((t + self.wall_offset_s) * 1e6)


@dataclass(frozen=True)
class Tenant:
    """Another job's process that starts on the GPU at `start_s` and draws `watts` from then on."""

    pid: int
    start_s: float
    watts: float


def cooling_idle(floor_w: float, hot_w: float, since_s: float, tau_s: float) -> Callable[[float], float]:
    """Idle power after a CUDA process exited at `since_s`: from `hot_w` down to `floor_w`, time constant `tau_s`."""

    def power_w(t: float) -> float:
        if t < since_s:
            return hot_w
        return floor_w + (hot_w - floor_w) * math.exp(-(t - since_s) / tau_s)

    return power_w


def steps(*levels: tuple[float, float]) -> Callable[[float], float]:
    """Piecewise-constant power: `(from_s, watts)` pairs in time order."""

    def power_w(t: float) -> float:
        watts = levels[0][1]
        for start, level in levels:
            if t >= start:
                watts = level
        return watts

    return power_w


class CudaQueue:
    """A GPU's stream: `launch` returns at once while the work runs later, back to back, as CUDA's does.

    `power_w` (a Board's true power) is `work_w` while queued work runs, `idle_w` otherwise;
    `synchronize` waits until the queue is empty, like torch.cuda.synchronize."""

    def __init__(self, clock: Callable[[], float], idle_w: float, *, wait: Callable[[float], None] = time.sleep):
        self.clock = clock
        self.idle_w = idle_w
        self.wait = wait
        self.work: list[tuple[float, float, float]] = []  # (start, end, watts)

    def launch(self, duration_s: float, work_w: float) -> None:
        start = max(self.clock(), self.work[-1][1] if self.work else -math.inf)
        self.work.append((start, start + duration_s, work_w))

    def power_w(self, t: float) -> float:
        for start, end, watts in self.work:
            if start <= t < end:
                return watts
        return self.idle_w

    def synchronize(self) -> None:
        if self.work:
            self.wait(max(self.work[-1][1] - self.clock(), 0.0))

    def as_torch(self) -> types.ModuleType:
        """A stand-in `torch` module whose CUDA is initialised and synchronizes this queue."""
        torch = types.ModuleType("torch")
        torch.cuda = types.SimpleNamespace(  # type: ignore[attr-defined]
            is_available=lambda: True,
            is_initialized=lambda: True,
            current_device=lambda: 0,
            device_count=lambda: 1,
            memory_reserved=lambda device=0: 1 << 20,
            synchronize=lambda device=None: self.synchronize(),
        )
        return torch
