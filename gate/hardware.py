"""The hardware a run was measured on, and a short fingerprint for matching baselines."""

from __future__ import annotations

import hashlib
import json
import os
import platform
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from gate import gpu_nvml


@dataclass(frozen=True)
class Hardware:
    cpu_model: str
    cpu_count: int
    gpu_models: tuple[str, ...]
    gpu_power_limits_w: tuple[float | None, ...] = ()  # per GPU, as enforced
    gpu_mig: tuple[str | None, ...] = ()  # per GPU: None (no MIG), "off", or the instance layout

    @property
    def fingerprint(self) -> str:
        """Stable id of what decides energy: equal ids mean comparable runs.

        The GPU power limits and MIG layouts count only when known, so a CPU machine keeps the
        fingerprint it had before they were added."""
        fields = {k: v for k, v in asdict(self).items() if k in _CORE_FIELDS or any(x is not None for x in v)}
        canonical = json.dumps(fields, sort_keys=True)
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


_CORE_FIELDS = ("cpu_model", "cpu_count", "gpu_models")


def detect() -> Hardware:
    gpus = gpu_nvml.visible_gpus()
    return Hardware(
        cpu_model=_cpu_model(),
        cpu_count=os.cpu_count() or 0,
        gpu_models=tuple(g.name for g in gpus),
        gpu_power_limits_w=tuple(g.power_limit_w for g in gpus),
        gpu_mig=tuple(g.mig for g in gpus),
    )


def differences(baseline: Mapping[str, object] | None, baseline_id: str | None, current: Hardware) -> tuple[str, ...]:
    """Why a baseline measured on `baseline` (Hardware.to_dict() of its run) is not comparable with
    this machine; empty when it is (or when the baseline does not say where it ran)."""
    if baseline_id is None or baseline_id == current.fingerprint:
        return ()
    if baseline is None:
        return (f"hardware fingerprint {baseline_id} vs {current.fingerprint}",)
    found = []
    for key, label in _COMPARED:
        theirs, ours = _plain(baseline.get(key, [] if key.startswith("gpu") else None)), _plain(getattr(current, key))
        if key == "gpu_models" and isinstance(theirs, list) and isinstance(ours, list) and len(theirs) != len(ours):
            found.append(f"GPU count: {len(theirs)} vs {len(ours)}")
        if theirs != ours:
            found.append(f"{label}: {_show(theirs)} vs {_show(ours)}")
    return tuple(found) or (f"hardware fingerprint {baseline_id} vs {current.fingerprint}",)


_COMPARED = (
    ("gpu_models", "GPU models"),
    ("gpu_power_limits_w", "GPU power limits (W)"),
    ("gpu_mig", "MIG layout"),
    ("cpu_model", "CPU model"),
    ("cpu_count", "CPU count"),
)


def _plain(value: object) -> object:
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value] if any(v is not None for v in value) else []
    return value


def _show(value: object) -> str:
    if isinstance(value, list):
        return ", ".join("?" if v is None else f"{v:g}" if isinstance(v, float) else str(v) for v in value) or "none"
    return str(value)


def _cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    try:
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"
