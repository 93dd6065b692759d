"""The GPU energy meter: an EnergyMeter (start/stop) on the NVML engine, with CPU/RAM beside it.

On the first start() it starts the sampler and measures idle power for `energy.idle_s`; the sampler
then keeps recording across repeats, so every window has counter reads well before and after it
for calibration (gate.energy.timeline). stop() reads the benchmark's phase marks, attributes
energy to the measured phases (the whole run without marks), subtracts idle power when the budget
asks for `basis: active`, and adds CPU/RAM: RAPL where readable, else an estimate labelled so.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from gate.config.budget import EnergySpec
from gate.devices.gpu import GpuReader
from gate.devices.rapl import RaplRecorder
from gate.energy.meter import EnergyMeter
from gate.energy.model import EnergyReading, PhaseEnergy, ScopeEnergy
from gate.energy.phases import Attribution, attribute, parse_phases
from gate.energy.progress import Progress
from gate.energy.sampler import Hook, Sampler, SamplerConfig
from gate.energy.scopes import active_energy_j, apply_scopes, gated_scopes
from gate.energy.timeline import window_energy
from gate.errors import MeasurementError
from gate.phase import PHASES_ENV

Windows = tuple[tuple[float, float], ...]


class CpuRam(Protocol):
    """CPU and RAM energy for the measured windows of one run."""

    def start(self) -> None: ...

    def stop(self, attribution: Attribution, run_t0_s: float, run_t1_s: float) -> tuple[ScopeEnergy, ...]: ...


class RaplCpuRam:
    """Measured CPU (and DRAM, where the CPU exposes it) from RAPL, polled by the sampler's hook."""

    def __init__(self, recorder: RaplRecorder, estimate: CpuRam | None = None) -> None:
        self.recorder = recorder
        self.estimate = estimate  # RAM, when RAPL has no dram domain

    def start(self) -> None:
        if self.estimate is not None:
            self.estimate.start()

    def stop(self, attribution: Attribution, run_t0_s: float, run_t1_s: float) -> tuple[ScopeEnergy, ...]:
        scopes = [
            ScopeEnergy(
                scope,
                sum(self.recorder.window_j(scope, a, b) for a, b in attribution.windows),
                "measured",
                f"RAPL {'package' if scope == 'cpu' else 'DRAM'} counters",
            )
            for scope in self.recorder.scopes
        ]
        if self.estimate is not None:
            estimated = self.estimate.stop(attribution, run_t0_s, run_t1_s)
            scopes += [s for s in estimated if s.scope not in self.recorder.scopes]
        return tuple(scopes)


class EstimatedCpuRam:
    """codecarbon's CPU/RAM estimate over the whole run, scaled to the measured phases' share of it."""

    def __init__(self, meter: EnergyMeter) -> None:
        self.meter = meter

    def start(self) -> None:
        self.meter.start()

    def stop(self, attribution: Attribution, run_t0_s: float, run_t1_s: float) -> tuple[ScopeEnergy, ...]:
        reading = self.meter.stop()
        share = attribution.duration_s / (run_t1_s - run_t0_s) if run_t1_s > run_t0_s else 1.0
        scaled = " (scaled to the measured phases)" if attribution.phases else ""
        return tuple(
            ScopeEnergy(s.scope, s.energy_j * share, s.provenance, s.method + scaled)
            for s in reading.scopes
            if s.scope in ("cpu", "ram")
        )


class NvmlMeter:
    def __init__(
        self,
        reader: GpuReader,
        spec: EnergySpec,
        *,
        cpu_ram: CpuRam | None = None,
        rapl: RaplRecorder | None = None,
        progress: Progress | None = None,
        log: Callable[[str], None] = lambda _: None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        sampler: Sampler | None = None,
    ) -> None:
        self.reader = reader
        self.spec = spec
        self.cpu_ram = cpu_ram
        self.progress = progress
        self.log = log
        self.clock = clock
        self.sleep = sleep
        hooks: list[Hook] = []
        if rapl is not None:
            hooks.append(rapl.poll)
        if progress is not None:
            hooks.append(self._show_progress)
        self.sampler = sampler or Sampler(reader, SamplerConfig(power_hz=spec.sample_hz), clock=clock)
        self.sampler.hooks.extend(hooks)
        self.idle_power_w: tuple[float, ...] | None = None
        self._dir = Path(tempfile.mkdtemp(prefix="green-gate-phases-"))
        self.phases_path = self._dir / "phases.jsonl"
        self._t0: float | None = None
        self._energy_at_start_j = 0.0

    def child_env(self) -> dict[str, str]:
        return {PHASES_ENV: str(self.phases_path)}

    def start(self) -> None:
        if not self.sampler.running:
            self.sampler.start()
        if self.idle_power_w is None:
            self.idle_power_w = self._measure_idle()
        self.phases_path.write_text("")
        if self.cpu_ram is not None:
            self.cpu_ram.start()
        self._energy_at_start_j = self.sampler.energy_so_far_j()
        self._t0 = self.clock()

    def _measure_idle(self) -> tuple[float, ...]:
        if self.spec.idle_s <= 0:
            return ()
        t0 = self.clock()
        self.sleep(self.spec.idle_s)
        t1 = self.clock()
        timelines = self.sampler.timelines()
        idle = tuple(window_energy(tl, t0, t1, what=self._name(i)).mean_power_w for i, tl in enumerate(timelines))
        self.log("GPU idle power before the run: " + ", ".join(f"{w:.1f} W" for w in idle))
        return idle

    def _show_progress(self, now: float) -> None:
        if self._t0 is not None and self.progress is not None:
            energy = self.sampler.energy_so_far_j() - self._energy_at_start_j
            self.progress.update("GPU", now - self._t0, self.sampler.power_now_w(), energy)

    def _name(self, position: int) -> str:
        gpu = self.sampler.devices[position]
        return f"GPU {gpu.index} ({gpu.name})"

    def stop(self) -> EnergyReading:
        t0, t1 = self._t0, self.clock()
        if t0 is None:
            raise MeasurementError("stop() without start()")
        self._t0 = None
        if self.progress is not None:
            self.progress.finish()
        if self.sampler.errors and not self.sampler.running:
            raise MeasurementError(
                "the GPU sampler stopped: " + "; ".join(self.sampler.errors),
                hint="check the GPU with `nvidia-smi`; the run was not measured",
            )
        text = self.phases_path.read_text() if self.phases_path.exists() else ""
        attribution = attribute(parse_phases(text), t0, t1, self.spec.phases)
        gpu = self._gpu_scope(attribution.windows)
        scopes = [gpu]
        if self.cpu_ram is not None:
            scopes += self.cpu_ram.stop(attribution, t0, t1)
        reading = EnergyReading(
            duration_s=attribution.duration_s,
            scopes=tuple(scopes),
            items=attribution.items,
            notes=(f"Energy measured over {attribution.describe()}.", *self.sampler.notes),
            phases=self._phases(attribution),
        )
        return apply_scopes(reading, gated_scopes((s.scope for s in scopes), self.spec.scopes, line=self.spec.line))

    def _phases(self, attribution: Attribution) -> tuple[PhaseEnergy, ...]:
        """Each measured phase apart, when there are several: prefill and decode cost differently per item."""
        if len(attribution.by_phase) < 2:
            return ()
        measured_s = attribution.duration_s
        return tuple(
            PhaseEnergy(
                share.name,
                share.duration_s,
                share.items,
                self._gpu_scope(share.windows).energy_j,
                share.duration_s / measured_s if measured_s > 0 else 0.0,
            )
            for share in attribution.by_phase
        )

    def _gpu_scope(self, windows: Windows) -> ScopeEnergy:
        total_j = 0.0
        methods = set()
        active = self.spec.basis == "active"
        for position, timeline in enumerate(self.sampler.timelines()):
            for a, b in windows:
                result = window_energy(timeline.around(a, b), a, b, what=self._name(position))
                methods.add(result.method)
                energy = result.energy_j
                if active:
                    idle = self.idle_power_w or ()
                    energy = active_energy_j(energy, idle[position] if position < len(idle) else 0.0, b - a)
                total_j += energy
        count = len(self.sampler.devices)
        basis = "; above idle " + "+".join(f"{w:.0f} W" for w in self.idle_power_w or ()) if active else ""
        method = f"{count} GPU{'s' if count > 1 else ''}: {' / '.join(sorted(methods))}{basis}"
        return ScopeEnergy("gpu", total_j, "measured", method)

    def close(self) -> None:
        self.sampler.stop()
        shutil.rmtree(self._dir, ignore_errors=True)
        close_reader = getattr(self.reader, "close", None)
        if callable(close_reader):
            close_reader()
