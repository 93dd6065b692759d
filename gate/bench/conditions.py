"""Read the runner's condition around each measured repeat (gate.devices.conditions holds the values).

Right before a repeat: the speed probe, then a snapshot of the machine's counters; during it, a
thread that counts the benchmark's threads; right after the benchmark's main process exits: a
snapshot, then the probe again. The probes never overlap the measured window, so they cost the
benchmark nothing but ~50 ms of wall time per repeat.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable, Mapping

from gate.devices import conditions, nvml, pressure, procstat
from gate.devices.conditions import GpuSample, ProbeTiming, RepeatConditions, Snapshot
from gate.errors import GateError

# Set to `off`, the runner reads no conditions: runs then carry none and are compared as runs by a
# gate that read none (on a host where even the ~50 ms probes per repeat are unwelcome).
CONDITIONS_ENV = "GREEN_GATE_RUNNER_CONDITIONS"
# The probe hashes this many bytes with SHA-256 (C code, one thread): 20-40 ms on a current x86 core.
PROBE_BYTES = 32 * 1024 * 1024
THREAD_SAMPLE_S = 0.1
_PROBE_DATA: bytes | None = None


def reads_conditions(env: Mapping[str, str]) -> bool:
    return env.get(CONDITIONS_ENV, "").strip().lower() != "off"


def probe(data_bytes: int = PROBE_BYTES) -> ProbeTiming:
    """Time a fixed piece of C work in this thread's CPU seconds and in wall seconds."""
    global _PROBE_DATA
    if _PROBE_DATA is None or len(_PROBE_DATA) != data_bytes:
        _PROBE_DATA = bytes(range(256)) * (data_bytes // 256)
    data = _PROBE_DATA
    cpu0, wall0 = time.thread_time(), time.perf_counter()
    hashlib.sha256(data).digest()
    cpu1, wall1 = time.thread_time(), time.perf_counter()
    return ProbeTiming(work_mb=len(data) / 1e6, cpu_s=cpu1 - cpu0, wall_s=wall1 - wall0)


def snapshot() -> Snapshot:
    return Snapshot(
        at_s=time.perf_counter(),
        cpu=procstat.machine_cpu_times(),
        stall=pressure.cpu_stall_totals(),
        cgroup_stall=pressure.cgroup_cpu_stall_totals(),
    )


class ThreadWatch:
    """Counts the threads of a process tree every THREAD_SAMPLE_S until stopped; keeps the most seen."""

    def __init__(
        self, interval_s: float = THREAD_SAMPLE_S, gpu_sample: Callable[[], tuple[GpuSample, ...]] | None = None
    ) -> None:
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._gpu_sample = gpu_sample
        self.threads_max: int | None = None
        self.pids: set[int] = {os.getpid()}  # the gate and every process of the benchmark's tree seen
        self.gpu_samples: list[GpuSample] = []

    def start(self, pid: int) -> None:
        self._thread = threading.Thread(target=self._run, args=(pid,), daemon=True, name="green-gate-threads")
        self._thread.start()

    def stop(self) -> int | None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        return self.threads_max

    def _run(self, pid: int) -> None:
        import psutil

        try:
            root = psutil.Process(pid)
        except psutil.Error:
            return
        while self._count(root):
            self._sample_gpus()
            if self._stop.wait(self._interval_s):
                return

    def _sample_gpus(self) -> None:
        if self._gpu_sample is None:
            return
        try:
            self.gpu_samples.extend(self._gpu_sample())
        except GateError:
            self._gpu_sample = None  # a GPU that stopped answering: the energy meter reports it

    def _count(self, root: object) -> bool:
        """Count once; False when the process is gone (nothing more to count)."""
        import psutil

        assert isinstance(root, psutil.Process)
        try:
            tree = [root, *root.children(recursive=True)]
        except psutil.Error:
            return False
        self.pids.update(proc.pid for proc in tree)
        total = 0
        for proc in tree:
            try:
                total += proc.num_threads()
            except psutil.Error:
                continue
        if total and (self.threads_max is None or total > self.threads_max):
            self.threads_max = total
        return True


class RepeatWatch:
    """The conditions of one measured repeat: `before()` ahead of the meter's start, `started(pid)`
    when the benchmark runs, `ended()` as its main process exits, `finish(...)` afterwards."""

    def __init__(
        self,
        env: Mapping[str, str],
        *,
        probe: Callable[[], ProbeTiming] = probe,
        snapshot: Callable[[], Snapshot] = snapshot,
        load_average: Callable[[], float | None] = pressure.load_average_1m,
        gpu_sampler: Callable[[Mapping[str, str]], nvml.ConditionSampler | None] = nvml.open_condition_sampler,
    ) -> None:
        self._probe = probe
        self._snapshot = snapshot
        self._load_average = load_average
        self._pinned = conditions.pinned(env)
        self._env = env
        self._open_gpu_sampler = gpu_sampler
        self._gpu: nvml.ConditionSampler | None = None
        self._threads = ThreadWatch()
        self._probes: list[ProbeTiming] = []
        self._before: Snapshot | None = None
        self._after: Snapshot | None = None
        self._load: float | None = None

    def before(self) -> None:
        self._gpu = self._open_gpu_sampler(self._env)
        if self._gpu is not None:
            self._threads = ThreadWatch(gpu_sample=self._gpu.sample)
        self._probes.append(self._probe())
        self._before = self._snapshot()

    def started(self, pid: int) -> None:
        self._threads.start(pid)

    def ended(self) -> None:
        self._after = self._snapshot()
        self._load = self._load_average()
        self.close()

    def close(self) -> None:
        """Stop watching and let NVML go; again is harmless (the runner calls it whatever happened)."""
        self._threads.stop()
        if self._gpu is not None:
            self._gpu.close()
            self._gpu = None

    def finish(self, benchmark_cpu_s: float, benchmark_wall_s: float) -> RepeatConditions | None:
        if self._before is None or self._after is None:
            return None
        self._probes.append(self._probe())
        return conditions.from_window(
            self._before,
            self._after,
            benchmark_cpu_s=benchmark_cpu_s,
            benchmark_wall_s=benchmark_wall_s,
            probes=self._probes,
            load_avg_1m=self._load,
            threads_max=self._threads.threads_max,
            cpus=os.cpu_count(),
            threads_pinned=self._pinned,
            gpus=conditions.gpu_conditions(self._threads.gpu_samples, frozenset(self._threads.pids)),
        )
