"""Thermal hygiene between measured runs: an optional cool-down and an optional start-temperature
check. Policy only; the clock and the thermometer are passed in (the GPU one is gate.devices.nvml).

Everything it does is said in its notes, including doing nothing because no GPU is visible.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

WAIT_LIMIT_S = 300.0  # the longest a start-temperature check waits before measuring anyway
POLL_S = 2.0


@dataclass
class ThermalControl:
    cooldown_s: float = 0.0
    max_start_temperature_c: float | None = None
    read_temperatures_c: Callable[[], tuple[float, ...]] = field(default=lambda: ())
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    wait_limit_s: float = WAIT_LIMIT_S
    notes: list[str] = field(default_factory=list)
    _no_gpu_noted: bool = False

    @property
    def active(self) -> bool:
        return self.cooldown_s > 0 or self.max_start_temperature_c is not None

    def before_measured_run(self, label: str) -> None:
        """Cool down, then wait (bounded) until every GPU is at or below the start temperature."""
        if self.cooldown_s > 0:
            self.sleep(self.cooldown_s)
        limit = self.max_start_temperature_c
        if limit is None:
            return
        temperatures = self.read_temperatures_c()
        if not temperatures:
            if not self._no_gpu_noted:
                self.notes.append(
                    f"max_start_temperature_c: {limit:g} °C set, but no GPU temperature is readable here: "
                    "the start-temperature check did nothing."
                )
                self._no_gpu_noted = True
            return
        started = self.clock()
        waited_s = 0.0
        while max(temperatures) > limit and waited_s < self.wait_limit_s:
            self.sleep(POLL_S)
            waited_s = self.clock() - started
            temperatures = self.read_temperatures_c() or temperatures
        if max(temperatures) > limit:
            self.notes.append(
                f"{label} started at {max(temperatures):g} °C, above max_start_temperature_c {limit:g} °C, "
                f"after waiting {waited_s:.0f} s (the limit on waiting)."
            )
        elif waited_s > 0:
            self.notes.append(f"{label} waited {waited_s:.0f} s for the GPUs to cool to {limit:g} °C.")
