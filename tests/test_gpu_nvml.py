"""The NVML boundary: GPU selection (pure), error translation (real pynvml errors), and real-GPU tests."""

from __future__ import annotations

import time

import pynvml
import pytest

from gate import gpu_nvml
from gate.energy_sampler import Sampler, SamplerConfig
from gate.energy_timeline import METHOD_COMBINED, window_energy
from gate.gpu_devices import (
    GpuInfo,
    GpuLostError,
    GpuNotSupportedError,
    GpuPermissionError,
    GpuReadError,
    GpuUnreachableError,
    select_visible,
)

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
