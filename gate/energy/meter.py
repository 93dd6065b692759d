"""What a meter is to the rest of the gate: start before a measured run, stop after it.

Implemented by gate.energy.codecarbon, gate.energy.nvml_meter and gate.energy.scopes; the
runner (gate.bench.runner) measures through it without knowing which one it has.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, runtime_checkable

from gate.energy.model import EnergyReading


class EnergyMeter(Protocol):
    def start(self) -> None: ...

    def stop(self) -> EnergyReading: ...


@runtime_checkable
class ChildEnvMeter(Protocol):
    """A meter that gives the benchmark environment variables (e.g. where to write phase marks)."""

    def child_env(self) -> dict[str, str]: ...


@runtime_checkable
class GpuSelectingMeter(Protocol):
    """A meter that measures the GPUs a benchmark's own environment lets it use (CUDA_VISIBLE_DEVICES)."""

    def select_gpus(self, env: Mapping[str, str]) -> None: ...
