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
import resource
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import psutil

from gate import secrets
from gate.bench import cgroup, identity, subreaper
from gate.errors import BenchmarkError, cut, quoted
from gate.tracking.schema import benchmark_metric_problem, benchmark_metric_rename

METRICS_ENV = "GREEN_GATE_METRICS"
PREDICTIONS_KEY = "predictions"
# A metrics file holds a count and a few quality numbers; more than this is a bug in the benchmark,
# and reading it whole could exhaust the gate's memory.
MAX_METRICS_BYTES = 1024 * 1024
MAX_QUALITY_METRICS = 1000
# More predictions than any one benchmark run makes; past 2^53 a count is no longer exact as a float.
MAX_PREDICTIONS = 10**15
_ONE_OBJECT = 'write one JSON object, e.g. {"predictions": 12800, "accuracy": 0.912}'
TAIL_LINES = 40
# The tail goes into the report, the job summary (1 MiB at most) and the PR comment: one long line
# (a progress bar redrawn with CR, a dumped array) must not crowd out the lines that explain a failure.
MAX_TAIL_LINE_CHARS = 2000
MAX_TAIL_CHARS = 64 * 1024
KILL_GRACE_S = 5.0


@dataclass(frozen=True)
class Execution:
    returncode: int | None  # None when killed for the timeout
    duration_s: float
    timed_out: bool
    tail: tuple[str, ...]
    metrics_text: str | None  # what the benchmark wrote to GREEN_GATE_METRICS, if anything
    # User + system CPU seconds of the benchmark and the descendants it waited for (rusage).
    cpu_s: float = 0.0

    @property
    def failed(self) -> bool:
        return self.timed_out or self.returncode != 0


@dataclass(frozen=True)
class BenchmarkMetrics:
    predictions: int | None
    quality: dict[str, float]


def parse_metrics(
    text: str | None, *, reserved: frozenset[str] = frozenset(), count_key: str = PREDICTIONS_KEY
) -> BenchmarkMetrics:
    """Validate the benchmark's metrics JSON. Raises BenchmarkError naming the problem and the key.

    The count is under `count_key`, the plural of the benchmark's unit (`tokens`); `predictions` is
    read as the count too, so a benchmark that names no unit keeps working when the budget adds one.

    Quality metrics are logged to MLflow under their own names, beside the gate's: a name the gate
    uses (tracking.schema.benchmark_metric_problem) or one in `reserved` is refused, not overwritten.
    """
    if text is None or not text.strip():
        return BenchmarkMetrics(predictions=None, quality={})
    if len(text) > MAX_METRICS_BYTES or len(text.encode("utf-8", errors="replace")) > MAX_METRICS_BYTES:
        raise BenchmarkError(
            f"${METRICS_ENV} holds more than 1 MiB, the most the gate reads",
            hint="write only the prediction count and a few quality metrics, as plain numbers",
        )
    try:
        data = json.loads(text, object_pairs_hook=_unique_keys)
    except _DuplicateKey as exc:
        raise BenchmarkError(
            f"key {quoted(exc.key)} is written twice in ${METRICS_ENV}",
            hint="write each metric once; JSON readers disagree on which of the two counts",
        ) from None
    except json.JSONDecodeError as exc:
        raise BenchmarkError(
            f"the benchmark wrote invalid JSON to ${METRICS_ENV}: {exc.msg} at line {exc.lineno} column {exc.colno}",
            hint=_ONE_OBJECT,
        ) from None
    except RecursionError:
        raise BenchmarkError(f"${METRICS_ENV} is nested too deeply to read", hint=_ONE_OBJECT) from None
    except ValueError as exc:  # e.g. an integer of more digits than Python reads
        raise BenchmarkError(f"${METRICS_ENV} cannot be read: {cut(str(exc))}", hint=_ONE_OBJECT) from None
    if not isinstance(data, dict):
        raise BenchmarkError(f"${METRICS_ENV} must hold a JSON object, got {type(data).__name__}", hint=_ONE_OBJECT)
    if count_key != PREDICTIONS_KEY and count_key in data and PREDICTIONS_KEY in data:
        raise BenchmarkError(
            f"${METRICS_ENV} holds both {quoted(count_key)} and {quoted(PREDICTIONS_KEY)}",
            hint=f"report the count once, under {quoted(count_key)} (the plural of the benchmark's unit)",
        )
    key = count_key if count_key in data else PREDICTIONS_KEY
    predictions = data.pop(key, None)
    count = _prediction_count(predictions, key) if predictions is not None else None
    if len(data) > MAX_QUALITY_METRICS:
        raise BenchmarkError(
            f"${METRICS_ENV} holds {len(data):,} metrics, more than the {MAX_QUALITY_METRICS:,} the gate logs",
            hint="report the quality metrics the budget gates on, and a few more to watch",
        )
    quality: dict[str, float] = {}
    for name, value in data.items():
        problem = "is one the gate computes itself" if name in reserved else benchmark_metric_problem(name)
        if problem is not None:
            rename = benchmark_metric_rename(name)
            raise BenchmarkError(
                f"metric name {quoted(name)} in ${METRICS_ENV} {problem}",
                hint=f"rename it in the benchmark, e.g. to {rename!r}"
                if rename
                else "rename it in the benchmark: letters, digits, spaces and _ - . /, at most 250 characters",
            )
        number = _finite(value)
        if number is None:
            raise BenchmarkError(
                f"metric {quoted(name)} in ${METRICS_ENV} must be a finite number, got {quoted(value)}",
                hint="report quality metrics as plain numbers (no NaN, no Infinity)",
            )
        quality[name] = number
    return BenchmarkMetrics(predictions=count, quality=quality)


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def _finite(value: object) -> float | None:
    """`value` as a float when it is a finite JSON number (not a bool); None otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer beyond the largest float
        return None
    return number if math.isfinite(number) else None


def _prediction_count(value: object, key: str = PREDICTIONS_KEY) -> int:
    number = _finite(value)
    if number is None or not number.is_integer() or not 1 <= number <= MAX_PREDICTIONS:
        raise BenchmarkError(
            f"'{key}' in ${METRICS_ENV} must be a positive whole number (at most 10^15), got {quoted(value)}",
            hint="report how many predictions (samples, tokens, sentences) the measured run made",
        )
    return int(number)


def execute(
    argv: tuple[str, ...] | None,
    shell_command: str | None,
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout_s: float,
    echo: Callable[[str], None],
    pass_env: Collection[str] = (),
    on_exit: Callable[[], None] | None = None,
    log: Callable[[str], None] | None = None,
    on_start: Callable[[int], None] | None = None,
) -> Execution:
    """Run the command once; never leaves a process of it behind.

    The child inherits the gate's environment without the gate's credentials (gate.secrets), except
    those `pass_env` names; `env` (the budget's) is added on top.

    `on_exit` is called once, as soon as the main process has exited or the timeout fired and before
    anything is killed: the measured window ends there, so the grace given to processes the
    benchmark left behind is not measured into it. It is not called when the gate is cancelled.
    `on_start` gets the main process's id as soon as it runs (to watch its threads).
    What the benchmark left running is ended (its group, and with the gate a subreaper
    (gate.bench.subreaper) also processes that left the group) and `log` says how many."""
    with tempfile.TemporaryDirectory(prefix="green-gate-") as tmp:
        metrics_path = Path(tmp) / "metrics.json"
        inherited = secrets.active_secrets().benchmark_env(os.environ, pass_env)
        child_env = {**inherited, **env, METRICS_ENV: str(metrics_path), "PYTHONUNBUFFERED": "1"}
        marker = subreaper.Marker(METRICS_ENV, str(metrics_path))
        known = subreaper.children()
        tail: deque[str] = deque(maxlen=TAIL_LINES)
        command: list[str] = list(argv) if argv is not None else ["/bin/sh", "-c", shell_command or ""]
        if argv is not None:
            _check_executable(argv[0], cwd, child_env)
        who = identity.run_as()
        if who is not None:  # the container action: every process of that user is the benchmark's
            identity.hand_over(Path(tmp), who)  # its metrics file
        command = _tethered(command)
        box = cgroup.create() if who is None else None
        if box is not None:
            command = box.wrap(command)
        elif who is None and log is not None:
            _say_no_cgroup(log)
        start = time.perf_counter()
        children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        try:
            proc = subprocess.Popen(
                command,
                cwd=cwd,
                env=child_env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, killed as a whole
                user=who.uid if who is not None else None,
                group=who.gid if who is not None else None,
                extra_groups=[] if who is not None else None,
            )
        except OSError as exc:
            if box is not None:
                box.remove(0)
            raise BenchmarkError(
                f"cannot start the benchmark command: {exc.strerror or exc}",
                hint="check the command and working_directory in green-budget.yml",
            ) from None
        assert proc.stdout is not None
        if on_start is not None:
            on_start(proc.pid)
        reader = threading.Thread(target=_pump, args=(proc.stdout, tail, echo), daemon=True)
        reader.start()
        timed_out = False
        exited = False
        try:
            try:
                proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                timed_out = True
            duration_s = time.perf_counter() - start
            exited = not timed_out
            if on_exit is not None:
                on_exit()
        finally:
            # Also stray children left by the benchmark, and everything when the gate is cancelled
            # (gate.errors.Cancelled raised in the wait): an orphan would hold the GPU for the next job.
            left = _end(proc, marker, known, box, who)
        if exited and log is not None and left:
            log(f"ended {plural_processes(left)} the benchmark left running")
        reader.join(timeout=KILL_GRACE_S)
        # The orphans reaped in _end are in this delta with the main process and what it waited for.
        children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        metrics_text = _read_metrics(metrics_path)
    return Execution(
        returncode=None if timed_out else proc.returncode,
        duration_s=duration_s,
        timed_out=timed_out,
        tail=cap_tail(tail),
        metrics_text=metrics_text,
        cpu_s=(children_after.ru_utime - children_before.ru_utime)
        + (children_after.ru_stime - children_before.ru_stime),
    )


def _tethered(command: list[str]) -> list[str]:
    """`command` ended by SIGKILL if the gate dies first (PR_SET_PDEATHSIG through util-linux's
    `setpriv`): a gate killed with SIGKILL runs no cleanup, and its benchmark would otherwise go on
    running, orphaned. Where `setpriv` is missing the command runs as it is."""
    setpriv = shutil.which("setpriv") if sys.platform.startswith("linux") else None
    return [setpriv, "--pdeathsig", "KILL", "--", *command] if setpriv else command


_said_no_cgroup = False


def _say_no_cgroup(log: Callable[[str], None]) -> None:
    """Once per process: where a benchmark's processes are not kept in a cgroup, what escapes."""
    global _said_no_cgroup
    if not _said_no_cgroup:
        _said_no_cgroup = True
        log(
            "no writable cgroup v2 tree here: the benchmark's processes are found by process group and "
            "environment; one that leaves both (setsid and a cleared environment) is out of reach"
        )


def _check_executable(program: str, cwd: Path, env: Mapping[str, str]) -> None:
    """Refuse a command that cannot start, as starting it would (it may start behind a shell, in a cgroup)."""
    if "/" in program:
        target = cwd / program
        if target.is_file() and os.access(target, os.X_OK):
            return
        why = "Permission denied" if target.exists() else "No such file or directory"
    else:
        if shutil.which(program, path=env.get("PATH", os.defpath)) is not None:
            return
        why = "No such file or directory"
    raise BenchmarkError(
        f"cannot start the benchmark command: {why}: {quoted(program)}",
        hint="check the command and working_directory in green-budget.yml",
    )


def plural_processes(count: int) -> str:
    return f"{count} process" if count == 1 else f"{count} processes"


def _read_metrics(path: Path) -> str | None:
    """What the benchmark wrote, at most one byte past the limit: enough for parse_metrics to refuse it."""
    try:
        # Non-blocking: opening a FIFO for reading would otherwise wait forever for a writer.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as exc:  # e.g. the benchmark made the path a folder
        raise BenchmarkError(
            f"cannot read ${METRICS_ENV}: {exc.strerror or exc}",
            hint=f"write one JSON file at the path ${METRICS_ENV} names",
        ) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            os.close(fd)
            raise BenchmarkError(
                f"${METRICS_ENV} is {_file_kind(mode)}, not a regular file: the gate reads only a regular file",
                hint=f"write one JSON file at the path ${METRICS_ENV} names",
            )
        with os.fdopen(fd, "rb") as handle:
            raw = handle.read(MAX_METRICS_BYTES + 1)
    except OSError as exc:
        raise BenchmarkError(
            f"cannot read ${METRICS_ENV}: {exc.strerror or exc}",
            hint=f"write one JSON file at the path ${METRICS_ENV} names",
        ) from None
    return raw.decode("utf-8", errors="replace")


def _file_kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a file"


def _pump(stream: IO[bytes], tail: deque[str], echo: Callable[[str], None]) -> None:
    for raw in iter(stream.readline, b""):
        line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        tail.append(_cap_line(line))
        echo(line)
    stream.close()


def _cap_line(line: str) -> str:
    if len(line) <= MAX_TAIL_LINE_CHARS:
        return line
    return f"{line[:MAX_TAIL_LINE_CHARS]}… ({len(line) - MAX_TAIL_LINE_CHARS:,} characters cut)"


def cap_tail(lines: Iterable[str]) -> tuple[str, ...]:
    """The last of `lines` (each already cut to MAX_TAIL_LINE_CHARS) within MAX_TAIL_CHARS in all;
    the lines left out at the start are counted in a first line of their own."""
    capped = list(lines)
    kept: list[str] = []
    total_chars = 0
    for line in reversed(capped):
        # Room for the count line too, so the whole tail stays within the cap.
        if total_chars + len(line) + 40 > MAX_TAIL_CHARS:
            break
        kept.append(line)
        total_chars += len(line)
    kept.reverse()
    cut_lines = len(capped) - len(kept)
    return (f"… ({cut_lines} earlier lines cut)", *kept) if cut_lines else tuple(kept)


def _end(
    proc: subprocess.Popen[bytes],
    marker: subreaper.Marker,
    known: frozenset[int],
    box: cgroup.Cgroup | None = None,
    who: identity.RunAs | None = None,
) -> int:
    """End the benchmark's group and its strays (subreaper.strays): SIGTERM, then SIGKILL what is left
    after a grace period; then reap the orphans among them. Returns how many processes other than
    the main one were still running when this began.

    Strays are looked for again while the grace runs, so that one started by a process handling
    SIGTERM is ended too. Each is reaped once it has ended and is the gate's child (subreaper.reap),
    during the grace (a zombie in the group would keep the group alive) and once more after it,
    when every one has ended and so every orphan has been reparented to the gate."""
    seen: set[psutil.Process] = set()  # psutil tells processes apart by pid and start time

    def look() -> list[psutil.Process]:
        """The strays not seen before that still run. Zombies are kept in `seen` too, to be reaped."""
        # proc.poll() and proc.wait() run in this thread only: once the main process is reaped (and
        # its pid free for reuse) its returncode is set, and it is no longer looked for.
        main_pid = proc.pid if proc.returncode is None else None
        found = subreaper.strays(main_pid, proc.pid, marker, known)
        if box is not None:  # every process in the benchmark's cgroup is the benchmark's, whatever it did
            found += _processes(box.pids())
        if who is not None:  # the benchmark's own user: all its processes are the benchmark's
            found += identity.processes_of(who)
        new = [p for p in dict.fromkeys(found) if p not in seen]  # a process found both ways, once
        seen.update(new)
        return [p for p in new if subreaper.running(p)]

    left = sum(1 for p in look() if p.pid != proc.pid)
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        if not seen:  # the group has ended and nothing left it: the usual case
            proc.wait()
            if box is not None:
                box.kill()  # nothing should be left; a process that just forked would be
                box.remove(KILL_GRACE_S)
            return 0
    subreaper.signal_each(seen, signal.SIGTERM)
    deadline = time.monotonic() + KILL_GRACE_S
    while time.monotonic() < deadline:
        subreaper.signal_each(look(), signal.SIGTERM)
        # A zombie keeps its group alive: those reparented to the gate are reaped as they end.
        subreaper.reap((p for p in seen if p.pid != proc.pid), timeout_s=0)
        quiet = box is None or not box.pids()
        if proc.poll() is not None and not _group_alive(proc.pid) and not any(map(subreaper.running, seen)) and quiet:
            break
        time.sleep(0.05)
    else:
        # Stopped before any is killed: killed one by one, a shell whose child died first could run
        # its next command (a new process, a file written) before its own SIGKILL lands.
        for _ in range(3):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGSTOP)
            subreaper.signal_each(seen, signal.SIGSTOP)
            if not look():
                break
        for _ in range(3):  # a process that forks as it is killed leaves new ones: a few rounds
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            subreaper.signal_each(seen, signal.SIGKILL)
            if box is not None:
                box.kill()
            if not look():
                break
    if box is not None:
        box.kill()
    proc.wait()
    # Ended, but perhaps not yet exited: reap waits a little for each.
    subreaper.reap((p for p in seen if p.pid != proc.pid), timeout_s=KILL_GRACE_S)
    if box is not None:
        box.remove(KILL_GRACE_S)
    return left


def _processes(pids: list[int]) -> list[psutil.Process]:
    found = []
    for pid in pids:
        try:
            found.append(psutil.Process(pid))
        except psutil.Error:
            continue
    return found


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
