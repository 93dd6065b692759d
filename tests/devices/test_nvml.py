"""The NVML boundary: GPU selection (pure), error translation (real pynvml errors), and real-GPU tests."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pynvml
import pytest

from gate.config.budget import EnergySpec
from gate.devices import hardware
from gate.devices import nvml as gpu_nvml
from gate.devices.gpu import (
    GpuAbsentError,
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
from tests.fakes.nvml import Board, FakeDriver, Proc, SimClock, Tenant, h100, installed, nvml_error, steps
from tests.support.gpu_meter import RunOnBoard

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
        # The container runtime's variable: the runtime applied it before NVML looked, CUDA ignores it.
        ({"NVIDIA_VISIBLE_DEVICES": "void"}, [A, B, C]),  # CDI mode, GPUs injected all the same
        ({"NVIDIA_VISIBLE_DEVICES": "/var/run/nvidia-container-devices"}, [A, B, C]),  # volume-mounts strategy
        ({"NVIDIA_VISIBLE_DEVICES": "0:1"}, [A, B, C]),  # a MIG spec
        ({"NVIDIA_VISIBLE_DEVICES": "GPU-dddd-4444"}, [A, B, C]),
        ({"NVIDIA_VISIBLE_DEVICES": "0,1,2", "CUDA_VISIBLE_DEVICES": "1"}, [B]),
    ],
)
def test_visible_gpus_follow_the_environment(env: dict[str, str], expected: list[GpuInfo]) -> None:
    assert list(select_visible([A, B, C], env).gpus) == expected


def test_inside_a_container_nvidia_indices_are_already_applied() -> None:
    # The runtime exposed host GPU 3 as the only GPU: NVML sees one device, NVIDIA_VISIBLE_DEVICES=3.
    assert select_visible([A], {"NVIDIA_VISIBLE_DEVICES": "3"}).gpus == (A,)


def test_nvidia_visible_devices_void_is_noted_not_read_as_no_gpu() -> None:
    selection = select_visible([A], {"NVIDIA_VISIBLE_DEVICES": "void"})
    assert selection.gpus == (A,)
    assert selection.notes == (
        "NVIDIA_VISIBLE_DEVICES='void' is the container runtime's (CUDA does not read it): the GPUs measured are "
        "those NVML sees here, narrowed by CUDA_VISIBLE_DEVICES",
    )


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
        (pynvml.NVML_ERROR_LIBRARY_NOT_FOUND, GpuAbsentError),  # the only "no GPU" answers
        (pynvml.NVML_ERROR_DRIVER_NOT_LOADED, GpuAbsentError),
        (pynvml.NVML_ERROR_LIB_RM_VERSION_MISMATCH, GpuUnreachableError),
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


def _gpus() -> tuple[tuple[GpuInfo, ...], GpuReadError | None]:
    try:
        return gpu_nvml.visible_gpus(), None
    except GpuReadError as exc:
        return (), exc


GPUS, INSPECTION_ERROR = _gpus()
# Where nvidia-smi exists, a failing inspection is a broken GPU box: the GPU tests run and fail on it.
HAS_GPU = bool(GPUS) or (INSPECTION_ERROR is not None and shutil.which("nvidia-smi") is not None)
NO_GPU = "no NVIDIA GPU visible through NVML (no driver or no device)" + (
    f"; NVML said: {INSPECTION_ERROR.message}" if INSPECTION_ERROR is not None else ""
)


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


# --- the boundary's logic against a stand-in driver (tests/fakes/nvml.py) ---------------------------


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


@pytest.mark.parametrize("code", [pynvml.NVML_ERROR_LIBRARY_NOT_FOUND, pynvml.NVML_ERROR_DRIVER_NOT_LOADED])
def test_without_a_driver_inspect_raises_a_typed_error_and_visible_gpus_is_empty(
    code: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CPU runner, a laptop, a container started without the GPU: nvmlInit fails, and every caller
    sees one typed error (inspect) or no GPU at all (visible_gpus, temperatures_c), never pynvml's."""
    installed(monkeypatch, FakeDriver([h100("GPU-a")], init_error=code))
    with pytest.raises(GpuUnreachableError) as caught:
        gpu_nvml.inspect({})
    assert caught.value.message.startswith("NVML could not initialise: ")
    assert caught.value.hint == gpu_nvml.DRIVER_HINT
    assert isinstance(caught.value.__cause__, pynvml.NVMLError)
    assert gpu_nvml.visible_gpus({}) == ()
    assert gpu_nvml.temperatures_c() == ()


def test_inspect_lists_the_visible_gpus_and_closes_its_nvml_session(monkeypatch: pytest.MonkeyPatch) -> None:
    driver = installed(
        monkeypatch,
        FakeDriver([h100("GPU-aaaa"), h100("GPU-bbbb", limit_mw=400_000, temperature_c=77)], driver="580.65.06"),
    )
    selection = gpu_nvml.inspect({"CUDA_VISIBLE_DEVICES": "GPU-bbbb"})
    assert selection.gpus == (
        GpuInfo("NVIDIA H100 80GB HBM3", "GPU-bbbb", "580.65.06", index=1, power_limit_w=400.0, mig_mode=False),
    )
    assert gpu_nvml.visible_gpus({"CUDA_VISIBLE_DEVICES": "0"}) == (
        GpuInfo("NVIDIA H100 80GB HBM3", "GPU-aaaa", "580.65.06", index=0, power_limit_w=700.0, mig_mode=False),
    )
    assert gpu_nvml.temperatures_c() == (41.0, 77.0)
    assert driver.sessions == 0  # every nvmlInit was shut down again


def test_a_gpu_refused_with_no_permission_is_skipped_and_noted_not_hiding_the_others() -> None:
    driver = FakeDriver([h100("GPU-a", open=nvml_error(pynvml.NVML_ERROR_NO_PERMISSION)), h100("GPU-b", energy_mj=7)])
    reader = gpu_nvml.NvmlReader({"CUDA_VISIBLE_DEVICES": "0"}, nvml=driver)
    # CUDA lists only the accessible GPUs, so CUDA index 0 is NVML's GPU 1.
    assert [g.uuid for g in reader.devices()] == ["GPU-b"]
    assert reader.energy_mj(0) == 7
    assert (
        reader.selection.notes[0] == "NVML GPU 0 is not accessible to this process (no permission) and is not measured"
    )


def test_a_transient_per_field_error_is_retried_not_a_permanent_switch_to_averaged_power() -> None:
    driver = FakeDriver([h100("GPU-a", instant_field_errors=[pynvml.NVML_ERROR_TIMEOUT])])
    reader = gpu_nvml.NvmlReader({}, nvml=driver)
    with pytest.raises(GpuReadError) as caught:
        reader.power_w(0)
    assert type(caught.value) is GpuReadError  # the sampler's "transient": retried at the next read
    assert reader.power_w(0) == 130.25  # the instant field again, not the 1 s average (120.5)


def test_a_per_field_not_supported_falls_back_to_averaged_power() -> None:
    driver = FakeDriver([h100("GPU-a", instant_field_errors=[pynvml.NVML_ERROR_NOT_SUPPORTED])])
    reader = gpu_nvml.NvmlReader({}, nvml=driver)
    assert reader.power_w(0) == 120.5 and reader.power_w(0) == 120.5


@pytest.mark.skipif(
    not hasattr(pynvml, "NVMLLibraryMismatchError"),
    reason="this nvidia-ml-py (the floor, 12.535.108) predates NVMLLibraryMismatchError: it cannot raise it",
)
def test_the_bindings_version_mismatch_on_process_lists_degrades_instead_of_crashing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mismatch = pynvml.NVMLLibraryMismatchError("Unversioned function called and the pyNVML version does not match")
    driver = installed(monkeypatch, FakeDriver([h100("GPU-a", compute=mismatch, graphics=mismatch)]))
    (info,) = gpu_nvml.inspect({}).gpus
    assert info.uuid == "GPU-a" and info.other_pids == ()
    assert driver.sessions == 0


def test_the_binding_floor_excludes_the_release_with_the_wrong_process_struct() -> None:
    """nvidia-ml-py 12.535.77's c_nvmlProcessInfo_t has an extra field: wrong stride, garbage PIDs."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    from packaging.requirements import Requirement

    root = Path(__file__).resolve().parents[2]
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    (spec,) = [Requirement(s) for s in project["dependencies"] if s.startswith("nvidia-ml-py")]
    assert not spec.specifier.contains("12.535.77")
    assert spec.specifier.contains("12.535.108") and spec.specifier.contains("13.615.71")


@pytest.mark.parametrize(
    "driver",
    [
        FakeDriver([h100("GPU-a")], init_error=pynvml.NVML_ERROR_LIB_RM_VERSION_MISMATCH),
        FakeDriver([h100("GPU-a", name=nvml_error(pynvml.NVML_ERROR_GPU_IS_LOST))]),
    ],
    ids=["library-driver-mismatch", "gpu-lost"],
)
def test_a_broken_gpu_box_is_an_error_not_no_gpu(driver: FakeDriver, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only a missing library or driver means "no GPU"; otherwise the gate would silently measure with
    the CPU estimate on a GPU runner."""
    installed(monkeypatch, driver)
    with pytest.raises(GpuReadError) as caught:
        gpu_nvml.visible_gpus({})
    assert not isinstance(caught.value, GpuAbsentError)
    with pytest.raises(GpuReadError):
        hardware.detect({})


# --- the stand-in driver on a simulated board (tests/fakes/nvml.py Board): timing as on hardware ----


def sampled_board(power: Callable[[float], float], until_s: float, **gpu: object) -> tuple[Sampler, SimClock]:
    """A sampler on the NVML reader over one simulated H100, stepped at 100 Hz on a fake clock to `until_s`."""
    clock = SimClock(100.0)
    board = Board(power, clock, advance=clock.advance)
    driver = FakeDriver([h100("GPU-a", board=board, **gpu)], driver="580.65.06")
    sampler = Sampler(gpu_nvml.NvmlReader({}, nvml=driver), SamplerConfig(), clock=clock)
    while clock() < until_s:
        sampler.step()
        clock.advance(0.01)
    return sampler, clock


PHASE_1S = steps((0.0, 126.0), (110.0, 700.0), (111.0, 126.0))  # a 1 s phase at 700 W on an H100 idling at 126 W


def test_a_1s_phase_is_measured_within_half_a_percent_with_instant_power() -> None:
    run = RunOnBoard(latency_s=0.05, phase_s=0.037, power_w=PHASE_1S, spec=EnergySpec(idle_s=0))
    reading = run.phase(110.0, 111.0, until_s=111.0)  # the benchmark exits right after its phase
    run.meter.close()
    assert reading.scopes[0].method == f"1 GPU: {METHOD_COMBINED}"
    assert reading.scopes[0].energy_j == pytest.approx(run.true_j(110.0, 111.0), rel=0.005)


def test_with_only_the_1s_averaged_power_the_edges_come_from_the_counter_and_the_method_says_so() -> None:
    """Averaged power placing the edges misses this phase by -41%; the counter interpolated, by a few %."""
    run = RunOnBoard(latency_s=0.05, phase_s=0.037, instant=False, power_w=PHASE_1S, spec=EnergySpec(idle_s=0))
    reading = run.phase(110.0, 111.0, until_s=111.0)
    run.meter.close()
    assert "power is a 1 s average" in reading.scopes[0].method
    assert reading.scopes[0].energy_j == pytest.approx(run.true_j(110.0, 111.0), rel=0.05)


def test_the_instant_field_failing_after_it_answered_is_retried_not_a_switch_to_averaged_power() -> None:
    driver = FakeDriver([h100("GPU-a", instant_field_errors=[pynvml.NVML_SUCCESS, pynvml.NVML_ERROR_NOT_SUPPORTED])])
    reader = gpu_nvml.NvmlReader({}, nvml=driver)
    assert reader.power_w(0) == 130.25
    with pytest.raises(GpuReadError) as caught:
        reader.power_w(0)
    assert type(caught.value) is GpuReadError  # transient for the sampler
    assert reader.power_w(0) == 130.25
    # The whole call refused with NOT_SUPPORTED after it had answered: the same.
    driver.gpus[0]["faults"] = {"instant": [pynvml.NVML_ERROR_NOT_SUPPORTED]}
    with pytest.raises(GpuReadError) as caught:
        reader.power_w(0)
    assert type(caught.value) is GpuReadError
    assert reader.power_w(0) == 130.25  # still the instant field, not the 1 s average (120.5)


def test_transient_nvml_errors_on_the_board_leave_the_method_and_the_figure_alone() -> None:
    timeout, unknown = pynvml.NVML_ERROR_TIMEOUT, pynvml.NVML_ERROR_UNKNOWN
    faults = {"energy_mj": [timeout, unknown], "instant": [unknown, timeout, unknown]}
    run = RunOnBoard(latency_s=0.05, phase_s=0.037, power_w=PHASE_1S, spec=EnergySpec(idle_s=0), gpu={"faults": faults})
    reading = run.phase(110.0, 111.0, until_s=112.0)
    run.meter.close()
    assert run.meter.sampler.errors == []
    assert sum("retried" in note for note in reading.notes) == 5  # said in this repeat's reading
    assert reading.scopes[0].method == f"1 GPU: {METHOD_COMBINED}"
    assert reading.scopes[0].energy_j == pytest.approx(run.true_j(110.0, 111.0), rel=0.005)


def test_temperatures_are_those_of_the_benchmarks_gpus_and_a_refused_gpu_hides_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    refused = nvml_error(pynvml.NVML_ERROR_NO_PERMISSION)
    gpus = [h100("GPU-x", open=refused), h100("GPU-a", temperature_c=41), h100("GPU-b", temperature_c=88)]
    driver = installed(monkeypatch, FakeDriver(gpus))
    assert gpu_nvml.temperatures_c({"CUDA_VISIBLE_DEVICES": "0"}) == (41.0,)  # another job's hot GPU-b left out
    assert gpu_nvml.temperatures_c({}) == (41.0, 88.0)
    assert driver.sessions == 0


def test_several_gpus_measured_without_cuda_visible_devices_is_said() -> None:
    assert select_visible([A, C], {}).notes == (
        "2 GPUs are measured and summed (CUDA_VISIBLE_DEVICES is not set): idle ones add their power and dilute "
        "a change on the one that works; set it in the benchmark's env: to the GPUs it uses",
    )
    assert select_visible([A, C], {"CUDA_VISIBLE_DEVICES": "GPU-aaaa,GPU-dddd"}).notes == ()
    assert select_visible([A], {}).notes == ()


def test_mig_on_without_an_instance_named_is_said_and_a_refused_process_list_is_noted() -> None:
    assert select_visible([A, B], {"CUDA_VISIBLE_DEVICES": "0,1"}).notes == (
        "GPU 1 (NVIDIA H100) has MIG on and no MIG instance of it is named in CUDA_VISIBLE_DEVICES: its energy "
        "is the whole GPU's, every instance included",
    )
    assert not any("has MIG on" in n for n in select_visible([A, B], {"CUDA_VISIBLE_DEVICES": "MIG-cccc-3333"}).notes)
    refused = nvml_error(pynvml.NVML_ERROR_NO_PERMISSION)
    gpu = h100("GPU-m", mig=[1, 1], mig_slots=["MIG-m-1"], compute=refused, graphics=refused)
    reader = gpu_nvml.NvmlReader({"CUDA_VISIBLE_DEVICES": "MIG-m-1"}, nvml=FakeDriver([gpu]))
    assert reader.selection.notes[0] == (
        "NVML GPU 0: its processes cannot be listed (no permission), so other jobs on it cannot be warned about"
    )


def test_temperature_comes_from_the_versioned_call_and_falls_back_on_an_older_driver(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    missing = nvml_error(pynvml.NVML_ERROR_FUNCTION_NOT_FOUND)
    # A driver without the deprecated call (CUDA 14), and one older than the versioned call.
    gpus = [h100("GPU-new", temperature_c=40, temperature_legacy=missing), h100("GPU-old", temperature_c=50)]
    gpus[1]["temperature_v"] = missing
    installed(monkeypatch, FakeDriver(gpus))
    assert gpu_nvml.temperatures_c({}) == (40.0, 50.0)


def test_a_tenant_starting_mid_run_adds_its_power_and_appears_in_the_process_list() -> None:
    clock = SimClock(100.0)
    board = Board(steps((0.0, 200.0)), clock, advance=clock.advance, tenants=(Tenant(4242, 105.0, 150.0),))
    driver = FakeDriver([h100("GPU-a", board=board)], driver="580.65.06")
    reader = gpu_nvml.NvmlReader({}, nvml=driver)
    assert reader.devices()[0].other_pids == () and reader.power_w(0) == 200.0
    clock.advance(6.0)
    assert reader.power_w(0) == 350.0
    procs = driver.nvmlDeviceGetComputeRunningProcesses(0)
    assert isinstance(procs, list) and [p.pid for p in procs] == [4242]
