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
confirmation; "after (history)" is the gate as it is in history mode; "after (auto)" (with --auto,
and always for +30% under neighbours) confirms paired where `comparison.mode: auto` would pair.
--one-thread pins the workload's BLAS to one thread, as the gate's spin-wait note advises. Each
check's verdict and reason go to stderr. Not a test; prints a Markdown table (or --out).
Usage: python benchmarks/busy_runner.py [--aa 20] [--detect 10] [--paired 5] [--factors 1.1,1.3] [--auto]
       [--one-thread] [--out table.md]
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
from dataclasses import dataclass, field, replace
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


def spec(directory: Path, iterations: int, repeats: int, env: dict[str, str] | None = None) -> BenchmarkSpec:
    return BenchmarkSpec(
        name="busy",
        argv=None,
        shell_command=f"{shlex.quote(sys.executable)} work.py {iterations}",
        kind="inference",
        repeats=repeats,
        warmup=0,
        timeout_s=600,
        working_directory=directory,
        env=env or {},
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


# The budget's env that pins BLAS and OpenMP to one thread (the spin-wait note's fix).
ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


class Runner:
    def __init__(self, directory: Path, env: dict[str, str] | None = None) -> None:
        self.directory = directory
        self.env = env or {}
        self.meter = choose_meter(EnergySpec(), env=os.environ, log=lambda _: None)
        (directory / "work.py").write_text(WORKLOAD)

    def repeats(self, iterations: int, repeats: int = REPEATS) -> list[RepeatResult]:
        run = run_benchmark(
            spec(self.directory, iterations, repeats, self.env), self.meter, echo=lambda _: None, log=lambda _: None
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
    auto: Counter[str] = field(default_factory=Counter)  # history, confirmed paired where auto pairs

    def row(self) -> str:
        def mix(c: Counter[str]) -> str:
            return ", ".join(f"{k} {v}" for k, v in sorted(c.items()))

        def span(values: list[float], fmt: str) -> str:
            return f"{fmt.format(min(values))}–{fmt.format(max(values))}" if values else "–"

        n = sum(self.after.values()) or len(self.load)
        return (
            f"| {self.name} | {n} | {mix(self.before)} | {mix(self.after)} | {mix(self.auto)} "
            f"| {span(self.load, '{:.1f}')} | {span(self.pressure, '{:.0f}%')} | {span(self.speed, '{:.0f}')} |"
        )


def describe(decision: Decision) -> str:
    """A check's label and reason, for the log: why it was not comparable, or its interval."""
    (check,) = decision.checks
    name = label(decision)
    # A not-comparable or inconclusive reason already starts with its label.
    return check.reason if check.reason.startswith(f"{name}:") else f"{name}: {check.reason}"


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
    parser.add_argument("--factors", default="1.1,1.3", help="work factors of the detection checks, comma-separated")
    parser.add_argument("--auto", action="store_true", help="also confirm paired where comparison.mode auto would")
    parser.add_argument("--one-thread", action="store_true", help="pin the workload's BLAS to one thread")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    # ended by a signal, still end the neighbours (the `finally` in neighbours())
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    os.environ.pop(CONDITIONS_ENV, None)
    started = time.monotonic()
    load_at_start = os.getloadavg()
    n = args.iterations
    with tempfile.TemporaryDirectory() as tmp:
        runner = Runner(Path(tmp), ONE_THREAD if args.one_thread else None)
        runner.repeats(n, 1)  # warm the page cache and numpy's import
        base = runner.summary(n)
        baseline, blind = as_baseline(base), as_baseline(base, with_conditions=False)
        base_case = Case("baseline (no neighbours)", Counter(), Counter(), [], [], [])
        observe(base_case, base)
        cases: list[Case] = [base_case]

        def check(case: Case, pr_iterations: int, name: str, auto: bool = args.auto) -> None:
            """One check: history before and after; with `auto`, confirmed paired where auto mode pairs
            (under the neighbours running now)."""
            pr = runner.summary(pr_iterations)
            observe(case, pr)
            case.before[label(decided(pr, blind))] += 1
            history = decided(pr, baseline)
            case.after[label(history)] += 1
            print(f"{name}: {describe(history)}", file=sys.stderr, flush=True)
            if auto:
                if auto_reason(baseline, history, RULES, ()) is not None:
                    pair_base, pair_pr = runner.paired(n, pr_iterations, REPEATS)
                    history = decided(pair_pr, as_baseline(pair_base, paired=True))
                    print(f"{name}, paired: {describe(history)}", file=sys.stderr, flush=True)
                case.auto[label(history)] += 1

        aa = Case(f"A/A under neighbours ({args.aa})", Counter(), Counter(), [], [], [])
        for i in range(args.aa):
            with neighbours(Path(tmp), *NEIGHBOURS[i % len(NEIGHBOURS)]) as what:
                check(aa, n, f"A/A {i + 1} ({what})")
        cases.append(aa)

        for factor in (float(f) for f in args.factors.split(",") if f):
            case = Case(f"+{(factor - 1) * 100:.0f}% work, no neighbours", Counter(), Counter(), [], [], [])
            for i in range(args.detect):
                check(case, round(n * factor), f"+{(factor - 1) * 100:.0f}% {i + 1}")
            cases.append(case)

        busy = Case("+30% work under neighbours", Counter(), Counter(), [], [], [])
        for i in range(args.paired):
            with neighbours(Path(tmp), *NEIGHBOURS[i % len(NEIGHBOURS)]) as what:
                check(busy, round(n * 1.3), f"+30% under neighbours {i + 1} ({what})", auto=True)
        cases.append(busy)

    minutes = (time.monotonic() - started) / 60
    lines = [
        f"Machine: {os.cpu_count()} logical CPUs; load average at start {load_at_start[0]:.1f} / "
        f"{load_at_start[1]:.1f} / {load_at_start[2]:.1f}, at the end {os.getloadavg()[0]:.1f}; "
        f"{minutes:.1f} minutes. Workload: {n} products of 1000×1000 matrices per repeat on "
        f"{'one BLAS thread' if args.one_thread else 'BLAS default threads'}, {REPEATS} repeats, limits warn +2% / "
        "fail +5%, history mode with the job-to-job prior.",
        "",
        "| checks | n | before (main: no conditions, no confirmation) | after (history) "
        "| after (auto: confirmed paired) | load | CPU pressure | speed index |",
        "|---|---|---|---|---|---|---|---|",
        *(c.row() for c in cases),
    ]
    table = "\n".join(lines) + "\n"
    if args.out:
        args.out.write_text(table)
    print(table)


if __name__ == "__main__":
    main()
