"""A pyperf hook that makes each benchmark of a pyperf run a measured phase of its own.

Registered with green-gate (entry point group `pyperf.hook`, name `green_gate`): run the script with
`--hook green_gate --inherit-environ GREEN_GATE_PHASES` (pyperf's workers get a clean environment
unless told). In each worker, every timed value (warm-ups included: they run the same loops) is a
window of the phase named after the benchmark, counting loops × inner loops calls; calibration
workers, whose loop counts change between values, are left out of the measurement. pyperf tells a
hook the benchmark's name only when its values are done, so the marks are written then, with the
times and CPU seconds taken at each value's start and end. Without GREEN_GATE_PHASES it does nothing.
"""

from __future__ import annotations

import itertools
import os
import sys
from types import TracebackType

from gate.phase import PHASES_ENV, _mark, stamp

_CALIBRATING = ("--calibrate-loops", "--recalibrate-loops", "--calibrate-warmups", "--recalibrate-warmups")


class PhaseHook:
    """pyperf calls `__enter__`/`__exit__` around each value's timing and `teardown` after them."""

    def __init__(self) -> None:
        self._start: dict[str, object] | None = None
        self._windows: list[tuple[dict[str, object], dict[str, object]]] = []

    def __enter__(self) -> PhaseHook:
        self._start = stamp() if os.environ.get(PHASES_ENV) else None
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self._start is not None:
            self._windows.append((self._start, stamp()))
            self._start = None

    def teardown(self, metadata: dict[str, object]) -> None:
        windows, self._windows = self._windows, []
        name = metadata.get("name")
        if not windows or not isinstance(name, str) or any(flag in sys.argv for flag in _CALIBRATING):
            return
        loops = _loops(sys.argv)
        inner = metadata.get("inner_loops")
        calls = loops * (inner if isinstance(inner, int) and inner > 0 else 1) if loops else None
        for start, end in windows:
            _mark({"event": "start", "phase": name}, start)
            _mark({"event": "end", "phase": name, "items": calls, "ok": True}, end)


def _loops(argv: list[str]) -> int | None:
    """The loops per value pyperf gave this worker (`--loops N`)."""
    for flag, value in itertools.pairwise(argv):
        if flag == "--loops" and value.isdigit() and int(value) > 0:
            return int(value)
    return None
