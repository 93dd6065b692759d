"""Choose the energy meter for this machine: the NVML engine when GPUs are visible, codecarbon otherwise.

Without a GPU, codecarbon measures CPU/RAM (with the budget's `energy.scopes` applied); where the CPU
is charged to the process tree and no RAPL counter is readable, codecarbon's models alone do, without
its tracker (gate.energy.codecarbon.ModelMeter). With GPUs, the NVML engine measures them; CPU comes
from RAPL where readable, otherwise an estimate, labelled `estimated`. Either way the CPU figure is
then charged to the benchmark's process tree (`energy.cpu: process`, gate.energy.cpu_attribution) or
kept machine-wide.
"""

from __future__ import annotations

import atexit
import time
from collections.abc import Callable, Mapping
from dataclasses import replace

from gate.config.budget import EnergySpec
from gate.devices import nvml, procstat
from gate.devices import rapl as cpu_rapl
from gate.energy import cpu_attribution
from gate.energy.cpu_attribution import CpuPower
from gate.energy.meter import ChildEnvMeter, EnergyMeter, GpuSelectingMeter
from gate.energy.model import CpuWindow, EnergyReading
from gate.energy.scopes import ScopedMeter
from gate.errors import ConfigError


class CpuAttributedMeter:
    """Any meter, its readings made ready for charging CPU to the process tree, or labelled machine-wide.

    In `process` mode stop() attaches what the machine's CPU did over the window (its busy CPU
    seconds, from /proc/stat) and the power per logical CPU; the runner, which knows the tree's CPU
    seconds, then calls gate.energy.cpu_attribution.attribute.
    """

    def __init__(
        self,
        meter: EnergyMeter,
        mode: str,
        power: Callable[[], CpuPower],
        *,
        busy_s: Callable[[], float | None] = procstat.machine_busy_s,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.meter = meter
        self.mode = mode
        self._power_source = power
        self._power: CpuPower | None = None
        self.busy_s = busy_s
        self.clock = clock
        self._start: tuple[float, float | None] | None = None

    def child_env(self) -> dict[str, str]:
        return self.meter.child_env() if isinstance(self.meter, ChildEnvMeter) else {}

    def select_gpus(self, env: Mapping[str, str]) -> None:
        if isinstance(self.meter, GpuSelectingMeter):
            self.meter.select_gpus(env)

    def start(self) -> None:
        if self.mode == "process" and self._power is None:
            self._power = self._power_source()  # once: the CPU model does not change between repeats
        self.meter.start()
        self._start = (self.clock(), self.busy_s())

    def stop(self) -> EnergyReading:
        reading = self.meter.stop()
        t1, busy1 = self.clock(), self.busy_s()
        started, self._start = self._start, None
        if self.mode != "process" or self._power is None or started is None:
            return cpu_attribution.machine_wide(reading)
        t0, busy0 = started
        machine_cpu_s = busy1 - busy0 if busy0 is not None and busy1 is not None else None
        window = CpuWindow(t1 - t0, machine_cpu_s, self._power.w_per_thread, self._power.source)
        return replace(reading, cpu_window=window)


def choose_meter(spec: EnergySpec, *, env: Mapping[str, str] | None, log: Callable[[str], None]) -> EnergyMeter:
    from gate.energy import codecarbon as energy_codecarbon  # heavy boundary, imported on use

    return CpuAttributedMeter(_energy_meter(spec, env=env, log=log), spec.cpu, energy_codecarbon.cpu_power)


def _energy_meter(spec: EnergySpec, *, env: Mapping[str, str] | None, log: Callable[[str], None]) -> EnergyMeter:
    from gate.energy import codecarbon as energy_codecarbon  # heavy boundary, imported on use

    if not nvml.visible_gpus(env):
        if spec.basis == "active":
            raise ConfigError(
                "energy.basis 'active' needs a GPU (idle power is measured on the GPU) and none is visible",
                hint="use basis: total on CPU runners, or run on a GPU runner",
                line=spec.line,
            )
        from gate.energy.phased import PhaseMarkedMeter

        phased = PhaseMarkedMeter(ScopedMeter(_cpu_only_meter(spec.cpu), spec.scopes, spec.line), spec.phases, spec.cpu)
        atexit.register(phased.close)
        return phased

    from gate.energy.nvml_meter import EstimatedCpuRam, NvmlMeter, RaplCpuRam
    from gate.energy.progress import Progress

    # The NVML engine measures the GPU: codecarbon only estimates CPU/RAM and must not poll NVML beside it;
    # where the CPU is charged to the process tree its model alone is enough (no tracker).
    cpu_ram_model = energy_codecarbon.ModelMeter() if spec.cpu == "process" else None
    estimate = EstimatedCpuRam(cpu_ram_model or energy_codecarbon.CodecarbonMeter(gpu=False))
    rapl = None
    try:
        rapl = cpu_rapl.RaplRecorder(cpu_rapl.discover())
        cpu_ram: RaplCpuRam | EstimatedCpuRam = RaplCpuRam(rapl, estimate if "ram" not in rapl.scopes else None)
    except cpu_rapl.RaplUnavailable as exc:
        log(f"CPU/RAM energy is estimated (codecarbon): {exc.message}. To measure it: {exc.hint}")
        cpu_ram = estimate
    reader = nvml.open_reader(env)
    nvml_meter = NvmlMeter(reader, spec, cpu_ram=cpu_ram, rapl=rapl, progress=Progress(), log=log)
    atexit.register(nvml_meter.close)  # the sampler records across repeats and benchmarks until the gate exits
    return nvml_meter


def _cpu_only_meter(cpu_mode: str) -> EnergyMeter:
    """Without a GPU: codecarbon's tracker where its reading is the figure (machine-wide CPU, or RAPL
    it measures); where the CPU is charged to the process tree and no counter is readable, the model
    alone (gate.energy.codecarbon.ModelMeter), without the tracker's set-up and per-window work."""
    from gate.energy import codecarbon as energy_codecarbon  # heavy boundary, imported on use

    if cpu_mode == "process":
        try:
            cpu_rapl.discover()
        except cpu_rapl.RaplUnavailable:
            return energy_codecarbon.ModelMeter()
    return energy_codecarbon.CodecarbonMeter()
