"""The NVML boundary: which NVIDIA GPUs this process can see. The only module that imports pynvml."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class GpuInfo:
    name: str
    uuid: str
    driver: str
    power_limit_w: float | None = None  # enforced power limit; None when NVML cannot say
    mig: str | None = None  # None: MIG not supported; "off"; or the layout, e.g. "3g.40gb+2x1g.10gb"


def visible_gpus() -> tuple[GpuInfo, ...]:
    """The GPUs NVML reports; empty when there is no NVIDIA driver (a laptop, a CPU runner)."""
    try:
        import pynvml
    except ImportError:
        return ()
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError:
        return ()
    try:
        driver = _text(pynvml.nvmlSystemGetDriverVersion())
        gpus = []
        for index in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            limit_mw: int | None = _optional(pynvml, partial(pynvml.nvmlDeviceGetEnforcedPowerLimit, handle))
            gpus.append(
                GpuInfo(
                    _text(pynvml.nvmlDeviceGetName(handle)),
                    _text(pynvml.nvmlDeviceGetUUID(handle)),
                    driver,
                    power_limit_w=None if limit_mw is None else round(float(limit_mw) / 1000.0, 1),
                    mig=_mig_layout(pynvml, handle),
                )
            )
        return tuple(gpus)
    except pynvml.NVMLError:
        return ()
    finally:
        pynvml.nvmlShutdown()


def temperatures_c() -> tuple[float, ...]:
    """Core temperature of every visible GPU; empty without NVML or GPUs (callers report the no-op)."""
    try:
        import pynvml
    except ImportError:
        return ()
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError:
        return ()
    try:
        return tuple(
            float(
                pynvml.nvmlDeviceGetTemperature(pynvml.nvmlDeviceGetHandleByIndex(index), pynvml.NVML_TEMPERATURE_GPU)
            )
            for index in range(pynvml.nvmlDeviceGetCount())
        )
    except pynvml.NVMLError:
        return ()
    finally:
        pynvml.nvmlShutdown()


def _mig_layout(pynvml: Any, handle: Any) -> str | None:
    modes = _optional(pynvml, lambda: pynvml.nvmlDeviceGetMigMode(handle))
    if modes is None:
        return None  # not a MIG-capable GPU
    if modes[0] != pynvml.NVML_DEVICE_MIG_ENABLE:
        return "off"
    count = _optional(pynvml, lambda: pynvml.nvmlDeviceGetMaxMigDeviceCount(handle)) or 0
    profiles: list[str] = []
    for index in range(count):
        mig: Any = _optional(pynvml, partial(pynvml.nvmlDeviceGetMigDeviceHandleByIndex, handle, index))
        if mig is not None:
            name = _text(pynvml.nvmlDeviceGetName(mig))
            profiles.append(name.rsplit(" ", 1)[-1])  # "NVIDIA H100 80GB HBM3 MIG 1g.10gb" -> "1g.10gb"
    counted = sorted({p: profiles.count(p) for p in profiles}.items())
    return "+".join(f"{n}x{p}" if n > 1 else p for p, n in counted) or "on, no instances"


def _optional(pynvml: Any, call: Callable[[], T]) -> T | None:
    try:
        return call()
    except pynvml.NVMLError:
        return None


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value
