"""Phases on a run without a GPU timeline: the benchmark's marks (gate.phase) split a CPU-only run.

The codecarbon meter reads the machine over the whole run and has no timeline to cut windows from.
The marks carry what it lacks: their times give each phase's duration, and the CPU seconds of the
marking process at each mark give the CPU time spent inside each phase. So the measured energy is
the phases' alone, as on the NVML engine: the CPU figure charged on the CPU seconds inside the
phases (gate.energy.cpu_attribution), the wall-time models (RAM; CPU in `energy.cpu: machine` mode)
scaled to the phases' duration. Without any mark the whole run is measured.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from gate.energy.meter import EnergyMeter
from gate.energy.model import EnergyReading, PhaseEnergy, ScopeEnergy
from gate.energy.phases import Attribution, attribute, parse_phases
from gate.phase import PHASES_ENV


class PhaseMarkedMeter:
    """`meter` (whole-run CPU/RAM readings) with the benchmark's phases applied to what it read."""

    def __init__(self, meter: EnergyMeter, selected: tuple[str, ...] | None, cpu_mode: str) -> None:
        self.meter = meter
        self.selected = selected
        self.cpu_mode = cpu_mode
        self._dir = Path(tempfile.mkdtemp(prefix="green-gate-phases-"))
        self.phases_path = self._dir / "phases.jsonl"
        self._t0: float | None = None

    def child_env(self) -> dict[str, str]:
        return {PHASES_ENV: str(self.phases_path)}

    def start(self) -> None:
        self.phases_path.write_text("")
        self.meter.start()
        self._t0 = time.monotonic()

    def stop(self) -> EnergyReading:
        reading = self.meter.stop()
        t0, t1 = self._t0, time.monotonic()
        self._t0 = None
        text = self.phases_path.read_text() if self.phases_path.exists() else ""
        marks = parse_phases(text, time.time() - time.monotonic())
        if t0 is None or (not marks and self.selected is None):
            return reading
        return split(reading, attribute(marks, t0, t1, self.selected), t1 - t0, self.cpu_mode)

    def close(self) -> None:
        shutil.rmtree(self._dir, ignore_errors=True)


def split(reading: EnergyReading, attribution: Attribution, run_s: float, cpu_mode: str) -> EnergyReading:
    """`reading` (over the whole run of `run_s` seconds) restricted to the attributed phases. Pure."""
    share = min(attribution.duration_s / run_s, 1.0) if run_s > 0 else 1.0
    charged_by_cpu = cpu_mode == "process" and attribution.cpu_s is not None

    def scoped(scope: ScopeEnergy) -> ScopeEnergy:
        if scope.scope == "cpu" and charged_by_cpu:
            return scope  # charged on the phases' CPU seconds when the runner knows the tree's
        return replace(scope, energy_j=scope.energy_j * share)

    measured_s = attribution.duration_s
    phases: tuple[PhaseEnergy, ...] = ()
    if len(attribution.by_phase) >= 2:
        phases = tuple(
            PhaseEnergy(
                p.name, p.duration_s, p.items, 0.0, p.duration_s / measured_s if measured_s > 0 else 0.0, p.cpu_s
            )
            for p in attribution.by_phase
        )
    return replace(
        reading,
        duration_s=attribution.duration_s,
        scopes=tuple(scoped(s) for s in reading.scopes),
        items=attribution.items if attribution.items is not None else reading.items,
        notes=(*reading.notes, f"Energy measured over {attribution.describe()}."),
        phases=phases,
        phases_cpu_s=attribution.cpu_s if charged_by_cpu else None,
        cpu_over_run=charged_by_cpu,
    )
