"""Choose the energy meter for this machine: the NVML engine when GPUs are visible, codecarbon otherwise.

Without a GPU, codecarbon measures CPU/RAM (with the budget's `energy.scopes` applied when it
names them). With GPUs, the NVML engine measures them; CPU comes
from RAPL where readable, otherwise codecarbon's estimate, labelled `estimated`.
"""

from __future__ import annotations

import atexit
from collections.abc import Callable, Mapping

from gate.config.budget import EnergySpec
from gate.devices import nvml
from gate.devices import rapl as cpu_rapl
from gate.energy.meter import EnergyMeter
from gate.energy.scopes import ScopedMeter
from gate.errors import ConfigError


def choose_meter(spec: EnergySpec, *, env: Mapping[str, str] | None, log: Callable[[str], None]) -> EnergyMeter:
    from gate.energy import codecarbon as energy_codecarbon  # heavy boundary, imported on use

    if not nvml.visible_gpus(env):
        if spec.basis == "active":
            raise ConfigError(
                "energy.basis 'active' needs a GPU (idle power is measured on the GPU) and none is visible",
                hint="use basis: total on CPU runners, or run on a GPU runner",
                line=spec.line,
            )
        if spec.phases is not None:
            log("warning: energy.phases applies to GPU runs (NVML engine); this CPU run measures the whole benchmark")
        meter: EnergyMeter = energy_codecarbon.CodecarbonMeter()
        return meter if spec.scopes is None else ScopedMeter(meter, spec.scopes, spec.line)

    from gate.energy.nvml_meter import EstimatedCpuRam, NvmlMeter, RaplCpuRam
    from gate.energy.progress import Progress

    estimate = EstimatedCpuRam(energy_codecarbon.CodecarbonMeter())
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
