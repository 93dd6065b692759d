"""Paired mode through the real CLI: base and PR commits of a real git repository, run alternately,
decided on the paired interval, both sides logged to a real `mlflow server`."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.commands.test_check import busy_project, search_runs, tags_of
from tests.conftest import MlflowServer, run_cli

pytestmark = pytest.mark.slow


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True)


def test_paired_mode_runs_base_and_pr_alternately_and_logs_both(
    tmp_path: Path, mlflow_server: MlflowServer, cli_env: dict[str, str]
) -> None:
    experiment = f"paired-{uuid.uuid4().hex[:8]}"
    project = busy_project(
        tmp_path / "repo",
        f"comparison:\n  mode: paired\nmlflow:\n  experiment: {experiment}/{{benchmark}}\n",
    )
    budget = project / "green-budget.yml"
    budget.write_text(budget.read_text().replace("repeats: 1", "repeats: 3"))
    git(project, "init", "-q", "-b", "main")
    git(project, "config", "user.email", "test@example.invalid")
    git(project, "config", "user.name", "test")
    git(project, "add", ".")
    git(project, "commit", "-qm", "base")
    git(project, "checkout", "-qb", "pr")
    script = project / "busy.py"
    script.write_text(script.read_text().replace('"300000"', '"900000"'))  # the PR does 3x the work
    git(project, "commit", "-qam", "pr: 3x work")

    env = {**cli_env, "MLFLOW_TRACKING_URI": mlflow_server.url}
    result = run_cli("check", "--base-branch", "main", "--json", "out.json", cwd=project, env=env)
    assert result.returncode in (0, 1), result.stderr
    (bench,) = json.loads((project / "out.json").read_text())["benchmarks"]
    assert bench["baseline"]["paired"] is True
    assert len(bench["baseline"]["per_repeat"]["energy_j"]) == len(bench["per_repeat"]["energy_j"]) == 3
    (limit,) = [c for c in bench["checks"] if c["metric"] == "energy_per_prediction_j"]
    assert limit["method"] == "paired-log" and "(95% CI)" in limit["reason"]
    assert any("in the order B P P B B P" in note for note in bench["notes"])
    assert "busy loop of 900000 iterations" in result.stderr and "busy loop of 300000 iterations" in result.stderr

    runs = search_runs(mlflow_server, f"{experiment}/busy")
    by_role = {tags_of(r)["green_gate.comparison"]: tags_of(r) for r in runs}
    assert set(by_role) == {"paired", "paired-base"}
    assert by_role["paired-base"]["green_gate.baseline_eligible"] == "false"
    assert by_role["paired-base"]["mlflow.source.git.branch"] == "main"
    assert by_role["paired"]["green_gate.baseline_run_id"] == bench["baseline"]["run_id"]
    assert not (tmp_path / "repo.base").exists()


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
