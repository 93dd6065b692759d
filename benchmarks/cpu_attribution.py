"""How well the CPU figure gates, with and without a CPU-saturating neighbour process.

Runs a fixed pure-Python workload through the gate's runner and real meter (codecarbon, with
CPU energy charged to the process tree: `energy.cpu: process`), and reads from the same runs the
machine-wide figure the gate used before (`energy.cpu: machine`: codecarbon's CPU model plus
RAM). For each condition (no neighbour; one `while True: pass` child saturating a CPU; as many
such children as the machine has CPUs, so the benchmark shares its CPU):

- J/prediction CV over the 5 repeats of each check (median and worst of the checks);
- +10% work per prediction: how many of the checks fail at 5 repeats (the gate's own comparison,
  limits warn +2% / fail +5%);
- A/A: the same workload against itself, how many checks fail (should be none);
- a `sleep` benchmark: the CPU energy it is charged.

Not a test (it measures the machine it runs on); prints a Markdown table, or writes it with --out.
Usage: python benchmarks/cpu_attribution.py [--checks 10] [--sleep-s 20] [--out table.md]
       python benchmarks/cpu_attribution.py --neighbours 2 --checks 8 --series-json series.json
           (only the unchanged checks, with 2 busy neighbours: their per-repeat J/prediction, one
           list per check, the input of decision_quality.py --fit-cpu-series)
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gate.bench.runner import run_benchmark  # noqa: E402
from gate.compare.model import Baseline  # noqa: E402
from gate.compare.verdict import evaluate  # noqa: E402
from gate.config.budget import BenchmarkSpec, EnergySpec, Level, Rules  # noqa: E402
from gate.energy.meters import choose_meter  # noqa: E402
from gate.energy.model import EnergyReading, RepeatResult, ScopeEnergy  # noqa: E402
from gate.energy.summary import summarise  # noqa: E402

REPEATS = 5
PREDICTIONS = 1000
RULES = Rules(limits_pct={"energy_per_prediction_j": Level(warn=2.0, fail=5.0)})

WORKLOAD = """import json, os, sys
n = int(sys.argv[1])
x = 0
for i in range(n):
    x = (x * 31 + i) % 1000003
json.dump({"predictions": PREDICTIONS}, open(os.environ["GREEN_GATE_METRICS"], "w"))
""".replace("PREDICTIONS", str(PREDICTIONS))


@dataclass
class Figures:
    """Energy per run as each CPU method sees it."""

    process_j: list[float]
    machine_j: list[float]


class Recording:
    """The gate's meter, remembering the machine-wide reading before the runner charges the tree."""

    def __init__(self) -> None:
        self.meter = choose_meter(EnergySpec(), env=os.environ, log=lambda _: None)
        self.machine_j: list[float] = []

    def child_env(self) -> dict[str, str]:
        return self.meter.child_env()  # type: ignore[attr-defined, no-any-return]

    def start(self) -> None:
        self.meter.start()

    def stop(self) -> EnergyReading:
        reading = self.meter.stop()
        # what energy.cpu: machine gated before: codecarbon's CPU model and RAM, both machine-wide
        self.machine_j.append(sum(s.energy_j for s in reading.scopes if s.scope in ("cpu", "ram")))
        return reading


def spec(directory: Path, argv: str, repeats: int) -> BenchmarkSpec:
    return BenchmarkSpec(
        name="w",
        argv=None,
        shell_command=argv,
        kind="inference",
        repeats=repeats,
        warmup=0,
        timeout_s=600,
        working_directory=directory,
        env={},
        rules=RULES,
        line=None,
    )


def measure(meter: Recording, directory: Path, iterations: int) -> Figures:
    command = f"{shlex.quote(sys.executable)} work.py {iterations}"
    start = len(meter.machine_j)
    run = run_benchmark(spec(directory, command, REPEATS), meter, echo=lambda _: None, log=lambda _: None)
    return Figures([r.reading.energy_j for r in run.repeats], meter.machine_j[start:])


def summary_of(energies_j: list[float]) -> object:
    repeats = [
        RepeatResult(i, EnergyReading(1.0, (ScopeEnergy("cpu", e, "estimated", "x"),)), PREDICTIONS, {})
        for i, e in enumerate(energies_j)
    ]
    return summarise(repeats, None)


def verdict(base_j: list[float], pr_j: list[float]) -> str:
    base = summary_of(base_j)
    baseline = Baseline("b" * 32, dict(base.metrics), None, "main", 0, per_repeat=dict(base.per_repeat))  # type: ignore[attr-defined]
    return evaluate(summary_of(pr_j), baseline, RULES).verdict  # type: ignore[arg-type]


def cv_pct(values: list[float]) -> float:
    return statistics.stdev(values) / statistics.mean(values) * 100


@dataclass
class Row:
    condition: str
    method: str
    cv_median_pct: float
    cv_max_pct: float
    plus10_fails: int
    aa_fails: int
    checks: int
    sleep_cpu_j: float | None
    wall_s: str


def condition(name: str, meter: Recording, directory: Path, iterations: int, checks: int, sleep_s: float) -> list[Row]:
    t0 = time.monotonic()
    base = [measure(meter, directory, iterations) for _ in range(checks)]
    plus = [measure(meter, directory, int(iterations * 1.1)) for _ in range(checks)]
    walls = f"{(time.monotonic() - t0) / (2 * checks * REPEATS):.2f}"
    sleep_run = run_benchmark(
        spec(directory, f"sleep {sleep_s:g}", 1), meter, echo=lambda _: None, log=lambda _: None
    ).repeats[0]
    sleep_process_j = next(s.energy_j for s in sleep_run.reading.scopes if s.scope == "cpu")
    sleep_machine_j = meter.machine_j[-1]
    rows = []
    for method, pick, sleep_j in (
        ("process", lambda f: f.process_j, sleep_process_j),
        ("machine", lambda f: f.machine_j, sleep_machine_j),
    ):
        cvs = [cv_pct(pick(b)) for b in base]
        plus_fails = sum(verdict(pick(b), pick(p)) == "fail" for b, p in zip(base, plus, strict=True))
        aa_fails = sum(verdict(pick(base[i]), pick(base[(i + 1) % checks])) == "fail" for i in range(checks))
        rows.append(Row(name, method, statistics.median(cvs), max(cvs), plus_fails, aa_fails, checks, sleep_j, walls))
    return rows


def series(meter: Recording, directory: Path, iterations: int, checks: int) -> list[list[float]]:
    """Per-repeat J/prediction (energy.cpu: process) of `checks` unchanged checks, one list each."""
    return [[e / PREDICTIONS for e in measure(meter, directory, iterations).process_j] for _ in range(checks)]


def markdown(rows: list[Row], sleep_s: float, load: str) -> str:
    lines = [
        "| neighbour | energy.cpu | J/pred CV, median (worst) of checks | +10% fails | A/A fails "
        f"| `sleep {sleep_s:g}` charged |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        lines.append(
            f"| {r.condition} | {r.method} | {r.cv_median_pct:.1f}% ({r.cv_max_pct:.1f}%) | "
            f"{r.plus10_fails}/{r.checks} | {r.aa_fails}/{r.checks} | {r.sleep_cpu_j:.1f} J |"
        )
    lines.append("")
    lines.append(
        f"{REPEATS} repeats per check; wall time per repeat: "
        + ", ".join(f"{r.condition} {r.wall_s} s" for r in rows if r.method == "process")
        + f"; load average at the start: {load}. `machine` is codecarbon's CPU model + RAM (the old default total);"
        " its sleep figure is the whole machine's CPU + RAM over the sleep."
    )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=10)
    parser.add_argument("--iterations", type=int, default=3_000_000, help="loop iterations of the fixed workload")
    parser.add_argument("--sleep-s", type=float, default=20.0)
    parser.add_argument("--out", type=Path)
    parser.add_argument(
        "--neighbours", type=int, help="only this many busy neighbour processes (default: 0, 1 and one per CPU)"
    )
    parser.add_argument(
        "--series-json",
        type=Path,
        metavar="PATH",
        help="measure only unchanged checks and write their per-repeat J/prediction as JSON (no table)",
    )
    args = parser.parse_args()
    load = " ".join(f"{v:.1f}" for v in os.getloadavg())
    meter = Recording()
    rows: list[Row] = []
    counts = [args.neighbours] if args.neighbours is not None else sorted({0, 1, os.cpu_count() or 1})
    measured: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="cpu-attribution-") as tmp:
        directory = Path(tmp)
        (directory / "work.py").write_text(WORKLOAD)
        for count in counts:
            neighbours = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
            try:
                name = f"{count} busy process{'es' if count > 1 else ''}" if count else "none"
                if args.series_json:
                    t0 = time.monotonic()
                    checks = series(meter, directory, args.iterations, args.checks)
                    measured[name] = {
                        "neighbours": count,
                        "repeats": REPEATS,
                        "iterations": args.iterations,
                        "wall_s": round(time.monotonic() - t0, 1),
                        "j_per_prediction": checks,
                    }
                else:
                    rows += condition(name, meter, directory, args.iterations, args.checks, args.sleep_s)
            finally:
                for neighbour in neighbours:
                    neighbour.kill()
                    neighbour.wait()
    if args.series_json:
        document = {"cpus": os.cpu_count(), "load_average_at_start": load, "conditions": measured}
        args.series_json.write_text(json.dumps(document, indent=1) + "\n")
        print(f"wrote {args.checks} checks x {REPEATS} repeats per condition to {args.series_json}")
        return
    text = markdown(rows, args.sleep_s, load)
    if args.out:
        args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
