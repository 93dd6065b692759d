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

GPU work is asynchronous: when the block exits, kernels it queued may still be running, and their
energy would fall after the end mark; work queued before the block (a warm-up) may still be running
when it starts, and would fall inside. So before each mark, start and end, the phase waits for the
GPU: with `sync=` a callable the benchmark gives (e.g. `torch.cuda.synchronize`); by default, when
the benchmark has already imported torch (with CUDA initialised) or CuPy, their device synchronize,
on every device the process has used (torch: each device its caching allocator holds memory on, and
the current one; CuPy: each device with a context, and the current one); `sync=False` turns this
off. Nothing is imported for it, so a CPU benchmark pays nothing.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

PHASES_ENV = "GREEN_GATE_PHASES"
FORMAT = 1

__all__ = ["PHASES_ENV", "Phase", "phase"]


class Phase:
    """The handle `with phase(...) as p` gives; set `p.items` when the count is known only at the end."""

    def __init__(self, name: str, items: int | None) -> None:
        self.name = name
        self.items = items


@contextmanager
def phase(name: str, items: int | None = None, *, sync: Callable[[], object] | bool = True) -> Iterator[Phase]:
    """Mark `name` as running while the block runs; `items` (predictions, samples) sets J per item.

    `sync`: what waits for queued GPU work before the end mark (True: torch/CuPy if already imported;
    False: nothing; a callable: that)."""
    if not isinstance(name, str) or not name:
        raise ValueError("phase name must be a non-empty string")
    handle = Phase(name, items)
    if os.environ.get(PHASES_ENV):
        _synchronize(sync)  # work queued before the block is not the phase's
    _mark({"event": "start", "phase": name})
    ok = False
    try:
        yield handle
        ok = True
    finally:
        try:
            if os.environ.get(PHASES_ENV):
                _synchronize(sync)
        except BaseException:  # failed queued GPU work makes the phase a failed one, still ended
            ok = False
            raise
        finally:
            _mark({"event": "end", "phase": name, "items": handle.items, "ok": ok})


def _synchronize(sync: Callable[[], object] | bool) -> None:
    if sync is False:
        return
    if callable(sync):
        sync()
        return
    torch = sys.modules.get("torch")
    cuda = getattr(torch, "cuda", None)
    if cuda is not None and cuda.is_available() and cuda.is_initialized():
        for device in _torch_devices(cuda):
            cuda.synchronize(device)
    cupy = sys.modules.get("cupy")
    if cupy is not None:
        runtime = cupy.cuda.runtime
        current = runtime.getDevice()
        for device in _cupy_devices(cupy, current):
            runtime.setDevice(device)
            try:
                runtime.deviceSynchronize()
            finally:
                runtime.setDevice(current)


def _torch_devices(cuda: Any) -> list[int]:
    """The devices this process used through torch: synchronizing one it never touched would create a
    CUDA context there (memory and power on a GPU the benchmark does not use)."""
    current = int(cuda.current_device())
    used = [current]
    for device in range(int(cuda.device_count())):
        if device != current and cuda.memory_reserved(device) > 0:
            used.append(device)
    return used


def _cupy_devices(cupy: Any, current: int) -> list[int]:
    """The devices with a CUDA context of this process (CuPy's current one, and any other it opened)."""
    used = [current]
    runtime = cupy.cuda.runtime
    driver = cupy.cuda.driver
    for device in range(int(runtime.getDeviceCount())):
        if device == current:
            continue
        try:
            active = driver.devicePrimaryCtxGetState(device)[1]
        except Exception:  # an older CuPy without it: the current device only
            break
        if active:
            used.append(device)
    return used


def stamp() -> dict[str, object]:
    """When a mark is made: what `_mark` writes beside the event (for marks written later, e.g. by
    a pyperf hook that learns the benchmark's name only after its values ran)."""
    # `wall` beside `t` lets the gate tell marks stamped on another kernel's monotonic clock (a VM,
    # a sandboxed container): their wall - monotonic offset differs from the gate's.
    # `cpu_s`: this process's CPU seconds (all its threads; and its children waited for) at the
    # mark, so the gate can charge each phase the CPU time spent inside it. process_time() has
    # nanosecond resolution; os.times() counts in clock ticks (10 ms), too coarse for a short phase.
    children = os.times()
    cpu_s = time.process_time() + children.children_user + children.children_system
    return {"t": time.monotonic(), "wall": time.time(), "pid": os.getpid(), "cpu_s": cpu_s}


def _mark(record: dict[str, object], when: dict[str, object] | None = None) -> None:
    path = os.environ.get(PHASES_ENV)
    if not path:
        return
    line = json.dumps({"v": FORMAT, **record, **(when or stamp())}) + "\n"
    # One append-mode write per mark: marks from several processes never interleave within a line.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)
