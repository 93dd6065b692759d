"""Where the test suite's CPU time goes: README's test command, run once with this file as a pytest
plugin that reads `getrusage` before and after each test, in the worker (its own CPU) and for the
child processes it waited for (the CLI runs, the benchmarks, `git`, servers it stopped). Prints the
totals, then the test files and the tests that cost most.

    python benchmarks/suite_cpu.py                  # the full suite, as README runs it
    python benchmarks/suite_cpu.py --top 30 -- -m "not slow" -n 0

Arguments after `--` go to pytest. A process is counted when it is waited for: a session-scoped
server's whole life lands on the test whose teardown stops it (the last on its worker). CLI runs
forked by the tests' forkserver (tests/support/cli_forkserver.py) are its children, not the
worker's: each counts on its test from the forkserver's report, and the forkserver's total again
when the worker stops it, outside the tests.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

OUT_ENV = "SUITE_CPU_OUT"
REPO = Path(__file__).resolve().parents[1]


def _cpu_s() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime + _forked_cpu_s()


def _forked_cpu_s() -> float:
    """The CLI runs the tests' forkserver ran for this process so far: its children, not ours."""
    cli = sys.modules.get("tests.support.cli")
    forked = getattr(cli, "forked_cpu_s", None)
    return float(forked()) if forked is not None else 0.0


# --- the plugin (loaded into pytest and its workers with `-p suite_cpu`) --------------------------


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: Any, nextitem: Any) -> Iterator[None]:
    out = os.environ.get(OUT_ENV)
    own0, children0 = _cpu_s()
    started = time.monotonic()
    yield
    if out:
        own1, children1 = _cpu_s()
        line = f"{item.nodeid}\t{time.monotonic() - started:.3f}\t{own1 - own0:.3f}\t{children1 - children0:.3f}\n"
        with open(Path(out) / f"{os.getpid()}.tsv", "a", encoding="utf-8") as handle:
            handle.write(line)


# --- the report -----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--top", type=int, default=15, help="files and tests to list (default 15)")
    parser.add_argument("pytest_args", nargs="*", help="after `--`: arguments for pytest")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="suite-cpu-") as out:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "MLFLOW_", "GREEN_GATE_"))}
        env[OUT_ENV] = out
        env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(Path(__file__).parent)])
        argv_ = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "suite_cpu", *args.pytest_args]
        own0, children0 = _cpu_s()
        started = time.perf_counter()
        done = subprocess.run(argv_, cwd=REPO, env=env, capture_output=True, text=True, check=False)
        wall_s = time.perf_counter() - started
        own1, children1 = _cpu_s()
        rows = [line.rstrip("\n").split("\t") for path in Path(out).glob("*.tsv") for line in path.open()]

    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else f"exit {done.returncode}"
    total_s = (own1 - own0) + (children1 - children0)
    tests = [(r[0], float(r[1]), float(r[2]), float(r[3])) for r in rows]
    in_tests_own = sum(t[2] for t in tests)
    in_tests_children = sum(t[3] for t in tests)
    print(f"{summary}; {wall_s:.1f} s wall, {total_s:.1f} CPU-s in all (user + system, every process waited for)")
    print(f"in tests: {in_tests_own:.1f} CPU-s in the workers, {in_tests_children:.1f} in their children;")
    print(f"outside tests (start-up, collection, the controller): {total_s - in_tests_own - in_tests_children:.1f}")

    per_file: dict[str, float] = defaultdict(float)
    for nodeid, _, own, children in tests:
        per_file[nodeid.split("::")[0]] += own + children
    print(f"\nfiles, CPU-s (top {args.top}):")
    for name, cpu_s in sorted(per_file.items(), key=lambda kv: -kv[1])[: args.top]:
        print(f"  {cpu_s:7.1f}  {name}")
    print(f"\ntests: wall s, worker CPU-s, children CPU-s (top {args.top} by CPU):")
    for nodeid, wall, own, children in sorted(tests, key=lambda t: -(t[2] + t[3]))[: args.top]:
        print(f"  {wall:6.1f} {own:6.1f} {children:6.1f}  {nodeid}")
    return done.returncode


if __name__ == "__main__":
    raise SystemExit(main())
