"""Energy per case through the real CLI: a pytest-benchmark suite of five cases, each a phase marked
by green-gate's pytest plugin, measured apart on a CPU-only runner; a +30% regression in one case
fails that case alone, and every case reaches MLflow as metrics of its own."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from tests.support.cli import run_cli
from tests.support.mlflow import MlflowServer, metrics_of, search_runs
from tests.support.tools import write_tools

pytestmark = pytest.mark.slow

CASES = ("test_small", "test_medium", "test_large", "test_sort", "test_join")


def test_one_case_thirty_percent_dearer_fails_alone(
    tmp_path: Path, mlflow_server: MlflowServer, cli_env: dict[str, str]
) -> None:
    write_tools(tmp_path)
    prefix = f"cases-{uuid.uuid4().hex[:8]}"
    # Beside two busy neighbours a case's interval is up to ±15% wide with five repeats: the limit sits
    # far enough below +30% that the gate decides instead of calling the change possible noise.
    (tmp_path / "green-budget.yml").write_text(
        "version: 1\n"
        "benchmarks:\n"
        "  - name: suite\n"
        "    command: python -m pytest -q -p no:cacheprovider -p gate.pytest_plugin test_suite.py\n"
        "    repeats: 5\n"
        "    warmup: 0\n"
        "    unit: call\n"
        "    cases:\n"
        "      'test_*': {energy_per_item_j: {fail: +10%}}\n"
        "carbon:\n  intensity_g_per_kwh: 100\n"
        f"mlflow:\n  experiment: {prefix}/{{benchmark}}\n"
    )
    env = {**cli_env, "MLFLOW_TRACKING_URI": mlflow_server.url}
    base = run_cli("check", "--branch", "main", "--commit", "a" * 40, "--json", "base.json", cwd=tmp_path, env=env)
    assert base.returncode == 0, base.stderr
    assert "| Case | Calls | Energy | Duration | Energy per call | Change | Limit | Status |" in base.stdout
    (bench,) = json.loads((tmp_path / "base.json").read_text())["benchmarks"]
    assert [p["name"] for p in bench["phases"]] == list(CASES)
    assert all(p["items"] == 40 and p["energy_per_item_j"] > 0 for p in bench["phases"])

    pr = ("check", "--branch", "feature", "--base-branch", "main", "--commit", "b" * 40, "--json", "pr.json")
    second = run_cli(*pr, cwd=tmp_path, env={**env, "WORK_LARGE": "1.3"})
    assert second.returncode == 1, second.stderr
    (bench,) = json.loads((tmp_path / "pr.json").read_text())["benchmarks"]
    cases = {c["metric"]: c for c in bench["checks"] if c["metric"].startswith("phase.")}
    large = cases.pop("phase.test_large.energy_per_item_j")
    assert large["status"] == "fail" and large["change_pct"] > 10, large
    assert {c["status"] for c in cases.values()} <= {"pass", "warn"}, cases  # warn: a case too noisy to judge
    assert len(cases) == 4
    row = next(line for line in second.stdout.splitlines() if line.startswith("| test_large |"))
    assert "❌ fail" in row

    runs = search_runs(mlflow_server, f"{prefix}/suite")
    logged = metrics_of(runs[-1])
    for case in CASES:  # one MLflow metric per case (and its per-repeat series for the next baseline)
        assert logged[f"phase.{case}.energy_per_item_j"] > 0
        assert f"repeat.phase.{case}.energy_per_item_j" in logged
