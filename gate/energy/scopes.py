"""Which energy scopes a verdict rests on, and energy above idle. Pure policy on plain data.

Default: when a GPU is measured, only the GPU scope is gated and CPU/RAM (often estimates) are
reported beside it, so a flat CPU estimate cannot dilute a GPU regression. Without a GPU, every
scope measured but RAM is gated: the RAM figure is a model of memory size × wall time, so it moves
with the machine's load, not with the code; a budget that wants it names it in energy.scopes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from gate.energy.meter import EnergyMeter
from gate.energy.model import EnergyReading
from gate.errors import ConfigError


def gated_scopes(
    measured: Iterable[str], requested: tuple[str, ...] | None, *, line: int | None = None
) -> frozenset[str]:
    available = frozenset(measured)
    if requested is None:
        if "gpu" in available:
            return frozenset({"gpu"})
        return available - {"ram"} or available
    missing = sorted(set(requested) - available)
    if missing:
        raise ConfigError(
            f"energy.scopes asks for {', '.join(missing)}, which this machine does not measure "
            f"(measured: {', '.join(sorted(available)) or 'nothing'})",
            hint="drop the scope from energy.scopes, or run on hardware that has it (a GPU runner for gpu)",
            line=line,
        )
    return frozenset(requested)


def apply_scopes(reading: EnergyReading, gated: frozenset[str]) -> EnergyReading:
    return replace(reading, scopes=tuple(replace(s, gated=s.scope in gated) for s in reading.scopes))


def active_energy_j(total_j: float, idle_power_w: float, duration_s: float) -> float:
    """Energy above idle: what the work itself added. Never below 0 (idle may be measured a bit high)."""
    return max(total_j - idle_power_w * duration_s, 0.0)


class ScopedMeter:
    """Any meter, with the budget's energy.scopes applied to its readings."""

    def __init__(self, meter: EnergyMeter, requested: tuple[str, ...] | None, line: int | None = None) -> None:
        self.meter = meter
        self.requested = requested
        self.line = line

    def start(self) -> None:
        self.meter.start()

    def stop(self) -> EnergyReading:
        reading = self.meter.stop()
        gated = gated_scopes((s.scope for s in reading.scopes), self.requested, line=self.line)
        return apply_scopes(reading, gated)
