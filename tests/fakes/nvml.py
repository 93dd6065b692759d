"""A stand-in for the NVIDIA driver behind pynvml: pynvml's own error type, codes and field-value struct,
with the C library replaced by GPUs described in plain data. How the NVML boundary behaves on the driver
versions and GPUs a test machine does not have."""

from __future__ import annotations

import sys
import types

import pynvml
import pytest


class FakeDriver(types.ModuleType):
    """NVML as pynvml exposes it, for GPUs described by `gpus` (name, uuid, readings or errors to raise).

    A module, so that `installed` can stand it in for pynvml itself; `init_error` is the NVML code
    nvmlInit fails with (no driver, driver not loaded), None when it succeeds.
    """

    NVMLError = pynvml.NVMLError
    # What nvidia-ml-py's throwOnVersionMismatch raises from the process-list calls on an old driver:
    # an Exception, not an NVMLError.
    NVMLLibraryMismatchError = pynvml.NVMLLibraryMismatchError

    def __init__(self, gpus: list[dict[str, object]], driver: str = "470.256.02", *, init_error: int | None = None):
        super().__init__("pynvml")
        self.gpus = gpus
        self.driver = driver
        self.init_error = init_error
        self.sessions = 0  # nvmlInit calls not yet matched by nvmlShutdown
        self.field_calls = 0
        for name in dir(pynvml):
            if name.startswith(("NVML_ERROR_", "NVML_FI_", "NVML_SUCCESS", "NVML_TEMPERATURE_")):
                setattr(self, name, getattr(pynvml, name))

    def _get(self, handle: int, key: str) -> object:
        value = self.gpus[handle].get(key)
        if isinstance(value, Exception):
            raise value
        return value

    def nvmlInit(self) -> None:
        if self.init_error is not None:
            raise pynvml.NVMLError(self.init_error)
        self.sessions += 1

    def nvmlShutdown(self) -> None:
        self.sessions -= 1

    def nvmlSystemGetDriverVersion(self) -> str:
        return self.driver

    def nvmlDeviceGetCount(self) -> int:
        return len(self.gpus)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> int:
        self._get(index, "open")  # an error here: a device NVML counts but refuses (cgroup, Slurm)
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

    def nvmlDeviceGetTemperature(self, handle: int, sensor: int) -> object:
        return self._get(handle, "temperature_c")

    def nvmlDeviceGetFieldValues(self, handle: int, field_ids: list[int]) -> object:
        self.field_calls += 1
        instant = self._get(handle, "instant")
        values = (pynvml.c_nvmlFieldValue_t * len(field_ids))()
        values[0].fieldId = field_ids[0]
        field_errors = self.gpus[handle].get("instant_field_errors")
        if isinstance(field_errors, list) and field_errors:  # per-field codes, one per call, then success
            values[0].nvmlReturn = field_errors.pop(0)
        elif isinstance(instant, int) and instant >= 0:
            values[0].nvmlReturn = pynvml.NVML_SUCCESS
            values[0].value.uiVal = instant
        else:
            values[0].nvmlReturn = pynvml.NVML_ERROR_NOT_SUPPORTED
        return values


def installed(monkeypatch: pytest.MonkeyPatch, driver: FakeDriver) -> FakeDriver:
    """`driver` as the pynvml that gate.devices.nvml imports (it imports pynvml where it uses it)."""
    monkeypatch.setitem(sys.modules, "pynvml", driver)
    return driver


def nvml_error(code: int) -> pynvml.NVMLError:
    return pynvml.NVMLError(code)


class Proc:
    """An entry of nvmlDeviceGet*RunningProcesses."""

    def __init__(self, pid: int) -> None:
        self.pid = pid


def h100(uuid: str, **overrides: object) -> dict[str, object]:
    """An idle H100 on a recent driver: every reading answers; `overrides` replace readings or raise."""
    gpu: dict[str, object] = {
        "name": "NVIDIA H100 80GB HBM3", "uuid": uuid, "limit_mw": 700_000, "mig": [0, 0], "mig_slots": [],
        "compute": [], "graphics": [], "energy_mj": 1_000_000, "average_mw": 120_500, "instant": 130_250,
        "temperature_c": 41,
    }  # fmt: skip
    gpu.update(overrides)
    return gpu
