"""Paired and auto comparison through the real CLI: base and PR commits of a real git repository, run
alternately when history cannot decide, both sides logged to a real `mlflow server`."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import busy_project, commit_all, git, run_cli, set_busy_iterations
from tests.support.mlflow import MlflowServer, search_runs, tags_of

pytestmark = pytest.mark.slow

# On a shared 2-core machine single runs of a fraction of a second vary by up to 1.7x, and 3 pairs
# leave 2 degrees of freedom: at 3x the work the paired interval can reach down to +0.5%, under the
# +5% fail limit. At 10x (about 0.15 s against 1 s a run) it starts near +300%.
BASE_ITERATIONS = 1_000_000
PR_ITERATIONS = 10 * BASE_ITERATIONS


def pr_repository(tmp_path: Path, mode: str, experiment: str) -> Path:
    """A git repository whose `main` holds the busy benchmark; the caller commits the PR on top."""
    project = busy_project(
        tmp_path / "repo",
        f"comparison:\n  mode: {mode}\nmlflow:\n  experiment: {experiment}/{{benchmark}}\n",
        repeats=3,
        iterations=BASE_ITERATIONS,
    )
    commit_all(project, "base")
    return project


def commit_pr_with_10x_work(project: Path) -> None:
    git(project, "checkout", "-qb", "pr")
    set_busy_iterations(project, PR_ITERATIONS)
    commit_all(project, "pr: 10x work")


def energy_limit(bench: dict[str, Any]) -> dict[str, Any]:
    (limit,) = [c for c in bench["checks"] if c["metric"] == "energy_per_prediction_j"]
    checked: dict[str, Any] = limit
    return checked


def worktrees(project: Path) -> list[str]:
    listing = git(project, "worktree", "list", "--porcelain")
    return [line for line in listing.splitlines() if line.startswith("worktree ")]


def test_paired_mode_runs_base_and_pr_alternately_and_logs_both(
    tmp_path: Path, mlflow_server: MlflowServer, cli_env: dict[str, str]
) -> None:
    experiment = f"paired-{uuid.uuid4().hex[:8]}"
    project = pr_repository(tmp_path, "paired", experiment)
    commit_pr_with_10x_work(project)

    env = {**cli_env, "MLFLOW_TRACKING_URI": mlflow_server.url}
    result = run_cli("check", "--base-branch", "main", "--json", "out.json", cwd=project, env=env)
    assert result.returncode == 1, result.stderr  # 10x the work is beyond the fail limit: exit 1
    doc = json.loads((project / "out.json").read_text())
    assert doc["verdict"] == "fail" and doc["exit_code"] == 1
    (bench,) = doc["benchmarks"]
    assert bench["baseline"]["paired"] is True
    assert len(bench["baseline"]["per_repeat"]["energy_j"]) == len(bench["per_repeat"]["energy_j"]) == 3
    limit = energy_limit(bench)
    assert limit["status"] == "fail" and limit["method"] == "paired-log"
    assert "(95% CI) exceeds the fail limit of +5%" in limit["reason"]
    assert any("in the order B P P B B P" in note for note in bench["notes"])
    assert f"busy loop of {PR_ITERATIONS} iterations" in result.stderr
    assert f"busy loop of {BASE_ITERATIONS} iterations" in result.stderr

    # What the check leaves in the project: the report and the local result, and no base worktree.
    state = project / ".green-gate"
    assert (state / "report.md").read_text() == result.stdout
    (local,) = (state / "results").glob("check-*.json")
    assert json.loads(local.read_text())["benchmarks"][0]["baseline"] == bench["baseline"]
    assert worktrees(project) == [f"worktree {project.resolve()}"]

    runs = search_runs(mlflow_server, f"{experiment}/busy")
    by_role = {tags_of(r)["green_gate.comparison"]: tags_of(r) for r in runs}
    assert set(by_role) == {"paired", "paired-base"}
    assert by_role["paired-base"]["green_gate.baseline_eligible"] == "false"
    assert by_role["paired-base"]["mlflow.source.git.branch"] == "main"
    assert by_role["paired"]["green_gate.baseline_run_id"] == bench["baseline"]["run_id"]


def test_auto_mode_confirms_a_history_fail_by_pairing_before_it_fails_the_build(
    tmp_path: Path, mlflow_server: MlflowServer, cli_env: dict[str, str]
) -> None:
    experiment = f"auto-history-{uuid.uuid4().hex[:8]}"
    project = pr_repository(tmp_path, "auto", experiment)
    env = {**cli_env, "MLFLOW_TRACKING_URI": mlflow_server.url}
    on_main = run_cli("check", "--json", "main.json", cwd=project, env=env)
    assert on_main.returncode == 0, on_main.stderr  # no baseline yet: policy missing_baseline: pass
    (first,) = json.loads((project / "main.json").read_text())["benchmarks"]
    assert first["baseline"] is None and first["mlflow_run_id"]
    assert any("Paired comparison not run" in n and "paired with itself" in n for n in first["notes"])

    commit_pr_with_10x_work(project)
    result = run_cli("check", "--base-branch", "main", "--json", "out.json", cwd=project, env=env)
    assert result.returncode == 1, result.stderr
    (bench,) = json.loads((project / "out.json").read_text())["benchmarks"]
    # History said fail; base and PR then ran alternately in this job, and the pairs failed it.
    assert bench["baseline"]["paired"] is True
    limit = energy_limit(bench)
    assert limit["status"] == "fail" and limit["method"] == "paired-log"
    assert any(
        n.startswith("Paired comparison (comparison.mode: auto, energy_per_prediction_j: history says fail (+")
        and "confirming paired before failing)" in n
        for n in bench["notes"]
    )
    assert f"busy loop of {BASE_ITERATIONS} iterations" in result.stderr  # the base ran

    runs = search_runs(mlflow_server, f"{experiment}/busy")
    assert sorted(str(tags_of(r).get("green_gate.comparison")) for r in runs) == ["None", "paired", "paired-base"]


def test_auto_mode_measures_the_base_paired_when_history_has_no_baseline(
    tmp_path: Path, mlflow_server: MlflowServer, cli_env: dict[str, str]
) -> None:
    experiment = f"auto-paired-{uuid.uuid4().hex[:8]}"
    project = pr_repository(tmp_path, "auto", experiment)
    commit_pr_with_10x_work(project)
    env = {**cli_env, "MLFLOW_TRACKING_URI": mlflow_server.url}
    result = run_cli("check", "--base-branch", "main", "--json", "out.json", cwd=project, env=env)
    assert result.returncode == 1, result.stderr
    (bench,) = json.loads((project / "out.json").read_text())["benchmarks"]
    assert bench["baseline"]["paired"] is True
    assert bench["baseline"]["commit"] == git(project, "rev-parse", "main")
    limit = energy_limit(bench)
    assert limit["status"] == "fail" and limit["method"] == "paired-log"
    assert any(
        n.startswith("Paired comparison (comparison.mode: auto, no baseline run in history)") for n in bench["notes"]
    )
    assert f"busy loop of {BASE_ITERATIONS} iterations" in result.stderr
    assert worktrees(project) == [f"worktree {project.resolve()}"]

    runs = search_runs(mlflow_server, f"{experiment}/busy")
    by_role = {tags_of(r)["green_gate.comparison"]: r for r in runs}
    assert set(by_role) == {"paired", "paired-base"}
    assert by_role["paired-base"]["info"]["run_id"] == bench["baseline"]["run_id"]
    assert tags_of(by_role["paired-base"])["mlflow.source.git.commit"] == bench["baseline"]["commit"]


def test_pinned_baseline_from_other_hardware_is_not_comparable(
    tmp_path: Path, mlflow_server: MlflowServer, cli_env: dict[str, str]
) -> None:
    from gate.devices.gpu import GpuInfo
    from gate.devices.hardware import Hardware
    from gate.tracking.mlflow_store import MlflowStore
    from gate.tracking.schema import TAG_CONTEXT, TAG_ELIGIBLE, TAG_HARDWARE, RunRecord, encode_context

    experiment = f"pinned-{uuid.uuid4().hex[:8]}"
    capped = GpuInfo("NVIDIA H100 80GB HBM3", "GPU-aaaa", "580.65.06", power_limit_w=400.0, mig_mode=False)
    other = Hardware("AMD EPYC 9654", 16, (capped.name,), (capped,))
    store = MlflowStore(mlflow_server.url)
    baseline_run = RunRecord(
        result_id=uuid.uuid4().hex,
        experiment=f"{experiment}/busy",
        run_name="baseline on a power-capped H100",
        start_time_ms=1_700_000_000_000,
        end_time_ms=1_700_000_001_000,
        metrics={"energy_per_prediction_j": 1e-9},  # any change would fail if it were compared
        series={"repeat.energy_per_prediction_j": (1e-9, 1e-9, 1e-9)},
        params={},
        tags={
            TAG_HARDWARE: other.fingerprint,
            TAG_CONTEXT: encode_context({"hardware": other.to_dict()}),
            TAG_ELIGIBLE: "true",
        },
        failed=False,
    )
    run_id, _, _ = store.log_record(baseline_run)
    project = busy_project(tmp_path, f"mlflow:\n  experiment: {experiment}/{{benchmark}}\n")
    env = {**cli_env, "MLFLOW_TRACKING_URI": mlflow_server.url}
    result = run_cli("check", "--baseline-run-id", run_id, "--json", "out.json", cwd=project, env=env)
    assert result.returncode == 0, result.stderr  # policy not_comparable: warn (the default)
    (bench,) = json.loads((project / "out.json").read_text())["benchmarks"]
    assert bench["verdict"] == "warn"
    (limit,) = [c for c in bench["checks"] if c["metric"] == "energy_per_prediction_j"]
    assert limit["status"] == "warn" and limit["change_pct"] is None
    assert limit["reason"].startswith("not comparable: baseline on other hardware (GPU count: 1 vs 0; GPU models:")
    assert "GPU power limits (W): 400 vs none" in limit["reason"]
    assert bench["baseline"]["per_repeat"]["energy_per_prediction_j"] == [1e-9, 1e-9, 1e-9]

    strict = busy_project(
        tmp_path / "strict", f"policy:\n  not_comparable: fail\nmlflow:\n  experiment: {experiment}/{{benchmark}}\n"
    )
    assert run_cli("check", "--baseline-run-id", run_id, cwd=strict, env=env).returncode == 1
