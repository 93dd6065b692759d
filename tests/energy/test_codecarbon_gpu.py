"""codecarbon beside the NVML engine: on a GPU run it estimates CPU/RAM and leaves NVML alone.

codecarbon is real here; only the driver behind its pynvml is the stand-in (tests/fakes/nvml.py), so
every NVML query codecarbon makes is counted by reading.
"""

from __future__ import annotations

import atexit
import time
from collections import Counter
from collections.abc import Iterator

import pytest

from gate.config.budget import EnergySpec
from gate.devices import rapl
from gate.energy import codecarbon as energy_codecarbon
from gate.energy import meters
from gate.energy.nvml_meter import EstimatedCpuRam, NvmlMeter
from tests.fakes.nvml import FakeDriver, h100, installed, seen_by_codecarbon

# Longer than codecarbon's 1 s monitor period (measure_power_secs=1), so its polling would show.
WINDOW_S = 1.3


@pytest.fixture
def driver(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeDriver]:
    """One H100 on the stand-in driver, seen by the gate and by codecarbon alike."""
    from codecarbon.core import hardware_cache

    fake = installed(monkeypatch, FakeDriver([h100("GPU-0a1b2c3d")], driver="580.65.06"))
    seen_by_codecarbon(monkeypatch, fake)
    hardware_cache.clear_cache()  # codecarbon keeps the hardware it found for the process
    yield fake
    hardware_cache.clear_cache()


def polled_during_a_window(meter: energy_codecarbon.CodecarbonMeter, driver: FakeDriver) -> Counter[str]:
    """NVML queries over the second of two windows (the first includes codecarbon's one-off set-up)."""
    meter.start()
    meter.stop()
    before = driver.reads.copy()
    meter.start()
    time.sleep(WINDOW_S)
    meter.stop()
    return driver.reads - before


def test_codecarbon_tracking_the_gpu_polls_its_counter_and_utilisation(driver: FakeDriver) -> None:
    """What the NVML engine must not have beside it (and the proof that codecarbon sees the stand-in)."""
    meter = energy_codecarbon.CodecarbonMeter()
    polled = polled_during_a_window(meter, driver)
    assert "gpu" in meter.describe()
    assert polled["energy_mj"] >= 2  # at the task's start and stop
    assert polled["utilization"] >= 1  # its 1 s monitor


def test_without_gpu_tracking_codecarbon_estimates_cpu_and_ram_and_never_reads_nvml(driver: FakeDriver) -> None:
    meter = energy_codecarbon.CodecarbonMeter(gpu=False)
    assert polled_during_a_window(meter, driver) == Counter()
    assert set(meter.describe()) == {"cpu", "ram"}
    meter.start()
    reading = meter.stop()
    assert {s.scope for s in reading.scopes} == {"cpu", "ram"}
    assert all(s.energy_j > 0 for s in reading.scopes)


def test_the_gpu_meter_gives_codecarbon_no_gpu_to_poll(driver: FakeDriver, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_rapl() -> object:
        raise rapl.RaplUnavailable("no powercap here", hint="-")

    monkeypatch.setattr(rapl, "discover", no_rapl)  # the estimate path, whatever this machine has
    chosen = meters.choose_meter(EnergySpec(idle_s=0, cpu="machine"), env={}, log=lambda _: None)
    nvml_meter = chosen.meter  # type: ignore[attr-defined]
    assert isinstance(nvml_meter, NvmlMeter)
    try:
        assert isinstance(nvml_meter.cpu_ram, EstimatedCpuRam)
        codecarbon_meter = nvml_meter.cpu_ram.meter
        assert isinstance(codecarbon_meter, energy_codecarbon.CodecarbonMeter)
        assert polled_during_a_window(codecarbon_meter, driver) == Counter()
    finally:
        nvml_meter.close()
        atexit.unregister(nvml_meter.close)  # choose_meter registered it for the gate's exit


def test_with_the_cpu_charged_to_the_process_tree_the_gpu_meter_estimates_cpu_ram_without_a_tracker(
    driver: FakeDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_rapl() -> object:
        raise rapl.RaplUnavailable("no powercap here", hint="-")

    monkeypatch.setattr(rapl, "discover", no_rapl)
    chosen = meters.choose_meter(EnergySpec(idle_s=0, cpu="process"), env={}, log=lambda _: None)
    nvml_meter = chosen.meter  # type: ignore[attr-defined]
    assert isinstance(nvml_meter, NvmlMeter)
    try:
        assert isinstance(nvml_meter.cpu_ram, EstimatedCpuRam)
        assert isinstance(nvml_meter.cpu_ram.meter, energy_codecarbon.ModelMeter)
    finally:
        nvml_meter.close()
        atexit.unregister(nvml_meter.close)  # choose_meter registered it for the gate's exit
