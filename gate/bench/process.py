"""Run one execution of a benchmark as a child in its own process group.

Output is streamed live (through `echo`) and its tail kept for the report; a timeout kills the whole
group; the child gets `GREEN_GATE_METRICS`, a path where it may write JSON such as
`{"predictions": 12800, "accuracy": 0.912}`.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import subprocess
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from gate.errors import BenchmarkError

METRICS_ENV = "GREEN_GATE_METRICS"
PREDICTIONS_KEY = "predictions"
TAIL_LINES = 40
KILL_GRACE_S = 5.0


@dataclass(frozen=True)
class Execution:
    returncode: int | None  # None when killed for the timeout
    duration_s: float
    timed_out: bool
    tail: tuple[str, ...]
    metrics_text: str | None  # what the benchmark wrote to GREEN_GATE_METRICS, if anything

    @property
    def failed(self) -> bool:
        return self.timed_out or self.returncode != 0


@dataclass(frozen=True)
class BenchmarkMetrics:
    predictions: int | None
    quality: dict[str, float]


def parse_metrics(text: str | None, *, reserved: frozenset[str] = frozenset()) -> BenchmarkMetrics:
    """Validate the benchmark's metrics JSON. Raises BenchmarkError naming the problem."""
    if text is None or not text.strip():
        return BenchmarkMetrics(predictions=None, quality={})
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BenchmarkError(
            f"the benchmark wrote invalid JSON to ${METRICS_ENV}: {exc.msg} at line {exc.lineno} column {exc.colno}",
            hint='write one JSON object, e.g. {"predictions": 12800, "accuracy": 0.912}',
        ) from None
    if not isinstance(data, dict):
        raise BenchmarkError(
            f"${METRICS_ENV} must hold a JSON object, got {type(data).__name__}",
            hint='write one JSON object, e.g. {"predictions": 12800, "accuracy": 0.912}',
        )
    predictions = data.pop(PREDICTIONS_KEY, None)
    if predictions is not None:
        if isinstance(predictions, bool) or not isinstance(predictions, (int, float)) or predictions <= 0:
            raise BenchmarkError(
                f"'{PREDICTIONS_KEY}' in ${METRICS_ENV} must be a positive number, got {predictions!r}",
                hint="report how many predictions (samples, tokens, sentences) the measured run made",
            )
        predictions = int(predictions)
    quality: dict[str, float] = {}
    for name, value in data.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise BenchmarkError(
                f"metric {name!r} in ${METRICS_ENV} must be a finite number, got {value!r}",
                hint="report quality metrics as plain numbers",
            )
        if name in reserved:
            raise BenchmarkError(
                f"metric name {name!r} in ${METRICS_ENV} is one the gate computes itself",
                hint="rename it in the benchmark (e.g. prefix it with the model name)",
            )
        quality[name] = float(value)
    return BenchmarkMetrics(predictions=predictions, quality=quality)


def execute(
    argv: tuple[str, ...] | None,
    shell_command: str | None,
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout_s: float,
    echo: Callable[[str], None],
) -> Execution:
    """Run the command once; never leaves a process of its group behind."""
    with tempfile.TemporaryDirectory(prefix="green-gate-") as tmp:
        metrics_path = Path(tmp) / "metrics.json"
        child_env = {**os.environ, **env, METRICS_ENV: str(metrics_path), "PYTHONUNBUFFERED": "1"}
        tail: deque[str] = deque(maxlen=TAIL_LINES)
        start = time.perf_counter()
        try:
            proc = subprocess.Popen(
                list(argv) if argv is not None else shell_command or "",
                shell=argv is None,
                cwd=cwd,
                env=child_env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, killed as a whole
            )
        except OSError as exc:
            raise BenchmarkError(
                f"cannot start the benchmark command: {exc.strerror or exc}",
                hint="check the command and working_directory in green-budget.yml",
            ) from None
        assert proc.stdout is not None
        reader = threading.Thread(target=_pump, args=(proc.stdout, tail, echo), daemon=True)
        reader.start()
        timed_out = False
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(proc)
        except BaseException:  # Ctrl-C or a signal to the gate: take the benchmark down with it
            _kill_group(proc)
            raise
        duration_s = time.perf_counter() - start
        _kill_group(proc)  # stray children left by the benchmark
        reader.join(timeout=KILL_GRACE_S)
        metrics_text = metrics_path.read_text(encoding="utf-8", errors="replace") if metrics_path.exists() else None
    return Execution(
        returncode=None if timed_out else proc.returncode,
        duration_s=duration_s,
        timed_out=timed_out,
        tail=tuple(tail),
        metrics_text=metrics_text,
    )


def _pump(stream: IO[bytes], tail: deque[str], echo: Callable[[str], None]) -> None:
    for raw in iter(stream.readline, b""):
        line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        tail.append(line)
        echo(line)
    stream.close()


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the group, then SIGKILL what is left after a grace period."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + KILL_GRACE_S
    while time.monotonic() < deadline:
        if proc.poll() is not None and not _group_alive(proc.pid):
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def describe_failure(execution: Execution, timeout_s: float) -> str:
    if execution.timed_out:
        return f"timed out after {timeout_s:g} s; the whole process group was killed"
    code = execution.returncode
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"was killed by {name}"
    return f"exited with status {code}"
