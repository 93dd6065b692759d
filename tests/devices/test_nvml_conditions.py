"""The GPUs' condition sampled through NVML on the stand-in driver: clocks, throttle reasons, tenants."""

from __future__ import annotations

import pynvml
import pytest

from gate.devices import nvml
from gate.devices.nvml import ConditionSampler
from tests.fakes.nvml import FakeDriver, Proc, Scripted, h100, installed, nvml_error

POWER_CAP, THERMAL = 0x4, 0x20


def test_a_sample_reads_clocks_reasons_temperature_limit_and_processes() -> None:
    gpu = h100("GPU-a", sm_clock_mhz=1755, memory_clock_mhz=2619, clock_events=POWER_CAP | 0x10, compute=[Proc(77)])
    (sample,) = ConditionSampler({}, nvml=FakeDriver([gpu])).sample()
    assert (sample.uuid, sample.sm_clock_mhz, sample.memory_clock_mhz) == ("GPU-a", 1755.0, 2619.0)
    assert sample.reasons == {"power-capped", "sync boost"}
    assert (sample.temperature_c, sample.power_limit_w, sample.pids) == (41.0, 700.0, frozenset({77}))


def test_the_clocks_drop_and_a_throttle_starts_mid_run() -> None:
    gpu = h100("GPU-a", sm_clock_mhz=Scripted(1980, 1980, 1410), clock_events=Scripted(0, 0, THERMAL))
    sampler = ConditionSampler({}, nvml=FakeDriver([gpu]))
    samples = [sampler.sample()[0] for _ in range(3)]
    assert [s.sm_clock_mhz for s in samples] == [1980.0, 1980.0, 1410.0]
    assert [s.reasons for s in samples] == [frozenset(), frozenset(), {"thermal slowdown"}]


def test_a_tenant_appears_mid_run() -> None:
    gpu = h100("GPU-a", compute=Scripted([], [], [Proc(4242)]))
    sampler = ConditionSampler({}, nvml=FakeDriver([gpu]))  # opening lists the processes once: []
    assert [s[0].pids for s in (sampler.sample(), sampler.sample())] == [frozenset(), {4242}]


def test_an_older_driver_answers_through_the_throttle_reasons_call() -> None:
    missing = nvml_error(pynvml.NVML_ERROR_FUNCTION_NOT_FOUND)
    gpu = h100("GPU-a", clock_events_v=missing, clock_events=POWER_CAP)
    (sample,) = ConditionSampler({}, nvml=FakeDriver([gpu])).sample()
    assert sample.reasons == {"power-capped"}


def test_readings_a_gpu_lacks_are_none() -> None:
    unsupported = nvml_error(pynvml.NVML_ERROR_NOT_SUPPORTED)
    gpu = h100("GPU-a", sm_clock_mhz=unsupported, clock_events=unsupported, temperature_c=unsupported)
    (sample,) = ConditionSampler({}, nvml=FakeDriver([gpu])).sample()
    assert (sample.sm_clock_mhz, sample.temperature_c, sample.reasons) == (None, None, frozenset())


def test_only_the_benchmarks_gpus_are_sampled() -> None:
    driver = FakeDriver([h100("GPU-a"), h100("GPU-b")])
    assert [s.uuid for s in ConditionSampler({"CUDA_VISIBLE_DEVICES": "1"}, nvml=driver).sample()] == ["GPU-b"]


def test_no_sampler_without_nvml_or_gpus(monkeypatch: pytest.MonkeyPatch) -> None:
    installed(monkeypatch, FakeDriver([], init_error=pynvml.NVML_ERROR_LIBRARY_NOT_FOUND))
    assert nvml.open_condition_sampler({}) is None
    driver = installed(monkeypatch, FakeDriver([]))
    assert nvml.open_condition_sampler({}) is None and driver.sessions == 0
    driver = installed(monkeypatch, FakeDriver([h100("GPU-a")]))
    sampler = nvml.open_condition_sampler({})
    assert sampler is not None and driver.sessions == 1
    sampler.close()
    assert driver.sessions == 0
