"""How long the test suite takes: README's test command (`pytest`), timed from outside, for one or
more configurations in turn, so that they are compared side by side under the same load.

A configuration is `LABEL=PATH[:ARGS]`: a checkout of green-gate (its own tests, its own pytest
configuration) and extra pytest arguments, e.g. `now=.`, `one-process=.:-n 0` or
`before=../old:-p no:gate.pytest_plugin` (an older checkout whose tests predate the package's pytest
plugin). `--tier fast` runs `pytest -m "not slow"` instead of the full suite. Each round runs every
configuration once, in the order given; `--neighbours N` starts N CPU-saturating processes for the
whole run. It prints each run (wall seconds, the summary line pytest printed), then per
configuration the median and range.

    python benchmarks/suite_time.py now=. one-process=.:"-n 0"
    python benchmarks/suite_time.py --tier fast --rounds 3 now=. one-process=.:"-n 0"
    python benchmarks/suite_time.py --neighbours 2 now=.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

SUMMARY = re.compile(r"^=*\s*(\d+ (passed|failed).*) in [\d.]+s", re.MULTILINE)
SPIN = "while True: pass"


@dataclass(frozen=True)
class Configuration:
    label: str
    checkout: Path
    args: tuple[str, ...]


def configuration(text: str) -> Configuration:
    label, sep, rest = text.partition("=")
    if not sep or not label:
        raise argparse.ArgumentTypeError(f"{text!r}: expected LABEL=PATH[:ARGS]")
    path, _, args = rest.partition(":")
    checkout = Path(path).resolve()
    if not (checkout / "tests").is_dir():
        raise argparse.ArgumentTypeError(f"{text!r}: {checkout} has no tests/ folder")
    return Configuration(label, checkout, tuple(shlex.split(args)))


def run_once(config: Configuration, tier: str, timeout_s: float) -> tuple[float, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "MLFLOW_", "GREEN_GATE_", "PYTEST_"))}
    env["PYTHONPATH"] = str(config.checkout)
    tier_args = ["-m", "not slow"] if tier == "fast" else []
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tier_args, *config.args]
    started = time.perf_counter()
    try:
        done = subprocess.run(
            argv, cwd=config.checkout, env=env, capture_output=True, text=True, timeout=timeout_s, check=False
        )
    except subprocess.TimeoutExpired:
        return time.perf_counter() - started, f"timed out after {timeout_s:.0f} s"
    wall_s = time.perf_counter() - started
    found = SUMMARY.findall(done.stdout)
    return wall_s, found[-1][0] if found else f"exit {done.returncode}, no summary line"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("configurations", nargs="+", type=configuration, metavar="LABEL=PATH[:ARGS]")
    parser.add_argument("--tier", choices=("full", "fast"), default="full")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--neighbours", type=int, default=0, help="CPU-saturating processes beside the runs")
    parser.add_argument("--timeout-s", type=float, default=3600.0)
    args = parser.parse_args(argv)

    spinners = [subprocess.Popen([sys.executable, "-c", SPIN]) for _ in range(args.neighbours)]
    walls: dict[str, list[float]] = {c.label: [] for c in args.configurations}
    try:
        print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}, {args.neighbours} neighbour(s)")
        for round_no in range(1, args.rounds + 1):
            for config in args.configurations:
                wall_s, summary = run_once(config, args.tier, args.timeout_s)
                walls[config.label].append(wall_s)
                load = os.getloadavg()[0]
                print(f"round {round_no} {config.label}: {wall_s:.1f} s ({summary}; load {load:.2f})", flush=True)
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()
    print(f"\n{args.tier} tier, {args.rounds} round(s), {args.neighbours} neighbour(s):")
    for label, values in walls.items():
        print(f"  {label}: median {statistics.median(values):.1f} s ({min(values):.1f}…{max(values):.1f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
