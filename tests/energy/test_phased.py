"""A CPU-only run split by the benchmark's phase marks (gate/energy/phased.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gate.energy.model import EnergyReading, ScopeEnergy
from gate.energy.phased import PhaseMarkedMeter, split
from gate.energy.phases import PhaseWindow, attribute
from gate.phase import PHASES_ENV, phase

CPU = ScopeEnergy("cpu", 40.0, "estimated", "codecarbon cpu model")
RAM = ScopeEnergy("ram", 20.0, "estimated", "codecarbon RAM model", gated=False)
WHOLE = EnergyReading(10.0, (CPU, RAM))


def _windows() -> tuple[PhaseWindow, ...]:
    return (
        PhaseWindow("test_a", 2.0, 3.0, 100, 1, 1.0, 1.8),
        PhaseWindow("test_b", 3.0, 6.0, 50, 1, 1.8, 4.2),
    )


def test_process_mode_keeps_cpu_for_the_tree_charge_and_scales_wall_time_models() -> None:
    out = split(WHOLE, attribute(_windows(), 0.0, 10.0), 10.0, "process")
    cpu, ram = out.scopes
    assert cpu.energy_j == 40.0 and ram.energy_j == pytest.approx(20.0 * 4.0 / 10.0)
    assert (out.duration_s, out.items, out.cpu_over_run) == (4.0, 150, True)
    assert out.phases_cpu_s == pytest.approx(3.2)
    assert [(p.name, p.items) for p in out.phases] == [("test_a", 100), ("test_b", 50)]
    assert [p.cpu_s for p in out.phases] == pytest.approx([0.8, 2.4])
    assert "phase 'test_a', 'test_b' (1 window)" in out.notes[-1]  # back to back: one window


def test_machine_mode_scales_cpu_by_the_phases_duration() -> None:
    out = split(WHOLE, attribute(_windows(), 0.0, 10.0), 10.0, "machine")
    assert out.scopes[0].energy_j == pytest.approx(16.0)
    assert out.phases_cpu_s is None and not out.cpu_over_run


class _Fixed:
    def start(self) -> None:
        pass

    def stop(self) -> EnergyReading:
        return WHOLE


def test_meter_gives_the_benchmark_a_phase_file_and_reads_it(monkeypatch: pytest.MonkeyPatch) -> None:
    meter = PhaseMarkedMeter(_Fixed(), None, "process")
    try:
        env = meter.child_env()
        meter.start()
        monkeypatch.setenv(PHASES_ENV, env[PHASES_ENV])
        for name in ("one", "two"):
            with phase(name, items=10):
                sum(range(10_000))
        out = meter.stop()
        assert [p.name for p in out.phases] == ["one", "two"] and out.items == 20
        path = Path(env[PHASES_ENV])
    finally:
        meter.close()
    assert not os.path.exists(path)


def test_without_marks_the_whole_run_is_measured() -> None:
    meter = PhaseMarkedMeter(_Fixed(), None, "process")
    try:
        meter.start()
        assert meter.stop() is WHOLE
    finally:
        meter.close()
