"""The real CLI against a real `mlflow server`: a benchmark counting tokens, its quality judged
against the baseline's, and the efficiency figure beside the change."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from tests.support.cli import run_cli
from tests.support.mlflow import MlflowServer, metrics_of, search_runs, tags_of

pytestmark = pytest.mark.slow

BENCH = """\
import json, os
total = 0
for i in range(200_000):
    total += i * i
json.dump({"tokens": 4096, "accuracy": float(os.environ["ACCURACY"])}, open(os.environ["GREEN_GATE_METRICS"], "w"))
"""


def _project(tmp_path: Path) -> tuple[Path, str]:
    prefix = f"units-{uuid.uuid4().hex[:8]}"
    (tmp_path / "bench.py").write_text(BENCH)
    (tmp_path / "green-budget.yml").write_text(
        "version: 1\n"
        "benchmarks:\n"
        "  - name: llm\n"
        "    command: python bench.py\n"
        "    unit: token\n"
        "    repeats: 2\n"
        "    warmup: 0\n"
        "limits:\n"
        "  energy_per_prediction_j: {fail: +400%}\n"
        "quality:\n"
        "  accuracy: {min_ratio: 0.99}\n"
        "carbon:\n"
        "  intensity_g_per_kwh: 100\n"
        f"mlflow:\n  experiment: {prefix}/{{benchmark}}\n"
    )
    return tmp_path, f"{prefix}/llm"


def test_tokens_are_counted_and_a_quality_drop_against_the_baseline_fails(
    tmp_path: Path, mlflow_server: MlflowServer, cli_env: dict[str, str]
) -> None:
    project, experiment = _project(tmp_path)
    env = {**cli_env, "MLFLOW_TRACKING_URI": mlflow_server.url}
    main = ("check", "--branch", "main", "--commit", "a" * 40, "--json", "first.json")
    first = run_cli(*main, cwd=project, env={**env, "ACCURACY": "0.95"})
    assert first.returncode == 0, first.stderr
    assert "Energy per token (J)" in first.stdout and "Energy per prediction" not in first.stdout
    (bench,) = json.loads((project / "first.json").read_text())["benchmarks"]
    assert bench["unit"] == "token" and bench["metrics"]["energy_per_prediction_j"] > 0
    accuracy = {c["metric"]: c for c in bench["checks"]}["accuracy"]
    assert (accuracy["status"], accuracy["reason"]) == ("skip", "no baseline yet")

    pr = ("check", "--branch", "feature", "--base-branch", "main", "--commit", "b" * 40, "--json", "second.json")
    second = run_cli(*pr, cwd=project, env={**env, "ACCURACY": "0.90"})
    assert second.returncode == 1, second.stderr
    (bench2,) = json.loads((project / "second.json").read_text())["benchmarks"]
    checks = {c["metric"]: c for c in bench2["checks"]}
    assert checks["accuracy"]["status"] == "fail" and checks["accuracy"]["baseline"] == 0.95
    assert "below 0.99 ×" in checks["accuracy"]["reason"]
    efficiency = checks["efficiency:accuracy"]
    assert efficiency["status"] == "pass" and efficiency["change_pct"] is not None
    assert "Energy per token per accuracy point (J)" in second.stdout

    runs = search_runs(mlflow_server, experiment)
    assert [tags_of(r)["green_gate.unit"] for r in runs] == ["token", "token"]
    assert all("energy_per_prediction_j" in metrics_of(r) for r in runs)
