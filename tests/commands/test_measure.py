"""`green-gate measure` through the real CLI: what it writes, what it never touches, and what a
cancelled job still hands over."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from tests.commands.test_check_cancel import BENCH, BUDGET, _wait_for
from tests.support.cli import busy_project, commit_all, git, run_cli, set_busy_iterations, start_cli

pytestmark = pytest.mark.slow


def test_sigterm_keeps_the_repeats_measured_before_it(tmp_path: Path, cli_env: dict[str, str]) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "green-budget.yml").write_text(BUDGET)
    (project / "bench.py").write_text(BENCH)
    proc = start_cli("measure", "--out", str(tmp_path / "out"), cwd=project, env=cli_env)
    _wait_for(project / "pids.txt", proc, 60)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    document = json.loads((tmp_path / "out" / "measurement.json").read_text())
    assert document["complete"] is False and "cancelled by SIGTERM" in document["notes"][-1]
    [bench] = document["benchmarks"]
    assert bench["summary"]["repeats"] == 1 and len(bench["summary"]["per_repeat"]["energy_j"]) == 1


def test_paired_mode_measures_both_sides_and_credentials_are_named(tmp_path: Path, cli_env: dict[str, str]) -> None:
    extra = "comparison:\n  mode: paired\n  base_ref: main\n"
    project = busy_project(tmp_path / "p", extra, repeats=2, iterations=50_000)
    base = commit_all(project, "base")
    git(project, "checkout", "-qb", "feature")
    set_busy_iterations(project, 100_000)
    commit_all(project, "change")
    env = {**cli_env, "GITHUB_TOKEN": "ghs_not_needed_here"}
    done = run_cli("measure", "--out", str(tmp_path / "out"), cwd=project, env=env)
    assert done.returncode == 0, done.stderr
    assert "warning: GITHUB_TOKEN set in the measuring job" in done.stderr
    assert not (project / ".green-gate" / "mlflow.db").exists()
    [bench] = json.loads((tmp_path / "out" / "measurement.json").read_text())["benchmarks"]
    assert bench["baseline"]["paired"] is True and bench["baseline"]["commit"] == base
    assert len(bench["base"]["per_repeat"]["energy_j"]) == 2 == len(bench["summary"]["per_repeat"]["energy_j"])
