"""Per-case verdicts through the real `green-gate` CLI: does a regression in one case of a suite fail
that case alone?

A pytest-benchmark suite of five cases (tests/support/tools.py), each a phase through green-gate's
pytest plugin, on this machine's CPU. One check on `main` records the baseline; then --trials
checks with one case's work raised by --extra-work (A/B) and --trials with nothing changed (A/A),
each judged with `cases: {"test_*": {energy_per_item_j: {fail: +LIMIT%}}}`. Prints one line per
check and a summary: how often the regressed case failed, how often another case failed (a false
fail) or warned (too noisy to judge).

python benchmarks/case_regression.py --trials 3 --extra-work 0.3 --case large --limit 15
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.support.tools import write_tools  # noqa: E402  (the suite the tests run, one definition)

BUDGET = """\
version: 1
benchmarks:
  - name: suite
    command: python -m pytest -q -p no:cacheprovider -p gate.pytest_plugin test_suite.py
    repeats: {repeats}
    warmup: 0
    unit: call
    cases:
      "test_*": {{energy_per_item_j: {{fail: +{limit}%}}}}
carbon:
  intensity_g_per_kwh: 100
"""


def check(project: Path, name: str, branch: str, env: dict[str, str]) -> tuple[int, dict[str, str], float]:
    args = [sys.executable, "-m", "gate", "check", "--branch", branch, "--json", f"{name}.json"]
    if branch != "main":
        args += ["--base-branch", "main"]
    started = time.monotonic()
    done = subprocess.run(args, cwd=project, env=env, capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - started
    (bench,) = json.loads((project / f"{name}.json").read_text())["benchmarks"]
    statuses = {
        c["metric"].split(".")[1]: f"{c['status']} {c['change_pct']:+.1f}%"
        if c["change_pct"] is not None
        else c["status"]
        for c in bench["checks"]
        if c["metric"].startswith("phase.")
    }
    return done.returncode, statuses, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--extra-work", type=float, default=0.3)
    parser.add_argument("--case", default="large", help="small, medium, large, sort or join")
    parser.add_argument("--limit", type=float, default=15.0)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="case-regression-") as tmp:
        project = write_tools(Path(tmp))
        (project / "green-budget.yml").write_text(BUDGET.format(repeats=args.repeats, limit=args.limit))
        base_env = {**os.environ, "PYTHONPATH": str(REPO)}
        code, _, elapsed = check(project, "base", "main", base_env)
        print(f"baseline on main: exit {code} in {elapsed:.0f} s")
        regressed = f"test_{args.case}"
        caught = false_fails = warns = 0
        for kind in ("A/B", "A/A"):
            env = {**base_env, f"WORK_{args.case.upper()}": str(1 + args.extra_work)} if kind == "A/B" else base_env
            for trial in range(args.trials):
                code, statuses, elapsed = check(project, f"{kind[-1]}{trial}", "feature", env)
                print(f"{kind} {trial + 1}: exit {code} in {elapsed:.0f} s: {statuses}")
                for case, status in statuses.items():
                    if kind == "A/B" and case == regressed:
                        caught += status.startswith("fail")
                    elif status.startswith("fail"):
                        false_fails += 1
                    elif status.startswith("warn"):
                        warns += 1
        others = args.trials * 4 + args.trials * 5
        print(
            f"\n{regressed} +{args.extra_work:.0%} work, fail limit +{args.limit:g}%: caught {caught}/{args.trials}; "
            f"other case verdicts: {false_fails}/{others} false fails, {warns}/{others} inconclusive warns"
        )


if __name__ == "__main__":
    main()
