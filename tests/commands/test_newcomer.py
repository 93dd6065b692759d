"""A newcomer's first day, through the real CLI: `init` in a fresh git repository with no remote, a
baseline recorded on main, a regression on a feature branch judged against main (never its own
first run), and paired mode pairing with main when told, and refusing to pair a commit with itself."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import CliResult, commit_all, git, run_cli, set_busy_iterations

pytestmark = pytest.mark.slow

# Busy loops a fraction of a second long; 10x the work is far beyond the +5% fail limit even with
# 2-3 repeats on a shared 2-core machine (see tests/commands/test_check_comparison.py).
BASE_ITERATIONS = 300_000
FEATURE_ITERATIONS = 10 * BASE_ITERATIONS


def check(
    project: Path, env: dict[str, str], *args: str, name: str, repeats: int = 2
) -> tuple[CliResult, dict[str, Any]]:
    result = run_cli(
        "check", "--repeats", str(repeats), "--warmup", "0", "--json", f"{name}.json", *args, cwd=project, env=env
    )
    path = project / f"{name}.json"
    return result, json.loads(path.read_text()) if path.exists() else {}


def test_init_then_main_then_a_feature_branch_regression_then_paired_mode(
    tmp_path: Path, cli_env: dict[str, str]
) -> None:
    project = tmp_path / "my-model"
    project.mkdir()
    set_busy_iterations(project, BASE_ITERATIONS)
    git(project, "init", "-q", "-b", "main")
    git(project, "config", "user.email", "new@example.invalid")
    git(project, "config", "user.name", "newcomer")

    init = run_cli("init", "--command", "python busy.py", cwd=project, env=cli_env)
    assert init.returncode == 0, init.stderr
    assert "baselines from branch 'main'" in init.stdout
    assert (project / ".gitignore").read_text() == ".green-gate/\n"
    budget = (project / "green-budget.yml").read_text()
    assert "baseline:\n  branch: main\n" in budget
    assert run_cli("validate", cwd=project, env=cli_env).returncode == 0
    main_sha = commit_all(project, "a model and its energy budget")

    on_main, doc = check(project, cli_env, name="main")
    assert on_main.returncode == 0, on_main.stderr
    (bench,) = doc["benchmarks"]
    assert bench["baseline_branch"] == "main" and bench["baseline"] is None
    assert "First run on `main`" in on_main.stdout and "this run is recorded as one" in on_main.stdout

    git(project, "checkout", "-qb", "feature/more-work")
    set_busy_iterations(project, FEATURE_ITERATIONS)
    feature_sha = commit_all(project, "10x the work")
    on_feature, doc = check(project, cli_env, name="feature")
    assert on_feature.returncode == 1, on_feature.stderr + on_feature.stdout  # fails against main's baseline
    (bench,) = doc["benchmarks"]
    assert bench["baseline_branch"] == "main" and bench["baseline"]["commit"] == main_sha
    assert "First run" not in on_feature.stdout

    # The feature run is in MLflow, but never a baseline: `history` and `baseline show` agree.
    rows = json.loads(run_cli("history", "--format", "json", cwd=project, env=cli_env).stdout)
    eligible = {row["branch"]: row["baseline_eligible"] for row in rows}
    assert eligible == {"main": True, "feature/more-work": False}
    shown = run_cli("baseline", "show", cwd=project, env=cli_env)
    assert shown.returncode == 0, shown.stderr
    assert "-> baselines from `main`" in shown.stdout
    assert f"baseline run:    {rows[-1]['run_id']}" in shown.stdout  # main's run, the oldest row

    # Three pairs: with two, the paired interval has one degree of freedom and spans ±1000%.
    paired, doc = check(
        project, cli_env, "--comparison-mode", "paired", "--base-branch", "main", name="paired", repeats=3
    )
    assert paired.returncode == 1, paired.stderr + paired.stdout
    (bench,) = doc["benchmarks"]
    assert bench["baseline"]["commit"] == main_sha != feature_sha
    assert any(f"base {main_sha[:7]} and this commit ran alternately" in note for note in bench["notes"])

    itself, doc = check(
        project, cli_env, "--comparison-mode", "paired", "--base-branch", "feature/more-work", name="itself"
    )
    assert itself.returncode == 2, itself.stderr
    assert "paired with itself" in itself.stderr and "--base-branch main" in itself.stderr
    assert "feature/more-work (--base-branch)" in itself.stderr
    assert doc["verdict"] == "error" and doc["benchmarks"][0]["per_repeat"] == {}  # nothing was run


def test_a_misspelt_budget_key_stops_check_and_validate_unless_lenient(tmp_path: Path, cli_env: dict[str, str]) -> None:
    from tests.support.cli import busy_project

    project = busy_project(tmp_path / "p", iterations=20_000)
    budget = project / "green-budget.yml"
    budget.write_text(budget.read_text().replace("limits:", "limts:"))
    for command in (("validate",), ("check", "--no-record")):
        strict = run_cli(*command, cwd=project, env=cli_env)
        assert strict.returncode == 2, strict.stderr
        assert "green-budget.yml:8: unknown key 'limts'; did you mean 'limits'?" in strict.stderr
        lenient = run_cli(*command, "--lenient", cwd=project, env=cli_env)
        assert lenient.returncode == 0, lenient.stderr
        assert "unknown key 'limts' is ignored; did you mean 'limits'?" in lenient.stderr
