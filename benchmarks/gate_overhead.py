"""The gate's own cost: `green-gate check` of a fixed command against the same command run bare.

A throw-away git repository holds a budget whose one benchmark is `sleep --sleep-s`, `--repeats`
times, with `--warmup` warm-ups. Each round runs, in turn, the bare commands (the warm-ups and the
repeats one after another, as the gate would run them) and `green-gate check` on them, both timed
as whole processes from outside; the overhead of a round is the check's wall time minus the bare
wall time. It prints each round, then the median overhead, its range, and the overhead as a share
of the bare time, against the target of 1 s + 1 % of the bare time.

Scenarios (`--scenario`):
- `no-record` (default): `check --no-record` in a repository with no MLflow store yet;
- `record`: `check` recording into the embedded store (created by a first, untimed check);
- `warm-store`: `check --no-record` with `--warmup` >= 1 and an existing store, which the gate opens
  during the warm-up.

`--before PATH` times a second checkout of green-gate (e.g. a worktree of an older commit) in the
same rounds, after this one, so that the two are compared side by side under the same load.

`--neighbours N` starts N CPU-saturating processes for the whole run (ended at the end). `--startup`
also times `green-gate --help` and `green-gate validate` (median of --startup-runs each).

    python benchmarks/gate_overhead.py --rounds 7
    python benchmarks/gate_overhead.py --rounds 7 --neighbours 2
    python benchmarks/gate_overhead.py --scenario warm-store --warmup 1 --rounds 5
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

BUDGET = """\
version: 1
benchmarks:
  - name: sleep
    command: sleep {sleep_s}
    repeats: {repeats}
    warmup: {warmup}
"""


def environment(gate_repo: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "MLFLOW_", "GREEN_GATE_"))}
    env["PYTHONPATH"] = str(gate_repo)
    return env


def make_repo(root: Path, sleep_s: float, repeats: int, warmup: int) -> Path:
    repo = root / "repo"
    repo.mkdir()
    (repo / "green-budget.yml").write_text(BUDGET.format(sleep_s=sleep_s, repeats=repeats, warmup=warmup))
    for args in (["init", "-q", "-b", "main"], ["add", "."]):
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)
    subprocess.run(
        ["git", "-c", "user.email=b@example.invalid", "-c", "user.name=b", "commit", "-qm", "bench"],
        cwd=repo,
        check=True,
        capture_output=True,
    )
    return repo


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}:\n{proc.stderr[-2000:]}")
    return elapsed


def bare(sleep_s: float, runs: int, cwd: Path, env: dict[str, str]) -> float:
    script = "; ".join([f"sleep {sleep_s}"] * runs)
    return timed(["sh", "-c", script], cwd, env)


def neighbours(count: int) -> list[subprocess.Popen[bytes]]:
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]


def startup(cwd: Path, env: dict[str, str], runs: int) -> dict[str, float]:
    gate = [sys.executable, "-m", "gate"]
    commands = {"--help": [*gate, "--help"], "validate": [*gate, "validate", "green-budget.yml"]}
    return {name: statistics.median(timed(argv, cwd, env) for _ in range(runs)) for name, argv in commands.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sleep-s", type=float, default=4.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--scenario", choices=("no-record", "record", "warm-store"), default="no-record")
    parser.add_argument("--neighbours", type=int, default=0, help="CPU-saturating processes beside the run")
    parser.add_argument("--startup", action="store_true", help="also time --help and validate")
    parser.add_argument("--startup-runs", type=int, default=9)
    parser.add_argument("--before", type=Path, help="another green-gate checkout, timed beside this one")
    args = parser.parse_args()
    if args.scenario == "warm-store" and args.warmup < 1:
        parser.error("--scenario warm-store needs --warmup 1 or more")

    sides = {"this": REPO, **({"before": args.before.resolve()} if args.before else {})}
    envs = {name: environment(path) for name, path in sides.items()}
    env = envs["this"]
    hogs = neighbours(args.neighbours)
    root = Path(tempfile.mkdtemp(prefix="gate-overhead-"))
    try:
        repo = make_repo(root, args.sleep_s, args.repeats, args.warmup)
        check = [sys.executable, "-m", "gate", "check", "--budget", "green-budget.yml"]
        if args.scenario != "record":
            check.append("--no-record")
        if args.scenario != "no-record":
            timed([sys.executable, "-m", "gate", "check", "--budget", "green-budget.yml"], repo, env)  # the store
        runs = args.repeats + args.warmup
        print(f"load average {os.getloadavg()[0]:.2f}; {args.neighbours} neighbour(s); scenario {args.scenario}")
        print(f"benchmark: sleep {args.sleep_s:g} x {args.repeats} repeats + {args.warmup} warm-up(s)")
        overheads: dict[str, list[float]] = {name: [] for name in sides}
        bares = []
        for round_ in range(1, args.rounds + 1):
            bare_s = bare(args.sleep_s, runs, repo, env)
            bares.append(bare_s)
            line = [f"round {round_}: bare {bare_s:.2f} s"]
            for name in sides:
                if args.scenario == "no-record":
                    shutil.rmtree(repo / ".green-gate", ignore_errors=True)
                gate_s = timed(check, repo, envs[name])
                overheads[name].append(gate_s - bare_s)
                line.append(f"{name} {gate_s:.2f} s ({gate_s - bare_s:+.2f})")
            print(", ".join(line))
        median_bare = statistics.median(bares)
        target = 1.0 + 0.01 * median_bare
        for name, values in overheads.items():
            median = statistics.median(values)
            print(
                f"{name} ({sides[name]}): overhead median {median:+.2f} s (min {min(values):+.2f}, "
                f"max {max(values):+.2f}) over {len(values)} rounds; {100 * median / median_bare:.1f}% of the "
                f"bare {median_bare:.2f} s; check/bare {(median_bare + median) / median_bare:.3f}; "
                f"target <= {target:.2f} s: {'met' if median <= target else 'missed'}"
            )
        if args.startup:
            for name in sides:
                for command, seconds in startup(repo, envs[name], args.startup_runs).items():
                    print(f"{name}: green-gate {command}: median {seconds:.3f} s over {args.startup_runs} runs")
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
