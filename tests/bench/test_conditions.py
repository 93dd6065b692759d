"""The runner reads its condition around every measured repeat: probes outside the window, threads during it."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from gate.bench import conditions as watch_module
from gate.bench.conditions import RepeatWatch, ThreadWatch, probe
from gate.bench.runner import run_benchmark
from gate.devices.conditions import ProbeTiming, Snapshot
from tests.bench.test_runner import COUNTING, WallClockMeter, spec

THREADED = (
    "import json, os, threading, time\n"
    "ts = [threading.Thread(target=time.sleep, args=(0.6,)) for _ in range(5)]\n"
    "[t.start() for t in ts]; [t.join() for t in ts]\n"
    "json.dump({'predictions': 1}, open(os.environ['GREEN_GATE_METRICS'], 'w'))\n"
)


@pytest.fixture(autouse=True)
def _conditions_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(watch_module.CONDITIONS_ENV, raising=False)


def test_the_probe_times_a_fixed_amount_of_hashing_in_cpu_seconds() -> None:
    timing = probe()
    assert timing.work_mb == watch_module.PROBE_BYTES / 1e6
    assert 0 < timing.cpu_s <= timing.wall_s + 0.01
    assert timing.speed_mb_per_cpu_s is not None and timing.speed_mb_per_cpu_s > 10


def test_every_measured_repeat_carries_its_conditions_and_warmups_none(tmp_path: Path) -> None:
    run = run_benchmark(
        spec(tmp_path, COUNTING, repeats=2, warmup=1), WallClockMeter(), echo=lambda _: None, log=lambda _: None
    )
    assert len(run.repeats) == 2
    for repeat in run.repeats:
        c = repeat.conditions
        assert c is not None
        assert c.speed_index is not None and c.speed_before is not None and c.speed_after is not None
        assert c.window_s > 0 and c.cpus == os.cpu_count()
        assert c.threads_max is not None and c.threads_max >= 1
        if Path("/proc/stat").exists():
            assert c.others_busy_pct is not None and c.steal_pct is not None and c.cpu_per_wall is not None


def test_the_threads_of_the_benchmark_are_counted_while_it_runs(tmp_path: Path) -> None:
    threaded = replace(spec(tmp_path, THREADED, repeats=1, warmup=0), env={"OMP_NUM_THREADS": "1"})
    (repeat,) = run_benchmark(threaded, WallClockMeter(), echo=lambda _: None, log=lambda _: None).repeats
    assert repeat.conditions is not None
    assert repeat.conditions.threads_max is not None and repeat.conditions.threads_max >= 6  # main + 5
    assert repeat.conditions.threads_pinned and not repeat.conditions.spin_wait_suspected


def test_the_probes_run_outside_the_measured_window() -> None:
    events: list[str] = []

    def probe_now() -> ProbeTiming:
        events.append("probe")
        return ProbeTiming(1.0, 0.01, 0.01)

    def snap() -> Snapshot:
        events.append("snapshot")
        return Snapshot(time.perf_counter(), None, None, None)

    watch = RepeatWatch({}, probe=probe_now, snapshot=snap, load_average=lambda: 2.0)
    watch.before()
    events.append("window")
    watch.ended()
    conditions = watch.finish(1.0, 2.0)
    assert events == ["probe", "snapshot", "window", "snapshot", "probe"]
    assert conditions is not None and conditions.load_avg_1m == 2.0 and conditions.cpu_per_wall == 0.5


def test_no_conditions_when_the_window_never_closed() -> None:
    watch = RepeatWatch({}, probe=lambda: ProbeTiming(1.0, 0.01, 0.01))
    watch.before()
    assert watch.finish(1.0, 1.0) is None


def test_the_thread_watch_stops_by_itself_when_the_process_is_gone() -> None:
    import subprocess

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    counter = ThreadWatch(interval_s=0.01)
    counter.start(proc.pid)
    time.sleep(0.1)
    assert counter._thread is not None and not counter._thread.is_alive()
    assert counter.stop() is None


def test_set_off_the_runner_reads_no_conditions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(watch_module.CONDITIONS_ENV, "off")
    run = run_benchmark(
        spec(tmp_path, COUNTING, repeats=1, warmup=0), WallClockMeter(), echo=lambda _: None, log=lambda _: None
    )
    assert run.repeats[0].conditions is None
