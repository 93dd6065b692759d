"""The CPU-only meter for process-attributed runs: no codecarbon tracker, the same figures."""

from __future__ import annotations

import pytest

from gate.config.budget import EnergySpec
from gate.devices import rapl
from gate.energy import codecarbon as energy_codecarbon
from gate.energy import meters
from gate.energy.cpu_attribution import CpuPower, attribute
from gate.energy.phased import PhaseMarkedMeter
from gate.energy.scopes import ScopedMeter


class Clock:
    def __init__(self, *times: float) -> None:
        self.times = list(times)

    def __call__(self) -> float:
        return self.times.pop(0)


def test_a_window_is_ram_model_power_times_its_wall_time_and_a_cpu_scope_to_charge() -> None:
    meter = energy_codecarbon.ModelMeter(clock=Clock(10.0, 12.5, 20.0, 21.0))
    meter.start()
    first = meter.stop()
    meter.start()
    second = meter.stop()
    ram_w = energy_codecarbon.ram_power_w()
    assert ram_w > 0
    assert first.duration_s == 2.5 and second.duration_s == 1.0
    assert [(s.scope, s.provenance) for s in first.scopes] == [("cpu", "estimated"), ("ram", "estimated")]
    assert first.scopes[1].energy_j == pytest.approx(ram_w * 2.5)
    assert first.scopes[1].method == "codecarbon RAM model (power from memory size)"


def test_its_ram_power_is_what_codecarbons_tracker_integrates() -> None:
    tracker = energy_codecarbon.new_tracker(gpu=False)
    tracker._ensure_hardware_ready()
    (ram,) = [hw for hw in tracker._hardware if type(hw).__name__ == "RAM"]
    assert energy_codecarbon.ram_power_w() == pytest.approx(ram.total_power().W)


def test_stop_without_start_is_an_error() -> None:
    from gate.errors import MeasurementError

    with pytest.raises(MeasurementError):
        energy_codecarbon.ModelMeter().stop()


def test_the_cpu_scope_is_the_process_trees_charge_once_attributed() -> None:
    meter = meters.CpuAttributedMeter(
        energy_codecarbon.ModelMeter(clock=Clock(0.0, 4.0)), "process", lambda: CpuPower(8.0, "default: x")
    )
    meter.start()
    reading = attribute(meter.stop(), 1.5)
    cpu = next(s for s in reading.scopes if s.scope == "cpu")
    assert cpu.energy_j == pytest.approx(12.0)
    assert cpu.method == "process CPU time × 8.00 W per thread (default: x)"
    assert cpu.attribution == "process"


def _inner(meter: object) -> object:
    assert isinstance(meter, meters.CpuAttributedMeter)
    phased = meter.meter
    assert isinstance(phased, PhaseMarkedMeter)
    phased.close()
    assert isinstance(phased.meter, ScopedMeter)
    return phased.meter.meter


def test_cpu_only_process_mode_without_rapl_measures_without_the_tracker(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_rapl() -> tuple[rapl.RaplDomain, ...]:
        raise rapl.RaplUnavailable("no RAPL here", hint="none")

    monkeypatch.setattr(rapl, "discover", no_rapl)
    chosen = meters.choose_meter(EnergySpec(cpu="process"), env={"CUDA_VISIBLE_DEVICES": ""}, log=print)
    assert isinstance(_inner(chosen), energy_codecarbon.ModelMeter)


def test_machine_mode_or_a_readable_rapl_keeps_codecarbons_tracker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rapl, "discover", lambda: ())
    machine = meters.choose_meter(EnergySpec(cpu="machine"), env={"CUDA_VISIBLE_DEVICES": ""}, log=print)
    with_rapl = meters.choose_meter(EnergySpec(cpu="process"), env={"CUDA_VISIBLE_DEVICES": ""}, log=print)
    assert isinstance(_inner(machine), energy_codecarbon.CodecarbonMeter)
    assert isinstance(_inner(with_rapl), energy_codecarbon.CodecarbonMeter)
