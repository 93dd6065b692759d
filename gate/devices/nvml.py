"""The NVML boundary: the GPUs this process may use and their energy readings. The only module that imports pynvml.

pynvml is imported lazily. Every NVMLError is translated here into the typed errors of
`gate.devices.gpu` (`raise ... from exc`); nothing above this module sees pynvml or its codes.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from dataclasses import replace
from functools import partial
from typing import Any, TypeVar

from gate.devices.conditions import GpuSample, clock_event_names
from gate.devices.gpu import (
    GpuAbsentError,
    GpuInfo,
    GpuLostError,
    GpuNotSupportedError,
    GpuPermissionError,
    GpuReadError,
    GpuUnreachableError,
    Selection,
    select_visible,
)

__all__ = ["GpuInfo", "NvmlReader", "inspect", "open_reader", "temperatures_c", "visible_gpus"]

T = TypeVar("T")

PERMISSION_HINT = (
    "run as a user allowed to query the GPU (in Docker: --gpus all or the NVIDIA runtime; on the host the "
    "nvidia device files must be readable)"
)
DRIVER_HINT = "install the NVIDIA driver, or give the container the GPU (--gpus all / NVIDIA runtime)"

_lock = threading.Lock()  # nvmlInit/nvmlShutdown are reference counted; keep them paired per thread


def translate(exc: Exception, what: str) -> GpuReadError:
    """The typed error for an NVMLError raised while doing `what`."""
    import pynvml

    code = getattr(exc, "value", None)
    message = f"NVML could not {what}: {exc}"
    # A driver older than the binding lacks newer entry points (e.g. the v3 process lists): for the
    # caller that is the same as a reading this GPU does not offer, not a GPU it cannot reach.
    if code in (pynvml.NVML_ERROR_NOT_SUPPORTED, pynvml.NVML_ERROR_FUNCTION_NOT_FOUND):
        return GpuNotSupportedError(message, hint="this GPU or driver does not offer that reading")
    if code == pynvml.NVML_ERROR_NO_PERMISSION:
        return GpuPermissionError(message, hint=PERMISSION_HINT)
    if code == pynvml.NVML_ERROR_GPU_IS_LOST:
        return GpuLostError(message, hint="the GPU stopped answering; check `nvidia-smi` and the kernel log")
    if code == getattr(pynvml, "NVML_ERROR_RESET_REQUIRED", -1):
        # Nothing it reports can be trusted until it is reset: for this run it is lost, not flaky.
        return GpuLostError(message, hint="the GPU needs a reset (`nvidia-smi -r` or a reboot); check the kernel log")
    if code in (pynvml.NVML_ERROR_LIBRARY_NOT_FOUND, pynvml.NVML_ERROR_DRIVER_NOT_LOADED):
        return GpuAbsentError(message, hint=DRIVER_HINT)
    if code in (
        pynvml.NVML_ERROR_UNINITIALIZED,
        getattr(pynvml, "NVML_ERROR_LIB_RM_VERSION_MISMATCH", -1),
    ):
        return GpuUnreachableError(message, hint=DRIVER_HINT)
    return GpuReadError(message, hint="rerun; if it persists, check `nvidia-smi -q`")


# nvmlValue_t's member for each nvmlValueType_t (DOUBLE, UNSIGNED_INT, UNSIGNED_LONG, UNSIGNED_LONG_LONG,
# SIGNED_LONG_LONG, SIGNED_INT, UNSIGNED_SHORT): a field's value is only meaningful read as its type.
_VALUE_MEMBERS = ("dVal", "uiVal", "ulVal", "ullVal", "sllVal", "siVal", "usVal")


def field_value(nvml: Any, field: Any) -> float:
    """A field value's number, read as the type the driver says it is (instant power: unsigned int, mW)."""
    value_type = int(getattr(field, "valueType", 1))
    member = _VALUE_MEMBERS[value_type] if 0 <= value_type < len(_VALUE_MEMBERS) else "uiVal"
    return float(getattr(field.value, member))


def call(what: str, fn: Callable[..., T], *args: Any) -> T:
    """Call one pynvml function, translating its NVMLError."""
    import pynvml

    try:
        return fn(*args)
    except pynvml.NVMLError as exc:
        raise translate(exc, what) from exc
    except getattr(pynvml, "NVMLLibraryMismatchError", pynvml.NVMLError) as exc:
        # nvidia-ml-py raises this (an Exception, not an NVMLError) from calls whose struct version the
        # driver is too old for, e.g. the v3 process lists: for the caller, a reading it does not offer.
        raise GpuNotSupportedError(
            f"NVML could not {what}: {exc}", hint="the driver is older than this call of nvidia-ml-py"
        ) from exc


@contextmanager
def _session() -> Iterator[Any]:
    try:
        import pynvml
    except ImportError as exc:  # pragma: no cover - nvidia-ml-py is a dependency
        raise GpuAbsentError(f"pynvml cannot be imported: {exc}", hint="pip install nvidia-ml-py") from exc
    with _lock:
        call("initialise", pynvml.nvmlInit)
    try:
        yield pynvml
    finally:
        with _lock, suppress(pynvml.NVMLError):
            pynvml.nvmlShutdown()


def temperatures_c(env: Mapping[str, str] | None = None) -> tuple[float, ...]:
    """Core temperature of the GPUs `env` lets the benchmark use (another job's hot GPU must not delay
    its repeats); empty without NVML or GPUs, or when they cannot be read (callers report the no-op)."""
    try:
        with _session() as nvml:
            gpus, handles, _ = _all_gpus(nvml)
            chosen = {g.uuid for g in select_visible(gpus, os.environ if env is None else env).gpus}
            return tuple(_temperature_c(nvml, h) for g, h in zip(gpus, handles, strict=True) if g.uuid in chosen)
    except GpuReadError:
        return ()


def _temperature_c(nvml: Any, handle: Any) -> float:
    """nvmlDeviceGetTemperatureV where binding and driver have it; the deprecated call (to be removed
    in CUDA 14) otherwise."""
    versioned = getattr(nvml, "nvmlDeviceGetTemperatureV", None)
    if versioned is not None:
        try:
            return float(call("read the temperature", versioned, handle, nvml.NVML_TEMPERATURE_GPU))
        except GpuNotSupportedError:
            pass  # a driver older than the versioned call
    return float(call("read the temperature", nvml.nvmlDeviceGetTemperature, handle, nvml.NVML_TEMPERATURE_GPU))


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _optional(fn: Callable[[], T], *, permitted: bool = True) -> T | None:
    """A reading some GPUs lack: None when not supported (or, unless `permitted` is False, not
    permitted), the error otherwise."""
    try:
        return fn()
    except GpuNotSupportedError:
        return None
    except GpuPermissionError:
        if not permitted:
            raise
        return None


def _describe(nvml: Any, index: int, handle: Any, driver: str) -> tuple[GpuInfo, list[str]]:
    notes: list[str] = []
    limit_mw = _optional(lambda: call("read the power limit", nvml.nvmlDeviceGetEnforcedPowerLimit, handle))
    mig = _optional(lambda: call("read the MIG mode", nvml.nvmlDeviceGetMigMode, handle))
    mig_on = bool(mig[0]) if mig is not None else None
    mig_uuids: list[str] = []
    if mig_on:
        count = call("count MIG devices", nvml.nvmlDeviceGetMaxMigDeviceCount, handle)
        for slot in range(count):
            try:
                mig_handle = nvml.nvmlDeviceGetMigDeviceHandleByIndex(handle, slot)
            except nvml.NVMLError:
                continue  # an empty slot
            mig_uuids.append(_text(call("read a MIG UUID", nvml.nvmlDeviceGetUUID, mig_handle)))
    pids: set[int] = set()
    for getter in (nvml.nvmlDeviceGetComputeRunningProcesses, nvml.nvmlDeviceGetGraphicsRunningProcesses):
        try:
            procs = _optional(partial(call, "list the processes on the GPU", getter, handle), permitted=False)
        except GpuPermissionError:  # e.g. a parent GPU in MIG mode without privileges
            notes.append(
                f"NVML GPU {index}: its processes cannot be listed (no permission), so other jobs on it "
                "cannot be warned about"
            )
            break
        pids.update(int(p.pid) for p in procs or ())
    info = GpuInfo(
        name=_text(call("read the GPU name", nvml.nvmlDeviceGetName, handle)),
        uuid=_text(call("read the GPU UUID", nvml.nvmlDeviceGetUUID, handle)),
        driver=driver,
        index=index,
        power_limit_w=limit_mw / 1000 if limit_mw is not None else None,
        mig_mode=mig_on,
        mig_uuids=tuple(mig_uuids),
        other_pids=tuple(sorted(pids - {os.getpid()})),
    )
    return info, notes


def _all_gpus(nvml: Any) -> tuple[tuple[GpuInfo, ...], list[Any], tuple[str, ...]]:
    """The GPUs this process may open, their handles, and notes on those it may not."""
    driver = _text(call("read the driver version", nvml.nvmlSystemGetDriverVersion))
    infos, handles, notes = [], [], []
    for index in range(call("count GPUs", nvml.nvmlDeviceGetCount)):
        try:
            handle = call("open a GPU", nvml.nvmlDeviceGetHandleByIndex, index)
        except GpuPermissionError:
            # NVML counts devices a cgroup or Slurm denies this process; CUDA does not list them either,
            # so the accessible ones are the ones CUDA_VISIBLE_DEVICES indices refer to.
            notes.append(f"NVML GPU {index} is not accessible to this process (no permission) and is not measured")
            continue
        info, gpu_notes = _describe(nvml, index, handle, driver)
        infos.append(info)
        notes.extend(gpu_notes)
        handles.append(handle)
    return tuple(infos), handles, tuple(notes)


def _with_notes(selection: Selection, notes: tuple[str, ...]) -> Selection:
    return replace(selection, notes=(*notes, *selection.notes)) if notes else selection


def inspect(env: Mapping[str, str] | None = None) -> Selection:
    """The GPUs the benchmark may use, with their details. Raises GpuReadError subclasses."""
    with _session() as nvml:
        gpus, _, notes = _all_gpus(nvml)
    return _with_notes(select_visible(gpus, os.environ if env is None else env), notes)


def visible_gpus(env: Mapping[str, str] | None = None) -> tuple[GpuInfo, ...]:
    """The GPUs the benchmark may use; empty when there is no NVIDIA driver (a laptop, a CPU runner).

    Any other NVML failure (a library/driver mismatch, a lost GPU) is raised: on a broken GPU box,
    silently measuring with the CPU estimate instead would hide it."""
    try:
        return inspect(env).gpus
    except GpuAbsentError:
        return ()


class NvmlReader:
    """`GpuReader` on NVML for the visible GPUs. Holds NVML open until close().

    `nvml`: a pynvml-like module that is already initialised, used instead of opening pynvml (tests
    pass a stand-in for the driver that raises pynvml's own errors).
    """

    selection: Selection

    def __init__(self, env: Mapping[str, str] | None = None, *, nvml: Any | None = None) -> None:
        self._context: AbstractContextManager[Any] = _session() if nvml is None else nullcontext(nvml)
        self._nvml = self._context.__enter__()
        try:
            self._gpus, self._all_handles, self._notes = _all_gpus(self._nvml)
            self.select(os.environ if env is None else env)
        except BaseException:
            self.close()
            raise

    def select(self, env: Mapping[str, str]) -> bool:
        """Measure the GPUs that `env` (a benchmark's environment) lets CUDA use; True when they changed."""
        selection = _with_notes(select_visible(self._gpus, env), self._notes)
        changed = not hasattr(self, "_handles") or selection.gpus != self.selection.gpus
        self.selection = selection
        if not changed:
            return False
        by_uuid = {g.uuid: h for g, h in zip(self._gpus, self._all_handles, strict=True)}
        self._handles = [by_uuid[g.uuid] for g in selection.gpus]
        self._instant = [True] * len(self._handles)
        self._instant_seen = [False] * len(self._handles)  # the field answered at least once
        return True

    def devices(self) -> tuple[GpuInfo, ...]:
        return self.selection.gpus

    def energy_mj(self, position: int) -> int:
        value: int = call(
            "read the energy counter", self._nvml.nvmlDeviceGetTotalEnergyConsumption, self._handles[position]
        )
        return int(value)

    def power_w(self, position: int) -> float:
        """NVML_FI_DEV_POWER_INSTANT where the driver has it, else nvmlDeviceGetPowerUsage (both mW).

        Only a first read answering NOT_SUPPORTED / FUNCTION_NOT_FOUND switches to the averaged
        reading (for good: `power_averaged` then says so); once the field has answered, any failure
        of it is transient and raised for the sampler to retry."""
        handle = self._handles[position]
        if self._instant[position]:
            nvml = self._nvml
            try:
                fields = call(
                    "read instant power", nvml.nvmlDeviceGetFieldValues, handle, [nvml.NVML_FI_DEV_POWER_INSTANT]
                )
            except GpuNotSupportedError as exc:
                if self._instant_seen[position]:
                    raise GpuReadError(exc.message, hint=exc.hint) from exc
                code = None
            else:
                code = fields[0].nvmlReturn
                if code == nvml.NVML_SUCCESS:
                    self._instant_seen[position] = True
                    return field_value(nvml, fields[0]) / 1000
            unsupported = code is None or code in (nvml.NVML_ERROR_NOT_SUPPORTED, nvml.NVML_ERROR_FUNCTION_NOT_FOUND)
            if not unsupported or self._instant_seen[position]:
                # A transient per-field failure: falling back for good would switch every later
                # window to the 1 s average of Ampere and newer, so the caller retries instead.
                error = translate(nvml.NVMLError(code), "read instant power")
                raise GpuReadError(error.message, hint=error.hint) if isinstance(error, GpuNotSupportedError) else error
            self._instant[position] = False  # older driver or GPU: the averaged reading instead
        return float(call("read power", self._nvml.nvmlDeviceGetPowerUsage, handle)) / 1000

    def power_averaged(self, position: int) -> bool:
        """True once this GPU's power comes from nvmlDeviceGetPowerUsage (a 1 s average on Ampere+)."""
        return not self._instant[position]

    def close(self) -> None:
        self._context.__exit__(None, None, None)


def open_reader(env: Mapping[str, str] | None = None) -> NvmlReader:
    return NvmlReader(env)


# --- the GPUs' condition during a repeat: clocks, clock-event reasons, temperature, tenants ---------


class ConditionSampler:
    """Samples the visible GPUs' clocks, clock-event (throttle) reasons, temperature, enforced power
    limit and the processes on them (gate.devices.conditions.GpuSample). Holds NVML open until close().
    A reading a GPU does not offer is None in its samples; `nvml` as for NvmlReader."""

    def __init__(self, env: Mapping[str, str] | None = None, *, nvml: Any | None = None) -> None:
        self._context: AbstractContextManager[Any] = _session() if nvml is None else nullcontext(nvml)
        self._nvml = self._context.__enter__()
        try:
            gpus, handles, _ = _all_gpus(self._nvml)
            chosen = {g.uuid for g in select_visible(gpus, os.environ if env is None else env).gpus}
            self._gpus = [(g.uuid, h) for g, h in zip(gpus, handles, strict=True) if g.uuid in chosen]
        except BaseException:
            self.close()
            raise

    @property
    def gpus(self) -> int:
        return len(self._gpus)

    def sample(self) -> tuple[GpuSample, ...]:
        return tuple(self._sample(uuid, handle) for uuid, handle in self._gpus)

    def _sample(self, uuid: str, handle: Any) -> GpuSample:
        nvml = self._nvml
        sm = _optional(lambda: call("read the SM clock", nvml.nvmlDeviceGetClockInfo, handle, _CLOCK_SM))
        mem = _optional(lambda: call("read the memory clock", nvml.nvmlDeviceGetClockInfo, handle, _CLOCK_MEM))
        mask = _optional(lambda: _clock_event_mask(nvml, handle))
        temperature = _optional(lambda: _temperature_c(nvml, handle))
        limit_mw = _optional(lambda: call("read the power limit", nvml.nvmlDeviceGetEnforcedPowerLimit, handle))
        pids: set[int] = set()
        for getter in (nvml.nvmlDeviceGetComputeRunningProcesses, nvml.nvmlDeviceGetGraphicsRunningProcesses):
            procs = _optional(partial(call, "list the processes on the GPU", getter, handle))
            pids.update(int(p.pid) for p in procs or ())
        return GpuSample(
            uuid=uuid,
            sm_clock_mhz=float(sm) if sm is not None else None,
            memory_clock_mhz=float(mem) if mem is not None else None,
            reasons=clock_event_names(int(mask)) if mask is not None else frozenset(),
            temperature_c=temperature,
            power_limit_w=limit_mw / 1000 if limit_mw is not None else None,
            pids=frozenset(pids),
        )

    def close(self) -> None:
        self._context.__exit__(None, None, None)


_CLOCK_SM, _CLOCK_MEM = 1, 2  # NVML_CLOCK_SM, NVML_CLOCK_MEM


def _clock_event_mask(nvml: Any, handle: Any) -> int:
    """nvmlDeviceGetCurrentClocksEventReasons where the binding has it; the older name otherwise."""
    getter = getattr(nvml, "nvmlDeviceGetCurrentClocksEventReasons", None)
    if getter is not None:
        try:
            return int(call("read the clock-event reasons", getter, handle))
        except GpuNotSupportedError:
            pass  # a driver older than the renamed call
    return int(call("read the clock-event reasons", nvml.nvmlDeviceGetCurrentClocksThrottleReasons, handle))


def open_condition_sampler(env: Mapping[str, str] | None = None) -> ConditionSampler | None:
    """A sampler of the GPUs `env` lets the benchmark use; None without NVML or without such GPUs."""
    try:
        sampler = ConditionSampler(env)
    except GpuReadError:
        return None
    if not sampler.gpus:
        sampler.close()
        return None
    return sampler
