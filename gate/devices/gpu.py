"""GPUs as plain data: what a device is, which ones this process may use, and how readings are asked for.

Pure: no pynvml here. `gate.devices.nvml` implements `GpuReader` on NVML; the energy engine (sampler,
timeline, meter) only sees this protocol, so CI tests it with a reader built from recorded traces.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from gate.errors import MeasurementError


@dataclass(frozen=True)
class GpuInfo:
    """One physical GPU as NVML reports it. Only name (and count) and the power settings decide energy."""

    name: str
    uuid: str
    driver: str
    index: int = 0  # NVML index (PCI bus order)
    power_limit_w: float | None = None  # enforced power limit; None when NVML does not say
    mig_mode: bool | None = None  # None: MIG not supported on this GPU
    mig_uuids: tuple[str, ...] = ()  # MIG instances, when MIG is on
    other_pids: tuple[int, ...] = ()  # processes already using the GPU when it was inspected


@dataclass(frozen=True)
class Selection:
    """The GPUs the benchmark can use, and what was noticed while choosing them."""

    gpus: tuple[GpuInfo, ...]
    notes: tuple[str, ...] = field(default=())


# --- typed errors of the GPU boundary -------------------------------------------------------------


class GpuReadError(MeasurementError):
    """A GPU reading failed; subclasses say why."""

    title = "GPU energy could not be read"


class GpuNotSupportedError(GpuReadError):
    """This GPU does not offer the reading (e.g. no energy counter before Volta)."""


class GpuPermissionError(GpuReadError):
    title = "no permission to read the GPU"


class GpuUnreachableError(GpuReadError):
    """NVML itself is missing or not working (no driver, library mismatch)."""

    title = "NVML unavailable"


class GpuAbsentError(GpuUnreachableError):
    """No NVIDIA library or driver at all: the one NVML failure that means "no GPU" (a CPU runner)."""


class GpuLostError(GpuReadError):
    title = "the GPU fell off the bus"


class NoEnergyDataError(MeasurementError):
    """Nothing at all could be read for a window: never reported as 0 J."""


class GpuReader(Protocol):
    """Readings of the selected GPUs, by position in `devices()`. Raises GpuReadError subclasses."""

    def devices(self) -> tuple[GpuInfo, ...]: ...

    def energy_mj(self, position: int) -> int:
        """The GPU's total-energy counter in mJ (ticks about every 100 ms; one read may cost ms)."""
        ...

    def power_w(self, position: int) -> float:
        """Current board power in W (a cheap read, microseconds)."""
        ...


@runtime_checkable
class AveragedPowerReader(Protocol):
    """A reader that can say its `power_w` is a trailing 1 s average rather than instant power."""

    def power_averaged(self, position: int) -> bool: ...


# --- CUDA_VISIBLE_DEVICES / NVIDIA_VISIBLE_DEVICES -------------------------------------------------


def select_visible(gpus: Sequence[GpuInfo], env: Mapping[str, str]) -> Selection:
    """The GPUs of `gpus` (all that NVML sees) that `env` lets CUDA programs use.

    NVIDIA_VISIBLE_DEVICES is the container runtime's variable, read when the container is made: the
    runtime then injects those GPUs, so NVML inside already sees only them, and CUDA never reads it.
    Its value says nothing reliable about this process: `void` in CDI mode while GPUs are injected, a
    path with the device plugin's volume-mounts strategy, `0:1` MIG specs. So it only adds a note.
    CUDA_VISIBLE_DEVICES then picks among the GPUs NVML sees, like CUDA does: indices relative to
    them, `GPU-`/`MIG-` UUIDs (or unique prefixes), stopping at the first entry that matches nothing.
    A MIG instance selects its parent GPU, whose energy includes every instance.
    """
    notes: list[str] = []
    chosen = list(gpus)
    nvidia = env.get("NVIDIA_VISIBLE_DEVICES")
    if nvidia is not None and nvidia.strip().lower() != "all":
        notes.append(
            f"NVIDIA_VISIBLE_DEVICES={nvidia!r} is the container runtime's (CUDA does not read it): the GPUs "
            "measured are those NVML sees here, narrowed by CUDA_VISIBLE_DEVICES"
        )
    cuda = env.get("CUDA_VISIBLE_DEVICES")
    if cuda is not None:
        chosen, mig = _pick(chosen, _split(cuda), "CUDA_VISIBLE_DEVICES", notes)
        if mig:
            notes.append(
                "a MIG instance is selected: NVML measures the whole GPU, so its energy includes "
                "every other instance on it"
            )
        order = env.get("CUDA_DEVICE_ORDER", "FASTEST_FIRST")
        if order != "PCI_BUS_ID" and len({g.name for g in gpus}) > 1 and any(e.isdigit() for e in _split(cuda)):
            notes.append(
                "CUDA_VISIBLE_DEVICES uses indices on GPUs of different models without "
                "CUDA_DEVICE_ORDER=PCI_BUS_ID: CUDA's order may differ from NVML's; set it to be sure"
            )
    if cuda is None and len(chosen) > 1:
        notes.append(
            f"{len(chosen)} GPUs are measured and summed (CUDA_VISIBLE_DEVICES is not set): idle ones add their "
            "power and dilute a change on the one that works; set it in the benchmark's env: to the GPUs it uses"
        )
    cuda_entries = [e.upper() for e in _split(cuda or "")]
    for gpu in chosen:
        if gpu.mig_mode and not any(e.startswith("MIG-") and _match([gpu], e) for e in cuda_entries):
            notes.append(
                f"GPU {gpu.index} ({gpu.name}) has MIG on and no MIG instance of it is named in "
                "CUDA_VISIBLE_DEVICES: its energy is the whole GPU's, every instance included"
            )
    return Selection(tuple(chosen), tuple(notes))


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _pick(gpus: list[GpuInfo], entries: list[str], variable: str, notes: list[str]) -> tuple[list[GpuInfo], bool]:
    """Entries in order, as CUDA reads them; a MIG UUID maps to its parent. Returns (gpus, any MIG)."""
    picked: list[GpuInfo] = []
    mig = False
    for entry in entries:
        match = _match(gpus, entry)
        if match is None:
            notes.append(f"{variable}: {entry!r} matches no visible GPU; it and the entries after it are ignored")
            break
        if entry.upper().startswith("MIG-"):
            mig = True
        if match not in picked:
            picked.append(match)
    return picked, mig


def _match(gpus: list[GpuInfo], entry: str) -> GpuInfo | None:
    if entry.lstrip("-").isdigit():
        position = int(entry)
        return gpus[position] if 0 <= position < len(gpus) else None
    wanted = entry.lower()
    hits = [
        g for g in gpus if g.uuid.lower().startswith(wanted) or any(m.lower().startswith(wanted) for m in g.mig_uuids)
    ]
    return hits[0] if len(hits) == 1 else None
