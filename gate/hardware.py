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

from gate import gpu_nvml
from gate.gpu_devices import GpuInfo, GpuReadError


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
        canonical: dict[str, Any] = {
            "cpu_model": self.cpu_model,
            "cpu_count": self.cpu_count,
            "gpu_models": list(self.gpu_models),
        }
        if self.gpus:
            canonical["gpu_power_limits_w"] = [g.power_limit_w for g in self.gpus]
            canonical["gpu_mig_modes"] = [g.mig_mode for g in self.gpus]
        text = json.dumps(canonical, sort_keys=True)
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
        selection = gpu_nvml.inspect(env)
        gpus, notes = selection.gpus, selection.notes
    except GpuReadError:
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
