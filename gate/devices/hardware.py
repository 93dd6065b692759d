"""The hardware a run was measured on, and a short fingerprint for matching baselines."""

from __future__ import annotations

import hashlib
import json
import os
import platform
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from gate.devices import nvml
from gate.devices.gpu import GpuAbsentError, GpuInfo


@dataclass(frozen=True)
class Hardware:
    cpu_model: str
    cpu_count: int
    gpu_models: tuple[str, ...]
    gpus: tuple[GpuInfo, ...] = ()  # details, recorded with every run
    notes: tuple[str, ...] = field(default=())  # how the GPUs were chosen (CUDA_VISIBLE_DEVICES, MIG)

    @property
    def fingerprint(self) -> str:
        """Stable id of what decides energy: equal ids mean comparable runs.

        CPU model and count, GPU models and count, and (with GPUs) each GPU's power limit and MIG
        mode. UUIDs and the driver are recorded but left out: another H100 of the same kind, or a
        driver update, still compares with its baseline. Without GPUs the id is what it always was.
        """
        text = json.dumps(self.comparable(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def describe(self) -> str:
        cpu = f"{self.cpu_model} ({self.cpu_count} CPUs)"
        if not self.gpu_models:
            return f"{cpu}, no GPU"
        names = sorted(set(self.gpu_models))
        gpus = ", ".join(f"{self.gpu_models.count(n)} x {n}" for n in names)
        limits = sorted({f"{g.power_limit_w:g} W" for g in self.gpus if g.power_limit_w is not None})
        if limits:
            gpus += f" (power limit {', '.join(limits)})"
        if any(g.mig_mode for g in self.gpus):
            gpus += ", MIG on"
        driver = f", driver {self.gpus[0].driver}" if self.gpus else ""
        return f"{gpus}{driver}; {cpu}"

    def comparable(self) -> dict[str, Any]:
        """The facts that decide energy, as hashed into the fingerprint and compared between runs."""
        return _comparable(self.cpu_model, self.cpu_count, list(self.gpu_models), [asdict(g) for g in self.gpus])

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "fingerprint": self.fingerprint}

    def warnings(self) -> list[str]:
        """What the report must say about the hardware: other work on the GPU, visibility notes."""
        out = [
            f"Other processes were using GPU {g.index} ({g.name}) when the check started "
            f"(PIDs {', '.join(map(str, g.other_pids))}): its energy includes their work."
            for g in self.gpus
            if g.other_pids
        ]
        return out + [f"GPU selection: {note}." for note in self.notes]


def detect(env: Mapping[str, str] | None = None) -> Hardware:
    try:
        selection = nvml.inspect(env)
        gpus, notes = selection.gpus, selection.notes
    except GpuAbsentError:  # no driver: a CPU runner; any other NVML failure is an error to report
        gpus, notes = (), ()
    return Hardware(
        cpu_model=_cpu_model(),
        cpu_count=os.cpu_count() or 0,
        gpu_models=tuple(g.name for g in gpus),
        gpus=gpus,
        notes=notes,
    )


def _cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    try:
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def _comparable(cpu_model: object, cpu_count: object, gpu_models: list[Any], gpus: list[Any]) -> dict[str, Any]:
    canonical: dict[str, Any] = {"cpu_model": cpu_model, "cpu_count": cpu_count, "gpu_models": gpu_models}
    if gpus:  # GPU-only fields: a CPU-only machine's id must not change with them (its recorded runs match)
        canonical["gpu_power_limits_w"] = [g.get("power_limit_w") for g in gpus if isinstance(g, dict)]
        canonical["gpu_mig_modes"] = [g.get("mig_mode") for g in gpus if isinstance(g, dict)]
    return canonical


_COMPARED = (
    ("gpu_models", "GPU models"),
    ("gpu_power_limits_w", "GPU power limits (W)"),
    ("gpu_mig_modes", "MIG mode"),
    ("cpu_model", "CPU model"),
    ("cpu_count", "CPU count"),
)


def differences(baseline: Mapping[str, Any] | None, baseline_id: str | None, current: Hardware) -> tuple[str, ...]:
    """Why a baseline measured on `baseline` (Hardware.to_dict() of its run) is not comparable with
    this machine; empty when it is (or when the baseline does not say where it ran)."""
    if baseline_id is None or baseline_id == current.fingerprint:
        return ()
    if baseline is None:
        return (f"hardware fingerprint {baseline_id} vs {current.fingerprint}",)
    theirs = _comparable(
        baseline.get("cpu_model"),
        baseline.get("cpu_count"),
        list(baseline.get("gpu_models") or []),
        list(baseline.get("gpus") or []),
    )
    ours = current.comparable()
    found = []
    if len(theirs["gpu_models"]) != len(ours["gpu_models"]):
        found.append(f"GPU count: {len(theirs['gpu_models'])} vs {len(ours['gpu_models'])}")
    for key, label in _COMPARED:
        missing: object = [] if key.startswith("gpu") else None  # a machine without GPUs has none of these
        if theirs.get(key, missing) != ours.get(key, missing):
            found.append(f"{label}: {_show(theirs.get(key, missing))} vs {_show(ours.get(key, missing))}")
    return tuple(found) or (f"hardware fingerprint {baseline_id} vs {current.fingerprint}",)


def _show(value: object) -> str:
    if isinstance(value, list):
        return ", ".join(_show(v) for v in value) or "none"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    return "?" if value is None else str(value)
