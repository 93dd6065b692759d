"""How much the runner's condition moves the CPU seconds of fixed work: the basis of the tolerances in
gate.compare.conditions.

Runs fixed workloads as the gate runs a benchmark (gate.bench.process.execute, the conditions read
around it by gate.bench.conditions.RepeatWatch), with 0, 1, 2 … CPU-hog neighbours (`while True`
processes) and one memory-bandwidth hog (numpy copying 64 MiB arrays):

- `blas-1`: numpy matrix products on one BLAS thread (OPENBLAS_NUM_THREADS=1, OMP_NUM_THREADS=1);
- `blas-n`: the same on BLAS's default threads (one per CPU), threads that spin while they wait;
- `python`: a pure-Python loop.

For each (workload, neighbours): the median CPU seconds of the work (and the range over its runs)
and its change from the quiet run, the speed index (the probe's MB per CPU second) and its change,
the CPU pressure (PSI `some`) over the window, the probe's CPU share, the load average. The table
says which condition figure tracks the cost of fixed work, and how far: see docs/statistics.md,
"Runner conditions".

The sweeps below it (work on one busy thread; work whose threads are suspected of spin-waiting)
take every (workload, baseline condition, candidate condition) pair as the gate would see it and
ask, for each pair of tolerances (speed index %, CPU pressure points), how many pairs it lets
compare and the largest CPU-seconds change among them: the tolerances to choose are the widest
whose comparable pairs stay inside the fail limit.

Not a test (it measures the machine it runs on); prints a Markdown table, or writes it with --out.
Usage: python benchmarks/conditions_sensitivity.py [--runs 3] [--hogs 0,1,2,3] [--out table.md]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gate.bench import process  # noqa: E402
from gate.bench.conditions import RepeatWatch  # noqa: E402
from gate.compare import conditions as condition_rules  # noqa: E402
from gate.devices.conditions import RepeatConditions  # noqa: E402

BLAS = """import json, os, sys
import numpy as np
a = np.random.default_rng(0).random((1200, 1200))
for _ in range(int(sys.argv[1])):
    a @ a
json.dump({"predictions": 1}, open(os.environ["GREEN_GATE_METRICS"], "w"))
"""
PYTHON = """import json, os, sys
x = 0
for i in range(int(sys.argv[1])):
    x = (x * 31 + i) % 1000003
json.dump({"predictions": 1}, open(os.environ["GREEN_GATE_METRICS"], "w"))
"""
CPU_HOG = "while True:\n    pass\n"
MEMORY_HOG = "import numpy as np\na = np.ones(8 << 20)\nb = np.empty_like(a)\nwhile True:\n    np.copyto(b, a)\n"
ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
WORKLOADS = {
    "blas-1": (BLAS, "12", ONE_THREAD),
    "blas-n": (BLAS, "12", {}),
    "python": (PYTHON, "4000000", {}),
}


@dataclass
class Row:
    workload: str
    neighbours: str
    cpu_s: float
    wall_s: float
    speed: float | None
    pressure_pct: float | None
    probe_share: float | None
    load: float | None
    threads: int | None
    spin: bool
    cpu_s_min: float | None = None  # the range of the CPU seconds over the runs
    cpu_s_max: float | None = None


def run_once(directory: Path, workload: str) -> tuple[float, float, RepeatConditions | None]:
    source, arg, env = WORKLOADS[workload]
    script = directory / f"{workload}.py"
    script.write_text(source)
    watch = RepeatWatch(env)
    watch.before()
    execution = process.execute(
        (sys.executable, str(script), arg),
        None,
        cwd=directory,
        env=env,
        timeout_s=300,
        echo=lambda _line: None,
        on_exit=watch.ended,
        on_start=watch.started,
    )
    if execution.failed:
        raise SystemExit(f"{workload} failed: {execution.tail[-3:]}")
    return execution.cpu_s, execution.duration_s, watch.finish(execution.cpu_s, execution.duration_s)


def start_neighbours(directory: Path, cpu_hogs: int, memory_hog: bool) -> list[subprocess.Popen[bytes]]:
    procs = []
    for source, count in ((CPU_HOG, cpu_hogs), (MEMORY_HOG, 1 if memory_hog else 0)):
        for _ in range(count):
            procs.append(subprocess.Popen([sys.executable, "-c", source], cwd=directory))
    time.sleep(1.0)  # let them reach full speed
    return procs


def stop_neighbours(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        proc.kill()
    for proc in procs:
        proc.wait()


def median_or_none(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def measure(directory: Path, workload: str, runs: int, label: str) -> Row:
    results = [run_once(directory, workload) for _ in range(runs)]
    conds = [c for _, _, c in results if c is not None]
    return Row(
        workload,
        label,
        statistics.median(cpu for cpu, _, _ in results),
        statistics.median(wall for _, wall, _ in results),
        median_or_none([c.speed_index for c in conds]),
        median_or_none([c.cpu_pressure_some_pct for c in conds]),
        median_or_none([c.probe_cpu_share for c in conds]),
        median_or_none([c.load_avg_1m for c in conds]),
        max((c.threads_max or 0 for c in conds), default=None),
        any(c.spin_wait_suspected for c in conds),
        min(cpu for cpu, _, _ in results),
        max(cpu for cpu, _, _ in results),
    )


def change(value: float | None, quiet: float | None) -> str:
    if value is None or not quiet:
        return "–"
    return f"{(value / quiet - 1) * 100:+.1f}%"


def spread(r: Row) -> str:
    return f" ({r.cpu_s_min:.2f}–{r.cpu_s_max:.2f})" if r.cpu_s_min is not None and r.cpu_s_max is not None else ""


def markdown(rows: list[Row], cpus: int | None, load_at_start: float | None = None) -> str:
    start = f"at start {load_at_start:.1f}, " if load_at_start is not None else ""
    load = f"load {start}at end {os.getloadavg()[0]:.1f} (1 min)"
    lines = [
        f"Machine: {cpus} logical CPUs, {os.uname().machine}; {load}.",
        "",
        "| workload | neighbours | CPU s | vs quiet | wall s | speed index (MB/CPU s) | vs quiet "
        "| CPU pressure | probe CPU share | load | threads | spin suspected |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    quiet = {r.workload: r for r in rows if r.neighbours == "none"}
    for r in rows:
        q = quiet.get(r.workload)
        lines.append(
            f"| {r.workload} | {r.neighbours} | {r.cpu_s:.2f}{spread(r)} | {change(r.cpu_s, q.cpu_s if q else None)} "
            f"| {r.wall_s:.2f} | {r.speed or 0:.0f} | {change(r.speed, q.speed if q else None)} "
            f"| {r.pressure_pct if r.pressure_pct is not None else float('nan'):.0f}% "
            f"| {r.probe_share if r.probe_share is not None else float('nan'):.2f} "
            f"| {r.load if r.load is not None else float('nan'):.1f} | {r.threads} | {'yes' if r.spin else 'no'} |"
        )
    return "\n".join(lines) + "\n"


def figures(r: Row) -> dict[str, float]:
    """A row's conditions as gate.compare.conditions reads a run's medians."""
    out: dict[str, float] = {}
    if r.speed is not None:
        out[condition_rules.SPEED] = r.speed
    if r.pressure_pct is not None:
        out[condition_rules.PRESSURE] = r.pressure_pct
    return out


def sweep(
    rows: list[Row],
    speed_pcts: tuple[float, ...] = (5.0, 6.0, 7.5, 10.0, 15.0),
    pressure_pts: tuple[float, ...] = (10.0, 20.0, 30.0, 50.0),
    fail_pct: float = 5.0,
) -> str:
    """For each pair of tolerances: of every ordered pair of conditions of one workload, how many it
    lets compare, the largest CPU-seconds change among those, and how many beyond `fail_pct` it let
    through (each a false fail of unchanged code) or kept out."""
    pairs = [(a, b) for a in rows for b in rows if a is not b and a.workload == b.workload and a.cpu_s > 0]
    lines = [
        f"| speed index ± | CPU pressure ± | pairs compared | largest CPU-s change compared "
        f"| beyond ±{fail_pct:g}% compared | beyond ±{fail_pct:g}% kept out |",
        "|---|---|---|---|---|---|",
    ]
    for speed in speed_pcts:
        for pressure in pressure_pts:
            tolerances = condition_rules.Tolerances(speed_pct=speed, pressure_pts=pressure)
            compared = [
                (b.cpu_s / a.cpu_s - 1) * 100
                for a, b in pairs
                if condition_rules.mismatch(figures(b), figures(a), tolerances) is None
            ]
            beyond = [c for c in compared if abs(c) > fail_pct]
            kept_out = sum(1 for a, b in pairs if abs(b.cpu_s / a.cpu_s - 1) * 100 > fail_pct) - len(beyond)
            worst = f"{max(compared, key=abs):+.1f}%" if compared else "–"
            lines.append(
                f"| {speed:g}% | {pressure:g} pts | {len(compared)} of {len(pairs)} | {worst} "
                f"| {len(beyond)} | {kept_out} |"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="runs of each workload per condition (median)")
    parser.add_argument("--hogs", default="0,1,2,3", help="CPU-hog neighbour counts, comma-separated")
    parser.add_argument("--memory-hog", action="store_true", help="also a condition with a memory-bandwidth hog")
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    parser.add_argument("--out", type=Path)
    parser.add_argument("--json", type=Path, help="the rows as JSON")
    args = parser.parse_args()
    rows: list[Row] = []
    load_at_start = os.getloadavg()[0]
    conditions: list[tuple[str, int, bool]] = [
        ("none" if n == 0 else f"{n} CPU hog(s)", n, False) for n in (int(h) for h in args.hogs.split(","))
    ]
    if args.memory_hog:
        conditions.append(("memory hog", 0, True))
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        for label, hogs, memory in conditions:
            neighbours = start_neighbours(directory, hogs, memory) if hogs or memory else []
            try:
                for workload in args.workloads.split(","):
                    rows.append(measure(directory, workload, args.runs, label))
                    print(f"{workload:7} {label:14} cpu {rows[-1].cpu_s:.2f}s", file=sys.stderr, flush=True)
            finally:
                stop_neighbours(neighbours)
    table = markdown(rows, os.cpu_count(), load_at_start)
    for title, group in (
        ("One thread busy (no spin-wait suspected)", [r for r in rows if not r.spin]),
        ("Threads suspected of spin-waiting", [r for r in rows if r.spin]),
    ):
        if group:
            table += f"\n{title}:\n\n" + sweep(group)
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in rows], indent=2))
    if args.out:
        args.out.write_text(table)
    print(table)


if __name__ == "__main__":
    main()
