"""The hardware a run was measured on, and a short fingerprint for matching baselines."""

from __future__ import annotations

import hashlib
import json
import os
import platform
from dataclasses import asdict, dataclass
from pathlib import Path

from gate import gpu_nvml


@dataclass(frozen=True)
class Hardware:
    cpu_model: str
    cpu_count: int
    gpu_models: tuple[str, ...]

    @property
    def fingerprint(self) -> str:
        """Stable id of what decides energy: equal ids mean comparable runs."""
        canonical = json.dumps(asdict(self), sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()[:12]

    def describe(self) -> str:
        cpu = f"{self.cpu_model} ({self.cpu_count} CPUs)"
        if not self.gpu_models:
            return f"{cpu}, no GPU"
        names = sorted(set(self.gpu_models))
        gpus = ", ".join(f"{self.gpu_models.count(n)} x {n}" for n in names)
        return f"{gpus}; {cpu}"

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "fingerprint": self.fingerprint}


def detect() -> Hardware:
    return Hardware(
        cpu_model=_cpu_model(),
        cpu_count=os.cpu_count() or 0,
        gpu_models=tuple(g.name for g in gpu_nvml.visible_gpus()),
    )


def _cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    try:
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"
