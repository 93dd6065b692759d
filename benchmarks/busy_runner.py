"""A busier runner vs costlier code: false fails, verdict mix and detection, before and after the
comparability check (gate.compare.conditions) and auto mode's paired confirmation.

The issue's experiment on this machine, through the gate's runner, real meter (`energy.cpu: process`)
and decide stage: a numpy workload on BLAS's default threads, 5 repeats, limits warn +2% / fail +5%.

- baseline: one check with no neighbours of ours (other users' load is recorded, not controlled);
- A/A: unchanged code under neighbours that contend (1-3 `while True` CPU hogs, a memory-bandwidth
  hog beside a CPU hog), cycling;
- +10% / +30% work with no neighbours (conditions like the baseline's);
- +30% work under neighbours: history alone, then confirmed paired (base and PR alternately, under
  the same neighbours), as `comparison.mode: auto` now does before failing.

"before" decides as main did: no conditions compared (the baseline's conditions withheld), no
confirmation; "after" is the gate as it is. Not a test; prints a Markdown table (or --out).
Usage: python benchmarks/busy_runner.py [--aa 20] [--detect 10] [--paired 5] [--out table.md]
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gate.bench.conditions import CONDITIONS_ENV  # noqa: E402
from gate.bench.runner import run_benchmark  # noqa: E402
from gate.compare.model import Baseline, Decision  # noqa: E402
from gate.config.budget import BenchmarkSpec, Budget, EnergySpec, Level, Rules  # noqa: E402
from gate.devices import conditions  # noqa: E402
from gate.devices.hardware import Hardware  # noqa: E402
from gate.energy.meters import choose_meter  # noqa: E402
from gate.energy.model import RepeatResult, RunSummary  # noqa: E402
from gate.energy.summary import summarise  # noqa: E402
from gate.pipeline import decide  # noqa: E402
from gate.pipeline.measure import Measurement  # noqa: E402
from gate.pipeline.paired import auto_reason  # noqa: E402

REPEATS = 5
RULES = Rules(limits_pct={"energy_per_prediction_j": Level(warn=2.0, fail=5.0)})
BUDGET = Budget(path=Path("green-budget.yml"), benchmarks=())
HARDWARE = Hardware("this machine", os.cpu_count() or 1, ())
WORKLOAD = """import json, os, sys
import numpy as np
a = np.random.default_rng(0).random((1000, 1000))
for _ in range(int(sys.argv[1])):
    a @ a
json.dump({"predictions": 1000}, open(os.environ["GREEN_GATE_METRICS"], "w"))
"""
CPU_HOG = "while True:\n    pass\n"
MEMORY_HOG = "import numpy as np\na = np.ones(8 << 20)\nb = np.empty_like(a)\nwhile True:\n    np.copyto(b, a)\n"
NEIGHBOURS = ((1, False), (2, False), (3, False), (1, True))  # (CPU hogs, memory hog), cycled


def spec(directory: Path, iterations: int, repeats: int) -> BenchmarkSpec:
    return BenchmarkSpec(
        name="busy",
        argv=None,
        shell_command=f"{shlex.quote(sys.executable)} work.py {iterations}",
        kind="inference",
        repeats=repeats,
        warmup=0,
        timeout_s=600,
        working_directory=directory,
        env={},
        rules=RULES,
        line=None,
    )


@contextmanager
def neighbours(directory: Path, cpu_hogs: int, memory_hog: bool) -> Iterator[str]:
    procs = [subprocess.Popen([sys.executable, "-c", CPU_HOG], cwd=directory) for _ in range(cpu_hogs)]
    if memory_hog:
        procs.append(subprocess.Popen([sys.executable, "-c", MEMORY_HOG], cwd=directory))
    time.sleep(0.5 if procs else 0)
    try:
        yield f"{cpu_hogs} CPU hog(s)" + (" + memory hog" if memory_hog else "") if procs else "none"
    finally:
        for proc in procs:
            proc.kill()
        for proc in procs:
            proc.wait()


class Runner:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.meter = choose_meter(EnergySpec(), env=os.environ, log=lambda _: None)
        (directory / "work.py").write_text(WORKLOAD)

    def repeats(self, iterations: int, repeats: int = REPEATS) -> list[RepeatResult]:
        run = run_benchmark(
            spec(self.directory, iterations, repeats), self.meter, echo=lambda _: None, log=lambda _: None
        )
        return run.repeats

    def summary(self, iterations: int) -> RunSummary:
        return summarise(self.repeats(iterations), None)

    def paired(self, base_iterations: int, pr_iterations: int, pairs: int) -> tuple[RunSummary, RunSummary]:
        """Base and PR alternately, B P P B B P …, as gate.bench.paired schedules them."""
        base: list[RepeatResult] = []
        pr: list[RepeatResult] = []
        for i in range(pairs):
            order = ((base, base_iterations), (pr, pr_iterations))
            for side, iterations in order if i % 2 == 0 else order[::-1]:
                (one,) = self.repeats(iterations, 1)
                side.append(replace(one, index=len(side)))
        return summarise(base, None), summarise(pr, None)


def as_baseline(summary: RunSummary, *, paired: bool = False, with_conditions: bool = True) -> Baseline:
    return Baseline(
        run_id="b" * 32,
        metrics=dict(summary.metrics),
        commit=None,
        branch="main",
        start_time_ms=0,
        per_repeat=dict(summary.per_repeat),
        paired=paired,
        energy_method=summary.energy_method,
        conditions=conditions.medians(summary.conditions) if with_conditions else {},
    )


def decided(summary: RunSummary, baseline: Baseline) -> Decision:
    """The gate's decide stage in history mode (no past runs: the job-to-job prior)."""
    decision = decide.decide(Measurement(summary), baseline, RULES, BUDGET, HARDWARE, None, past_runs=())
    assert decision is not None
    return decision


def label(decision: Decision) -> str:
    (check,) = decision.checks
    if check.reason.startswith("not comparable"):
        return "not comparable"
    if check.inconclusive:
        return "inconclusive"
    return check.status


@dataclass
class Case:
    name: str
    before: Counter[str]
    after: Counter[str]
    load: list[float]
    pressure: list[float]
    speed: list[float]

    def row(self) -> str:
        def mix(c: Counter[str]) -> str:
            return ", ".join(f"{k} {v}" for k, v in sorted(c.items()))

        def span(values: list[float], fmt: str) -> str:
            return f"{fmt.format(min(values))}–{fmt.format(max(values))}" if values else "–"

        return (
            f"| {self.name} | {sum(self.before.values())} | {mix(self.before)} | {mix(self.after)} "
            f"| {span(self.load, '{:.1f}')} | {span(self.pressure, '{:.0f}%')} | {span(self.speed, '{:.0f}')} |"
        )


def observe(case: Case, summary: RunSummary) -> None:
    medians = conditions.medians(summary.conditions)
    for key, into in (
        ("load_avg_1m", case.load),
        ("cpu_pressure_some_pct", case.pressure),
        ("speed_index", case.speed),
    ):
        if key in medians:
            into.append(medians[key])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--aa", type=int, default=20, help="A/A checks under neighbours")
    parser.add_argument("--detect", type=int, default=10, help="+10%% and +30%% checks with no neighbours")
    parser.add_argument("--paired", type=int, default=5, help="+30%% checks under neighbours, confirmed paired")
    parser.add_argument("--iterations", type=int, default=10, help="matrix products per repeat")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    # ended by a signal, still end the neighbours (the `finally` in neighbours())
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    os.environ.pop(CONDITIONS_ENV, None)
    started = time.monotonic()
    load_at_start = os.getloadavg()
    n = args.iterations
    with tempfile.TemporaryDirectory() as tmp:
        runner = Runner(Path(tmp))
        runner.repeats(n, 1)  # warm the page cache and numpy's import
        base = runner.summary(n)
        baseline, blind = as_baseline(base), as_baseline(base, with_conditions=False)
        base_case = Case("baseline (no neighbours)", Counter(), Counter(), [], [], [])
        observe(base_case, base)
        cases: list[Case] = [base_case]

        aa = Case(f"A/A under neighbours ({args.aa})", Counter(), Counter(), [], [], [])
        for i in range(args.aa):
            with neighbours(Path(tmp), *NEIGHBOURS[i % len(NEIGHBOURS)]):
                pr = runner.summary(n)
            observe(aa, pr)
            aa.before[label(decided(pr, blind))] += 1
            aa.after[label(decided(pr, baseline))] += 1
            print(f"A/A {i + 1}: {aa.before} / {aa.after}", file=sys.stderr, flush=True)
        cases.append(aa)

        for factor in (1.1, 1.3):
            case = Case(f"+{(factor - 1) * 100:.0f}% work, no neighbours", Counter(), Counter(), [], [], [])
            for _ in range(args.detect):
                pr = runner.summary(round(n * factor))
                observe(case, pr)
                case.before[label(decided(pr, blind))] += 1
                case.after[label(decided(pr, baseline))] += 1
            print(f"{case.name}: {case.before} / {case.after}", file=sys.stderr, flush=True)
            cases.append(case)

        busy = Case("+30% work under neighbours, auto", Counter(), Counter(), [], [], [])
        for i in range(args.paired):
            with neighbours(Path(tmp), *NEIGHBOURS[i % len(NEIGHBOURS)]):
                pr = runner.summary(round(n * 1.3))
                observe(busy, pr)
                busy.before[label(decided(pr, blind))] += 1
                history = decided(pr, baseline)
                if auto_reason(baseline, history, RULES, ()) is not None:
                    pair_base, pair_pr = runner.paired(n, round(n * 1.3), REPEATS)
                    history = decided(pair_pr, as_baseline(pair_base, paired=True))
                busy.after[label(history)] += 1
            print(f"{busy.name}: {busy.before} / {busy.after}", file=sys.stderr, flush=True)
        cases.append(busy)

    minutes = (time.monotonic() - started) / 60
    lines = [
        f"Machine: {os.cpu_count()} logical CPUs; load average at start {load_at_start[0]:.1f} / "
        f"{load_at_start[1]:.1f} / {load_at_start[2]:.1f}, at the end {os.getloadavg()[0]:.1f}; "
        f"{minutes:.1f} minutes. Workload: {n} products of 1000×1000 matrices per repeat on BLAS's default "
        f"threads, {REPEATS} repeats, limits warn +2% / fail +5%, history mode with the job-to-job prior.",
        "",
        "| checks | n | before (main: no conditions, no confirmation) | after | load | CPU pressure | speed index |",
        "|---|---|---|---|---|---|---|",
        *(c.row() for c in cases),
    ]
    table = "\n".join(lines) + "\n"
    if args.out:
        args.out.write_text(table)
    print(table)


if __name__ == "__main__":
    main()
