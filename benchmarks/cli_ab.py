"""A/A and A/B checks through the real `green-gate` CLI, in history and paired mode.

It copies an example benchmark into a throw-away git repository with two branches:

- `main`: the example as it is;
- `pr-aa`: an empty change (A/A: any fail is a false fail);
- `pr-ab`: the same example with GREEN_GATE_EXAMPLE_EXTRA_WORK set to --extra-work in the
  budget's env (A/B: a true regression of that size in work per prediction).

History mode records --baseline-runs runs of `main` in a fresh embedded MLflow store, then checks
each PR branch --trials times against it. Paired mode checks each PR branch --trials times with
`comparison.mode: paired` (the base commit runs alternately in the same job). It prints one line
per check and a summary table, and keeps every --json result under --out.

CPU (any machine):  python benchmarks/cli_ab.py --example examples/digits --extra-work 0.3
GPU (see benchmarks/gpu_ab.sh): python benchmarks/cli_ab.py --example benchmarks/gpu_matmul --extra-work 0.05
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True)


def make_repo(example: Path, extra_work: float, root: Path, adaptive: str | None = None) -> Path:
    repo = root / "repo"
    shutil.copytree(example, repo, ignore=shutil.ignore_patterns(".green-gate", "__pycache__"))
    if adaptive:  # `repeats: {min, max}` on every branch
        low, high = adaptive.split(",")
        budget = repo / "green-budget.yml"
        text, count = re.subn(
            r"(?m)^(\s+)repeats: \d+.*$", rf"\1repeats: {{min: {low}, max: {high}}}", budget.read_text()
        )
        if count != 1:
            raise SystemExit(f"{budget}: expected one 'repeats: N' line to make adaptive")
        budget.write_text(text)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "bench@example.invalid")
    git(repo, "config", "user.name", "bench")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "base")
    git(repo, "checkout", "-qb", "pr-aa")
    (repo / "NOTES.txt").write_text("no change to the benchmark\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "A/A: nothing that matters")
    git(repo, "checkout", "-q", "main")
    git(repo, "checkout", "-qb", "pr-ab")
    budget = repo / "green-budget.yml"
    text = budget.read_text()
    marker = "    command:"
    if marker not in text:
        raise SystemExit(f"{budget}: expected a '{marker}' line to add the env under")
    text = text.replace(marker, f"    env: {{GREEN_GATE_EXAMPLE_EXTRA_WORK: {extra_work}}}\n{marker}", 1)
    budget.write_text(text)
    git(repo, "commit", "-qam", f"A/B: +{extra_work:.0%} work per prediction")
    git(repo, "checkout", "-q", "main")
    return repo


def check(repo: Path, branch: str, args: list[str], out: Path, env: dict[str, str]) -> dict[str, object]:
    git(repo, "checkout", "-q", branch)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "gate", "check", "--branch", branch, "--json", str(out), *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if not out.exists():
        raise SystemExit(f"no result from {branch}: exit {done.returncode}\n{done.stderr[-3000:]}")
    bench = json.loads(out.read_text())["benchmarks"][0]
    limit = next((c for c in bench["checks"] if c["metric"] == "energy_per_prediction_j"), None)
    adaptive = bench.get("adaptive")
    return {
        "branch": branch,
        "exit": done.returncode,
        "verdict": bench["verdict"],
        "reason": limit["reason"] if limit else "",
        "repeats": bench["repeats"],
        "stopped": adaptive["stopped"] if adaptive else None,
        "job_noise": [n for n in bench["notes"] if "job-to-job" in n],
        "wall_s": round(time.monotonic() - started),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--example", type=Path, default=REPO / "examples" / "digits")
    parser.add_argument("--extra-work", type=float, default=0.3)
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--baseline-runs", type=int, default=1)
    parser.add_argument("--modes", default="history,paired")
    parser.add_argument("--out", type=Path, default=Path("cli-ab-results"))
    parser.add_argument("--adaptive", metavar="MIN,MAX", help="repeats: {min, max} in the budget instead of --repeats")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "MLFLOW_", "GREEN_GATE_"))}
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    common = ["--warmup", str(args.warmup)] + ([] if args.adaptive else ["--repeats", str(args.repeats)])
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="green-gate-ab-") as tmp:
        repo = make_repo(args.example.resolve(), args.extra_work, Path(tmp), args.adaptive)
        for mode in args.modes.split(","):
            budget = repo / "green-budget.yml"
            if mode == "history":
                for i in range(args.baseline_runs):
                    row = check(repo, "main", common, args.out / f"history-main-{i}.json", env)
                    print(f"[history] baseline run {i + 1}: {row}", flush=True)
            for trial in range(args.trials):
                for branch in ("pr-aa", "pr-ab"):
                    git(repo, "checkout", "-q", branch)
                    original = budget.read_text()
                    if mode == "paired":
                        budget.write_text(original + "\ncomparison:\n  mode: paired\n")
                    try:
                        extra = ["--base-branch", "main", "--no-record"]
                        row = check(repo, branch, common + extra, args.out / f"{mode}-{branch}-{trial}.json", env)
                    finally:
                        budget.write_text(original)
                    row["mode"] = mode
                    rows.append(row)
                    print(f"[{mode}] {row}", flush=True)
    print("\n| mode | change | checks | pass | warn | fail | verdicts |")
    print("|---|---|---|---|---|---|---|")
    for mode in args.modes.split(","):
        for branch, label in (("pr-aa", "A/A"), ("pr-ab", f"A/B +{args.extra_work:.0%} work")):
            got = [r["verdict"] for r in rows if r["mode"] == mode and r["branch"] == branch]
            print(
                f"| {mode} | {label} | {len(got)} | {got.count('pass')} | {got.count('warn')} | {got.count('fail')} "
                f"| {', '.join(map(str, got))} |"
            )


if __name__ == "__main__":
    main()
