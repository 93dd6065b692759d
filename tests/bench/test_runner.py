"""Warm-up then measured repeats; a failure keeps what was measured before it."""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path

import pytest

from gate.bench.runner import BenchmarkFailed, run_benchmark
from gate.config.budget import BenchmarkSpec, Rules
from gate.energy.model import CpuWindow, EnergyReading, ScopeEnergy


class WallClockMeter:
    """A meter whose energy is wall time x a constant power: enough to check the window logic."""

    POWER_W = 10.0

    def __init__(self) -> None:
        self.windows = 0
        self._start: float | None = None

    def start(self) -> None:
        assert self._start is None, "start() twice"
        self._start = time.perf_counter()

    def stop(self) -> EnergyReading:
        assert self._start is not None, "stop() without start()"
        duration_s = time.perf_counter() - self._start
        self._start = None
        self.windows += 1
        return EnergyReading(duration_s, (ScopeEnergy("cpu", duration_s * self.POWER_W, "estimated", "test clock"),))


def spec(tmp_path: Path, script: str, repeats: int = 3, warmup: int = 2) -> BenchmarkSpec:
    (tmp_path / "bench.py").write_text(script)
    return BenchmarkSpec(
        name="t",
        argv=None,
        shell_command=f"{shlex.quote(sys.executable)} bench.py",
        kind="inference",
        repeats=repeats,
        warmup=warmup,
        timeout_s=30,
        working_directory=tmp_path,
        env={},
        rules=Rules(),
        line=None,
    )


COUNTING = (
    "import json, os, pathlib\n"
    "runs = pathlib.Path('runs.txt'); n = int(runs.read_text()) + 1 if runs.exists() else 1; runs.write_text(str(n))\n"
    "json.dump({'predictions': 100 * n, 'accuracy': 0.9}, open(os.environ['GREEN_GATE_METRICS'], 'w'))\n"
)


def test_warmups_run_unmeasured_then_repeats_are_measured(tmp_path: Path) -> None:
    meter = WallClockMeter()
    logged: list[str] = []
    run = run_benchmark(spec(tmp_path, COUNTING), meter, echo=lambda _: None, log=logged.append)
    assert (tmp_path / "runs.txt").read_text() == "5"  # 2 warm-ups + 3 repeats executed
    assert meter.windows == 3
    assert [r.predictions for r in run.repeats] == [300, 400, 500]  # runs 3..5 are the measured ones
    assert [r.index for r in run.repeats] == [0, 1, 2]
    assert all(r.quality == {"accuracy": 0.9} for r in run.repeats)
    assert logged[0].startswith("[t] warm-up 1/2:") and any(line.startswith("[t] repeat 3/3:") for line in logged)


def test_on_repeat_gets_the_repeats_so_far_after_each_measured_one(tmp_path: Path) -> None:
    seen: list[tuple[int | None, ...]] = []
    run_benchmark(
        spec(tmp_path, COUNTING, repeats=3, warmup=1),
        WallClockMeter(),
        echo=lambda _: None,
        log=lambda _: None,
        on_repeat=lambda repeats: seen.append(tuple(r.predictions for r in repeats)),
    )
    assert seen == [(200,), (200, 300), (200, 300, 400)]  # nothing for the warm-up


def test_failure_in_a_repeat_keeps_the_completed_ones(tmp_path: Path) -> None:
    script = COUNTING + "print('step', n)\nif n == 3: raise SystemExit(2)\n"
    with pytest.raises(BenchmarkFailed) as info:
        run_benchmark(
            spec(tmp_path, script, repeats=3, warmup=1), WallClockMeter(), echo=lambda _: None, log=lambda _: None
        )
    failure = info.value
    assert "exited with status 2 (repeat 2/3)" in failure.message
    assert [r.predictions for r in failure.completed] == [200]
    assert failure.tail == ("step 3",)


def test_a_timed_out_run_says_to_raise_timeout_s(tmp_path: Path) -> None:
    from dataclasses import replace

    slow = replace(spec(tmp_path, "import time\ntime.sleep(30)\n", repeats=1, warmup=0), timeout_s=0.5)
    with pytest.raises(BenchmarkFailed) as info:
        run_benchmark(slow, WallClockMeter(), echo=lambda _: None, log=lambda _: None)
    assert "timed out after 0.5 s" in info.value.message
    assert info.value.hint and "timeout_s" in info.value.hint and "0.5 s" in info.value.hint


def test_bad_metrics_file_fails_the_benchmark(tmp_path: Path) -> None:
    script = "import os; open(os.environ['GREEN_GATE_METRICS'], 'w').write('oops')\n"
    with pytest.raises(BenchmarkFailed) as info:
        run_benchmark(
            spec(tmp_path, script, repeats=1, warmup=0), WallClockMeter(), echo=lambda _: None, log=lambda _: None
        )
    assert "invalid JSON" in info.value.message


class StampingMeter(WallClockMeter):
    """Also notes the wall-clock time (comparable across processes) at which the window ended."""

    def __init__(self) -> None:
        super().__init__()
        self.stopped_at: list[float] = []

    def stop(self) -> EnergyReading:
        self.stopped_at.append(time.time())
        return super().stop()


# The benchmark starts a child in its group that ignores SIGTERM (noting when it came) and exits: the
# child is killed only after the grace, which must not be measured.
STUBBORN = (
    "import json, os, subprocess, sys, time\n"
    "child = (\n"
    "    'import signal, time\\n'\n"
    '    \'signal.signal(signal.SIGTERM, lambda *_: open("term.txt", "w").write(repr(time.time())))\\n\'\n'
    '    \'open("ready.txt", "w").close()\\n\'\n'
    "    'while True: time.sleep(0.05)\\n'\n"
    ")\n"
    "subprocess.Popen([sys.executable, '-c', child])\n"
    "while not os.path.exists('ready.txt'): time.sleep(0.02)\n"
    "json.dump({'predictions': 10}, open(os.environ['GREEN_GATE_METRICS'], 'w'))\n"
)


@pytest.mark.slow  # waits out the kill grace
def test_the_window_ends_when_the_main_process_exits_not_after_the_kill_grace(tmp_path: Path) -> None:
    meter = StampingMeter()
    run = run_benchmark(spec(tmp_path, STUBBORN, repeats=1, warmup=0), meter, echo=lambda _: None, log=lambda _: None)
    term_at = float((tmp_path / "term.txt").read_text())
    (stopped_at,) = meter.stopped_at
    assert stopped_at < term_at  # the meter stopped before anything left behind was signalled
    assert len(run.repeats) == 1 and meter.windows == 1


def _drop(_: str) -> None:
    pass


class WindowMeter(WallClockMeter):
    """A wall-time meter that, like the gate's own in process mode, leaves CPU to the process tree."""

    def stop(self) -> EnergyReading:
        reading = super().stop()
        return EnergyReading(
            reading.duration_s, reading.scopes, cpu_window=CpuWindow(reading.duration_s, None, 1.0, "test: 1 W")
        )


def test_a_sleeping_benchmark_is_charged_only_its_own_little_cpu_time(tmp_path: Path) -> None:
    run = run_benchmark(
        spec(tmp_path, "import time\ntime.sleep(1.0)\n", repeats=1, warmup=0), WindowMeter(), echo=_drop, log=_drop
    )
    cpu = run.repeats[0].reading.scopes[0]
    assert cpu.attribution == "process"
    assert cpu.method == "process CPU time × 1.00 W per thread (test: 1 W)"
    # the wall-time model would charge >= 10 J; the tree used well under a CPU second to start python
    assert cpu.energy_j < 0.9


def test_a_busy_benchmark_is_charged_at_least_the_cpu_time_it_burned(tmp_path: Path) -> None:
    burn = "import time\nwhile time.process_time() < 1.0:\n    pass\n"
    run = run_benchmark(spec(tmp_path, burn, repeats=1, warmup=0), WindowMeter(), echo=_drop, log=_drop)
    assert run.repeats[0].reading.scopes[0].energy_j >= 1.0  # 1 CPU second x 1 W, however busy the machine


def test_adaptive_repeats_run_min_then_ask_after_each_one_up_to_max(tmp_path: Path) -> None:
    from dataclasses import replace

    adaptive = replace(spec(tmp_path, COUNTING, repeats=2, warmup=1), repeats_max=5)
    asked: list[int] = []

    def more(repeats: tuple[object, ...]) -> bool:
        asked.append(len(repeats))
        return len(repeats) < 3

    log: list[str] = []
    run = run_benchmark(adaptive, WallClockMeter(), echo=lambda _: None, log=log.append, more=more)
    assert len(run.repeats) == 3 and asked == [2, 3]  # never asked below min
    assert any("repeat 3/2–5" in line for line in log)
    (tmp_path / "runs.txt").unlink()
    always = run_benchmark(adaptive, WallClockMeter(), echo=lambda _: None, log=lambda _: None, more=lambda _: True)
    assert len(always.repeats) == 5  # stops at max whatever `more` says
    (tmp_path / "runs.txt").unlink()
    unasked = run_benchmark(adaptive, WallClockMeter(), echo=lambda _: None, log=lambda _: None)
    assert len(unasked.repeats) == 5  # no stopping rule: max
    (tmp_path / "runs.txt").unlink()
    fixed = run_benchmark(
        spec(tmp_path, COUNTING, repeats=2, warmup=0),
        WallClockMeter(),
        echo=lambda _: None,
        log=lambda _: None,
        more=lambda _: True,
    )
    assert len(fixed.repeats) == 2  # a plain number of repeats is never extended
