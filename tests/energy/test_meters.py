"""The meter wrapper that prepares CPU energy for the process tree, or labels it machine-wide."""

from __future__ import annotations

import pytest

from gate.energy.cpu_attribution import CpuPower, attribute
from gate.energy.meters import CpuAttributedMeter
from gate.energy.model import CpuWindow, EnergyReading, ScopeEnergy


class FixedMeter:
    def __init__(self) -> None:
        self.started = 0

    def start(self) -> None:
        self.started += 1

    def stop(self) -> EnergyReading:
        return EnergyReading(9.5, (ScopeEnergy("cpu", 266.0, "estimated", "codecarbon cpu_load model"),))

    def child_env(self) -> dict[str, str]:
        return {"GREEN_GATE_PHASES": "/x"}


class Ticks:
    """A clock and a /proc/stat counter that advance by fixed steps on each read."""

    def __init__(self, step: float) -> None:
        self.value = 0.0
        self.step = step

    def __call__(self) -> float:
        self.value += self.step
        return self.value


def test_process_mode_attaches_the_machines_cpu_time_and_power_over_the_window() -> None:
    looked_up = []

    def power() -> CpuPower:
        looked_up.append(1)
        return CpuPower(8.0, "default: x")

    meter = CpuAttributedMeter(FixedMeter(), "process", power, busy_s=Ticks(15.0), clock=Ticks(10.0))
    for _ in range(2):
        meter.start()
        reading = meter.stop()
    assert reading.cpu_window == CpuWindow(10.0, 15.0, 8.0, "default: x")
    assert looked_up == [1]  # the CPU model is looked up once, not per repeat
    assert attribute(reading, 2.0).scopes[0].energy_j == pytest.approx(16.0)


def test_without_proc_stat_the_machine_cpu_time_is_unknown() -> None:
    meter = CpuAttributedMeter(FixedMeter(), "process", lambda: CpuPower(8.0, "d"), busy_s=lambda: None)
    meter.start()
    window = meter.stop().cpu_window
    assert window is not None and window.machine_cpu_s is None


def test_machine_mode_labels_the_reading_and_attaches_nothing() -> None:
    def power() -> CpuPower:
        raise AssertionError("machine mode needs no CPU power lookup")

    meter = CpuAttributedMeter(FixedMeter(), "machine", power)
    meter.start()
    reading = meter.stop()
    assert reading.cpu_window is None
    assert reading.scopes[0].method == "machine-wide: codecarbon cpu_load model"
    assert reading.scopes[0].attribution == "machine"
    assert attribute(reading, 1.0) == reading


def test_the_benchmark_still_gets_the_inner_meters_environment() -> None:
    assert CpuAttributedMeter(FixedMeter(), "process", lambda: CpuPower(8.0, "d")).child_env() == {
        "GREEN_GATE_PHASES": "/x"
    }
