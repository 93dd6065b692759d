"""The NVML boundary: GPU selection (pure), error translation (real pynvml errors), and real-GPU tests."""

from __future__ import annotations

import time

import pynvml
import pytest

from gate.devices import nvml as gpu_nvml
from gate.devices.gpu import (
    GpuInfo,
    GpuLostError,
    GpuNotSupportedError,
    GpuPermissionError,
    GpuReadError,
    GpuUnreachableError,
    select_visible,
)
from gate.energy.sampler import Sampler, SamplerConfig
from gate.energy.timeline import METHOD_COMBINED, window_energy

A = GpuInfo("NVIDIA H100", "GPU-aaaa-1111", "580", index=0)
B = GpuInfo("NVIDIA H100", "GPU-bbbb-2222", "580", index=1, mig_mode=True, mig_uuids=("MIG-cccc-3333",))
C = GpuInfo("NVIDIA L4", "GPU-dddd-4444", "580", index=2)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, [A, B, C]),
        ({"CUDA_VISIBLE_DEVICES": "2,0"}, [C, A]),
        ({"CUDA_VISIBLE_DEVICES": "GPU-bbbb"}, [B]),
        ({"CUDA_VISIBLE_DEVICES": "MIG-cccc-3333"}, [B]),
        ({"CUDA_VISIBLE_DEVICES": ""}, []),
        ({"CUDA_VISIBLE_DEVICES": "-1"}, []),
        ({"CUDA_VISIBLE_DEVICES": "1,7,0"}, [B]),  # CUDA stops at the first invalid entry
        ({"NVIDIA_VISIBLE_DEVICES": "all"}, [A, B, C]),
        ({"NVIDIA_VISIBLE_DEVICES": "none"}, []),
        ({"NVIDIA_VISIBLE_DEVICES": "GPU-dddd-4444,GPU-aaaa-1111"}, [C, A]),
        ({"NVIDIA_VISIBLE_DEVICES": "1"}, [B]),  # on the host: NVML sees more GPUs than listed
        ({"NVIDIA_VISIBLE_DEVICES": "0,1,2", "CUDA_VISIBLE_DEVICES": "1"}, [B]),
    ],
)
def test_visible_gpus_follow_the_environment(env: dict[str, str], expected: list[GpuInfo]) -> None:
    assert list(select_visible([A, B, C], env).gpus) == expected


def test_inside_a_container_nvidia_indices_are_already_applied() -> None:
    # The runtime exposed host GPU 3 as the only GPU: NVML sees one device, NVIDIA_VISIBLE_DEVICES=3.
    assert select_visible([A], {"NVIDIA_VISIBLE_DEVICES": "3"}).gpus == (A,)


def test_selection_notes_explain_what_was_dropped() -> None:
    notes = select_visible([A, B, C], {"CUDA_VISIBLE_DEVICES": "MIG-cccc,9"}).notes
    assert notes == (
        "CUDA_VISIBLE_DEVICES: '9' matches no visible GPU; it and the entries after it are ignored",
        "a MIG instance is selected: NVML measures the whole GPU, so its energy includes every other instance on it",
        "CUDA_VISIBLE_DEVICES uses indices on GPUs of different models without CUDA_DEVICE_ORDER=PCI_BUS_ID: "
        "CUDA's order may differ from NVML's; set it to be sure",
    )


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (pynvml.NVML_ERROR_NOT_SUPPORTED, GpuNotSupportedError),
        (pynvml.NVML_ERROR_NO_PERMISSION, GpuPermissionError),
        (pynvml.NVML_ERROR_GPU_IS_LOST, GpuLostError),
        (pynvml.NVML_ERROR_LIBRARY_NOT_FOUND, GpuUnreachableError),
        (pynvml.NVML_ERROR_DRIVER_NOT_LOADED, GpuUnreachableError),
        (pynvml.NVML_ERROR_FUNCTION_NOT_FOUND, GpuNotSupportedError),  # a driver older than the binding
        (pynvml.NVML_ERROR_TIMEOUT, GpuReadError),
    ],
)
def test_nvml_errors_become_typed_errors_with_the_cause_kept(code: int, kind: type[GpuReadError]) -> None:
    def failing() -> int:
        raise pynvml.NVMLError(code)

    with pytest.raises(kind) as caught:
        gpu_nvml.call("read the energy counter", failing)
    assert type(caught.value) is kind
    assert caught.value.message.startswith("NVML could not read the energy counter: ")
    assert isinstance(caught.value.__cause__, pynvml.NVMLError) and caught.value.hint


def _gpus() -> tuple[GpuInfo, ...]:
    return gpu_nvml.visible_gpus()


HAS_GPU = bool(_gpus())
NO_GPU = "no NVIDIA GPU visible through NVML (no driver or no device)"


@pytest.mark.skipif(HAS_GPU, reason="this machine has a GPU: the no-driver path cannot be seen here")
def test_without_a_driver_inspect_raises_a_typed_error_and_visible_gpus_is_empty() -> None:
    with pytest.raises(GpuUnreachableError):
        gpu_nvml.inspect({})
    assert gpu_nvml.visible_gpus({}) == ()


@pytest.mark.gpu
@pytest.mark.skipif(not HAS_GPU, reason=NO_GPU)
def test_real_gpu_details() -> None:
    for gpu in gpu_nvml.inspect().gpus:
        assert gpu.uuid.startswith("GPU-") and gpu.driver and gpu.name
        assert gpu.power_limit_w is None or 10 < gpu.power_limit_w < 2000


@pytest.mark.gpu
@pytest.mark.skipif(not HAS_GPU, reason=NO_GPU)
def test_real_counter_and_power_reads() -> None:
    reader = gpu_nvml.open_reader()
    try:
        first = reader.energy_mj(0)
        time.sleep(0.35)
        assert reader.energy_mj(0) > first  # at least one ~100 ms tick went by, even idle
        assert 5 < reader.power_w(0) < 2000
    finally:
        reader.close()


@pytest.mark.gpu
@pytest.mark.skipif(not HAS_GPU, reason=NO_GPU)
def test_real_sampler_and_engine_on_an_idle_gpu() -> None:
    reader = gpu_nvml.open_reader()
    sampler = Sampler(reader, SamplerConfig(power_hz=100, counter_hz=10))
    try:
        sampler.start()
        time.sleep(3.0)
        sampler.stop()
        timeline = sampler.timelines()[0]
        assert sampler.errors == []
        assert len(timeline.counter_t_s) >= 20 and len(timeline.power_t_s) >= 200
        t0 = timeline.power_t_s[0] + 1.0
        result = window_energy(timeline, t0, t0 + 1.0)
        assert result.method == METHOD_COMBINED and result.calibration is not None
        assert 0.8 < result.calibration < 1.25  # the counter and the power samples agree to a few %
        assert 5 < result.mean_power_w < 2000
    finally:
        reader.close()


# --- the boundary's logic against a stand-in driver ------------------------------------------------
# pynvml's own error type, codes and field-value struct; only the C library is replaced. This is how
# the boundary behaves on the driver versions and GPUs this machine does not have.


class FakeDriver:
    """NVML as pynvml exposes it, for GPUs described by `gpus` (name, uuid, readings or error codes)."""

    NVMLError = pynvml.NVMLError

    def __init__(self, gpus: list[dict[str, object]], driver: str = "470.256.02") -> None:
        self.gpus = gpus
        self.driver = driver
        self.field_calls = 0
        for name in dir(pynvml):
            if name.startswith(("NVML_ERROR_", "NVML_FI_", "NVML_SUCCESS")):
                setattr(self, name, getattr(pynvml, name))

    def _get(self, handle: int, key: str) -> object:
        value = self.gpus[handle].get(key)
        if isinstance(value, Exception):
            raise value
        return value

    def nvmlSystemGetDriverVersion(self) -> str:
        return self.driver

    def nvmlDeviceGetCount(self) -> int:
        return len(self.gpus)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> int:
        return index

    def nvmlDeviceGetName(self, handle: int) -> object:
        return self._get(handle, "name")

    def nvmlDeviceGetUUID(self, handle: int | str) -> object:
        if isinstance(handle, str):  # a MIG handle
            return handle
        return self._get(handle, "uuid")

    def nvmlDeviceGetEnforcedPowerLimit(self, handle: int) -> object:
        return self._get(handle, "limit_mw")

    def nvmlDeviceGetMigMode(self, handle: int) -> object:
        return self._get(handle, "mig")

    def nvmlDeviceGetMaxMigDeviceCount(self, handle: int) -> int:
        return len(self._get(handle, "mig_slots"))  # type: ignore[arg-type]

    def nvmlDeviceGetMigDeviceHandleByIndex(self, handle: int, slot: int) -> str:
        uuid = self._get(handle, "mig_slots")[slot]  # type: ignore[index]
        if uuid is None:
            raise pynvml.NVMLError(pynvml.NVML_ERROR_NOT_FOUND)
        return str(uuid)

    def nvmlDeviceGetComputeRunningProcesses(self, handle: int) -> object:
        return self._get(handle, "compute")

    def nvmlDeviceGetGraphicsRunningProcesses(self, handle: int) -> object:
        return self._get(handle, "graphics")

    def nvmlDeviceGetTotalEnergyConsumption(self, handle: int) -> object:
        return self._get(handle, "energy_mj")

    def nvmlDeviceGetPowerUsage(self, handle: int) -> object:
        return self._get(handle, "average_mw")

    def nvmlDeviceGetFieldValues(self, handle: int, field_ids: list[int]) -> object:
        self.field_calls += 1
        instant = self._get(handle, "instant")
        values = (pynvml.c_nvmlFieldValue_t * len(field_ids))()
        values[0].fieldId = field_ids[0]
        if isinstance(instant, int) and instant >= 0:
            values[0].nvmlReturn = pynvml.NVML_SUCCESS
            values[0].value.uiVal = instant
        else:
            values[0].nvmlReturn = pynvml.NVML_ERROR_NOT_SUPPORTED
        return values


def nvml_error(code: int) -> pynvml.NVMLError:
    return pynvml.NVMLError(code)


class Proc:
    def __init__(self, pid: int) -> None:
        self.pid = pid


def h100(uuid: str, **overrides: object) -> dict[str, object]:
    gpu: dict[str, object] = {
        "name": "NVIDIA H100 80GB HBM3", "uuid": uuid, "limit_mw": 700_000, "mig": [0, 0], "mig_slots": [],
        "compute": [], "graphics": [], "energy_mj": 1_000_000, "average_mw": 120_500, "instant": 130_250,
    }  # fmt: skip
    gpu.update(overrides)
    return gpu


def test_an_old_driver_without_newer_entry_points_still_measures() -> None:
    """Driver 470: no v3 process lists (FUNCTION_NOT_FOUND), no instant power field, no MIG, no limit."""
    missing = nvml_error(pynvml.NVML_ERROR_FUNCTION_NOT_FOUND)
    gpu = h100(
        "GPU-old", compute=missing, graphics=missing, instant=-1,
        mig=nvml_error(pynvml.NVML_ERROR_NOT_SUPPORTED), limit_mw=nvml_error(pynvml.NVML_ERROR_NOT_SUPPORTED),
    )  # fmt: skip
    driver = FakeDriver([gpu])
    reader = gpu_nvml.NvmlReader({}, nvml=driver)
    (info,) = reader.devices()
    assert info == GpuInfo("NVIDIA H100 80GB HBM3", "GPU-old", "470.256.02", index=0)
    assert reader.energy_mj(0) == 1_000_000
    assert reader.power_w(0) == 120.5 and reader.power_w(0) == 120.5  # the averaged reading
    assert driver.field_calls == 1  # the instant field is not asked for again


def test_instant_power_is_read_from_the_field_value_and_the_fallback_covers_a_missing_call() -> None:
    driver = FakeDriver([h100("GPU-a"), h100("GPU-b", instant=nvml_error(pynvml.NVML_ERROR_FUNCTION_NOT_FOUND))])
    reader = gpu_nvml.NvmlReader({}, nvml=driver)
    assert reader.power_w(0) == 130.25 and reader.power_w(0) == 130.25
    assert reader.power_w(1) == 120.5


def test_details_mig_instances_and_other_processes() -> None:
    import os

    me = os.getpid()
    mig_gpu = h100("GPU-mig", mig=[1, 1], mig_slots=["MIG-one", None, "MIG-three"])
    busy = h100("GPU-busy", compute=[Proc(4242), Proc(me)], graphics=[Proc(17)], limit_mw=400_000)
    reader = gpu_nvml.NvmlReader({}, nvml=FakeDriver([mig_gpu, busy]))
    first, second = reader.devices()
    assert (first.mig_mode, first.mig_uuids, first.power_limit_w) == (True, ("MIG-one", "MIG-three"), 700.0)
    assert (second.mig_mode, second.other_pids, second.power_limit_w) == (False, (17, 4242), 400.0)


def test_the_reader_follows_cuda_visible_devices_by_uuid() -> None:
    driver = FakeDriver([h100("GPU-aaaa", energy_mj=1), h100("GPU-bbbb", energy_mj=2), h100("GPU-cccc", energy_mj=3)])
    reader = gpu_nvml.NvmlReader({"CUDA_VISIBLE_DEVICES": "GPU-cccc,0"}, nvml=driver)
    assert [g.uuid for g in reader.devices()] == ["GPU-cccc", "GPU-aaaa"]
    assert [reader.energy_mj(0), reader.energy_mj(1)] == [3, 1]


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (pynvml.NVML_ERROR_NOT_SUPPORTED, GpuNotSupportedError),  # pre-Volta: power integration instead
        (pynvml.NVML_ERROR_FUNCTION_NOT_FOUND, GpuNotSupportedError),
        (pynvml.NVML_ERROR_GPU_IS_LOST, GpuLostError),
    ],
)
def test_counter_errors_reach_the_sampler_typed(code: int, kind: type[GpuReadError]) -> None:
    reader = gpu_nvml.NvmlReader({}, nvml=FakeDriver([h100("GPU-a", energy_mj=nvml_error(code))]))
    with pytest.raises(kind):
        reader.energy_mj(0)


def test_a_gpu_lost_while_inspecting_is_an_error_not_a_missing_detail() -> None:
    with pytest.raises(GpuLostError):
        gpu_nvml.NvmlReader({}, nvml=FakeDriver([h100("GPU-a", compute=nvml_error(pynvml.NVML_ERROR_GPU_IS_LOST))]))
