"""Small real benchmarks for the tools whose outputs the gate reads: a pytest-benchmark suite, a
pyperf script, an MLPerf LoadGen run with a Python SUT. Each writes what the real tool writes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

# Five cases of different cost; WORK_<CASE> in the environment scales one case's work.
PYTEST_BENCH_SUITE = """\
import os

def work(n):
    total = 0
    for i in range(n):
        total += i * i
    return total

def scale(case, n):
    return int(n * float(os.environ.get(f"WORK_{case.upper()}", "1")))

def test_small(benchmark):
    benchmark.pedantic(work, args=(scale("small", 20_000),), rounds=40, iterations=1)

def test_medium(benchmark):
    benchmark.pedantic(work, args=(scale("medium", 40_000),), rounds=40, iterations=1)

def test_large(benchmark):
    benchmark.pedantic(work, args=(scale("large", 60_000),), rounds=40, iterations=1)

def test_sort(benchmark):
    data = list(range(scale("sort", 150_000), 0, -1))
    benchmark.pedantic(sorted, args=(data,), rounds=40, iterations=1)

def test_join(benchmark):
    parts = [str(i) for i in range(scale("join", 150_000))]
    benchmark.pedantic("-".join, args=(parts,), rounds=40, iterations=1)
"""

PYPERF_SCRIPT = """\
import pyperf

runner = pyperf.Runner(values=2, processes=2, warmups=1, loops=64)
runner.timeit("sum_1k", stmt="sum(range(1000))")
runner.timeit("sorted_1k", stmt="sorted(data)", setup="data = list(range(1000, 0, -1))")
"""

# Offline scenario; the SUT answers after SUT_SLEEP_S (0.25 s: the 200 ms minimum duration is met,
# a VALID run; 0: too short, LoadGen marks it INVALID).
LOADGEN_SUT = """\
import os, sys, time
import mlperf_loadgen as lg

outdir = sys.argv[1] if len(sys.argv) > 1 else "."
os.makedirs(outdir, exist_ok=True)
sleep_s = float(os.environ.get("SUT_SLEEP_S", "0.25"))

def issue(queries):
    time.sleep(sleep_s)
    lg.QuerySamplesComplete([lg.QuerySampleResponse(q.id, 0, 0) for q in queries])

def flush():
    pass

sut = lg.ConstructSUT(issue, flush)
qsl = lg.ConstructQSL(64, 64, lambda samples: None, lambda samples: None)
settings = lg.TestSettings()
settings.scenario = lg.TestScenario.Offline
settings.mode = lg.TestMode.PerformanceOnly
settings.offline_expected_qps = 1000
settings.min_duration_ms = 200
settings.min_query_count = 1
log = lg.LogSettings()
log.log_output.outdir = outdir
log.log_output.copy_summary_to_stdout = True
lg.StartTestWithLogSettings(sut, qsl, settings, log)
lg.DestroyQSL(qsl)
lg.DestroySUT(sut)
"""


def write_tools(folder: Path) -> Path:
    """The three benchmark sources in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "test_suite.py").write_text(PYTEST_BENCH_SUITE)
    (folder / "bench_pyperf.py").write_text(PYPERF_SCRIPT)
    (folder / "sut.py").write_text(LOADGEN_SUT)
    return folder


def run_pytest_benchmark(folder: Path, out: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_suite.py", f"--benchmark-json={out}"],
        cwd=write_tools(folder),
        check=True,
        capture_output=True,
        timeout=120,
    )
    return out


def run_pyperf(folder: Path, out: Path) -> Path:
    subprocess.run(
        [sys.executable, "bench_pyperf.py", "--quiet", "-o", str(out)],
        cwd=write_tools(folder),
        check=True,
        capture_output=True,
        timeout=120,
    )
    return out


def run_loadgen(folder: Path, outdir: Path, *, sleep_s: float = 0.25) -> Path:
    subprocess.run(
        [sys.executable, "sut.py", str(outdir)],
        cwd=write_tools(folder),
        check=True,
        capture_output=True,
        timeout=60,
        env={"SUT_SLEEP_S": str(sleep_s), "PATH": "/usr/bin:/bin"},
    )
    return outdir / "mlperf_log_detail.txt"
