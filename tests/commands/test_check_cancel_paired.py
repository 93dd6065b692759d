"""A paired check cancelled while the base commit's benchmark runs in its temporary git worktree:
the benchmark and its child end, the worktree is removed (from disk and from git's list), and the
gate exits with the signal's code, the measured repeat kept."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.commands.test_check_cancel import _alive
from tests.support.cli import commit_all, git, run_cli, start_cli

pytestmark = pytest.mark.slow

# Counts its executions in a folder outside both trees ($BENCH_STATE), per side; the base's second
# one starts a child that sleeps, writes both pids and the folder it runs in, and waits. The PR's
# version never blocks, so the signal always comes while the base runs in its worktree.
BENCH = """\
import json, os, subprocess
from pathlib import Path
SIDE = "base"
state = Path(os.environ["BENCH_STATE"])
runs = state / f"runs-{SIDE}.txt"
count = int(runs.read_text()) + 1 if runs.exists() else 1
runs.write_text(str(count))
if SIDE == "base" and count > 1:
    child = subprocess.Popen(["sleep", "120"])
    (state / "pids.tmp").write_text(f"{os.getpid()} {child.pid} {os.getcwd()}")
    os.replace(state / "pids.tmp", state / "pids.txt")
    child.wait()
json.dump({"predictions": 1000}, open(os.environ["GREEN_GATE_METRICS"], "w"))
"""

BUDGET = """\
version: 1
benchmarks:
  - name: sleepy
    command: python bench.py
    repeats: 3
    warmup: 0
    timeout_s: 300
comparison:
  mode: paired
limits:
  energy_per_prediction_j: {warn: +2%, fail: +5%}
carbon:
  intensity_g_per_kwh: 100
"""


def _worktrees(project: Path) -> list[str]:
    listing = git(project, "worktree", "list", "--porcelain")
    return [line for line in listing.splitlines() if line.startswith("worktree ")]


def test_sigterm_during_the_paired_base_run_removes_its_worktree_and_processes(
    tmp_path: Path, cli_env: dict[str, str]
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "green-budget.yml").write_text(BUDGET)
    (project / "bench.py").write_text(BENCH)
    commit_all(project, "base")
    git(project, "checkout", "-qb", "pr")
    (project / "bench.py").write_text(BENCH.replace('SIDE = "base"', 'SIDE = "pr"'))
    commit_all(project, "pr")
    state, tmp = tmp_path / "state", tmp_path / "tmp"  # tmp: where the base worktree is made
    state.mkdir()
    tmp.mkdir()
    env = {**cli_env, "TMPDIR": str(tmp), "BENCH_STATE": str(state)}
    proc = start_cli("check", "--no-record", "--base-branch", "main", cwd=project, env=env)
    deadline = time.monotonic() + 120
    while not (state / "pids.txt").exists():
        if proc.poll() is not None:
            pytest.fail(f"the gate ended (exit {proc.returncode}) before the second execution: {proc.communicate()[1]}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("no second execution after 120 s")
        time.sleep(0.05)
    bench_pid, child_pid, where = (state / "pids.txt").read_text().split(" ", 2)
    assert len(_worktrees(project)) == 2  # the checkout and the base's worktree
    assert list(tmp.glob("green-gate-base-*"))

    proc.send_signal(signal.SIGTERM)
    try:
        _, stderr = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("the gate did not end within 30 s of SIGTERM")

    assert proc.returncode == 143, stderr
    assert "Traceback" not in stderr
    assert not _alive(int(bench_pid)) and not _alive(int(child_pid))
    assert _worktrees(project) == [f"worktree {project.resolve()}"]  # git's list holds the checkout only
    assert list(tmp.iterdir()) == []  # the base's folder and the metrics folder removed
    assert Path(where).resolve().is_relative_to(tmp.resolve())  # it ran in the base's worktree
    assert not Path(where).exists()
    (result,) = (project / ".green-gate" / "results").glob("*.json")
    doc = json.loads(result.read_text())
    assert doc["verdict"] == "error" and doc["exit_code"] == 143
    # Pair 1 (base, PR) was measured before the signal came in pair 2: both sides of it are kept.
    [bench] = doc["benchmarks"]
    assert len(bench["per_repeat"]["energy_j"]) == 1 and len(bench["baseline"]["per_repeat"]["energy_j"]) == 1


def test_a_pr_failing_in_pair_2_keeps_pair_1(tmp_path: Path, cli_env: dict[str, str]) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "green-budget.yml").write_text(BUDGET)
    (project / "bench.py").write_text(BENCH.replace("count > 1", "count > 99"))
    commit_all(project, "base")
    git(project, "checkout", "-qb", "pr")
    failing = BENCH.replace('SIDE = "base"', 'SIDE = "pr"').replace("count > 1", "count > 99")
    (project / "bench.py").write_text(failing + "if count > 1:\n    raise SystemExit(5)\n")
    commit_all(project, "pr")
    state = tmp_path / "state"
    state.mkdir()
    env = {**cli_env, "BENCH_STATE": str(state)}
    done = run_cli(
        "check", "--no-record", "--base-branch", "main", "--json", str(tmp_path / "r.json"), cwd=project, env=env
    )
    assert done.returncode == 3, done.stderr
    [bench] = json.loads((tmp_path / "r.json").read_text())["benchmarks"]
    assert bench["verdict"] == "error" and "exited with status 5" in bench["error"]
    assert len(bench["per_repeat"]["energy_j"]) == 1 and len(bench["baseline"]["per_repeat"]["energy_j"]) == 1
