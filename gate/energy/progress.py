"""Live progress of a running benchmark: elapsed time, current power, energy so far.

In a terminal one line is rewritten in place (at most twice a second); in CI logs (not a tty) a
plain line is printed every `plain_every_s` seconds, so logs stay readable.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

from gate.output.markdown import quantity

TTY_EVERY_S = 0.5
PLAIN_EVERY_S = 15.0


def format_line(label: str, elapsed_s: float, power_w: float, energy_j: float) -> str:
    minutes, seconds = divmod(int(elapsed_s), 60)
    return (
        f"[{label}] {minutes:d}:{seconds:02d} elapsed · {quantity(power_w, 'W')} now · {quantity(energy_j, 'J')} so far"
    )


class Progress:
    """Feed update() as often as you like; it decides what to print."""

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        tty: bool | None = None,
        plain_every_s: float = PLAIN_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.every_s = TTY_EVERY_S if self.tty else plain_every_s
        self.clock = clock
        self._last: float | None = None
        self._shown = False

    def update(self, label: str, elapsed_s: float, power_w: float, energy_j: float) -> None:
        now = self.clock()
        if self._last is not None and now - self._last < self.every_s:
            return
        self._last = now
        line = format_line(label, elapsed_s, power_w, energy_j)
        if self.tty:
            self.stream.write(f"\r\x1b[K{line}")
            self._shown = True
        else:
            self.stream.write(f"green-gate: {line}\n")
        self.stream.flush()

    def finish(self) -> None:
        """End the in-place line (tty), and start the next run's timing afresh."""
        if self.tty and self._shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
        self._shown = False
        self._last = None
