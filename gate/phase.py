"""Mark the measured phase of a benchmark, so green-gate attributes energy to it alone.

    from gate.phase import phase

    load_model()                          # not measured
    with phase("inference", items=len(batch_inputs)):
        run_inference()                   # measured

Standard library only, and importing it imports nothing else of green-gate: a benchmark that runs
in another environment can copy this one file (it is self-contained) and import it as it likes.

The gate gives the benchmark `GREEN_GATE_PHASES`, a file path; each phase appends one JSON line at
its start and one at its end, stamped with `time.monotonic()` (CLOCK_MONOTONIC on Linux: one clock
for every process of the machine, so the gate's process can line the marks up with its power
samples). Without the variable (the benchmark run by hand) phases cost nothing and write nothing.
Without any phase, the gate measures the whole run.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

PHASES_ENV = "GREEN_GATE_PHASES"
FORMAT = 1

__all__ = ["PHASES_ENV", "Phase", "phase"]


class Phase:
    """The handle `with phase(...) as p` gives; set `p.items` when the count is known only at the end."""

    def __init__(self, name: str, items: int | None) -> None:
        self.name = name
        self.items = items


@contextmanager
def phase(name: str, items: int | None = None) -> Iterator[Phase]:
    """Mark `name` as running while the block runs; `items` (predictions, samples) sets J per item."""
    if not isinstance(name, str) or not name:
        raise ValueError("phase name must be a non-empty string")
    handle = Phase(name, items)
    _mark({"event": "start", "phase": name})
    ok = False
    try:
        yield handle
        ok = True
    finally:
        _mark({"event": "end", "phase": name, "items": handle.items, "ok": ok})


def _mark(record: dict[str, object]) -> None:
    path = os.environ.get(PHASES_ENV)
    if not path:
        return
    line = json.dumps({"v": FORMAT, **record, "t": time.monotonic(), "pid": os.getpid()}) + "\n"
    # One append-mode write per mark: marks from several processes never interleave within a line.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)
