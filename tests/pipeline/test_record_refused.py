"""A run MLflow refuses during `check` (its content, not an outage) is kept aside in spool/refused/ and
reported, not spooled for `green-gate upload`, where it would fail every later job."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, cast

import pytest

from gate.commands import check, upload
from gate.energy.model import EnergyReading, ScopeEnergy
from gate.tracking import spool
from tests.support.mlflow import seed_sqlite_store

# A real MLflow store (sqlite): seconds, so the slow tier.
pytestmark = pytest.mark.slow

BENCH = """import json, os
json.dump({"predictions": 1000}, open(os.environ["GREEN_GATE_METRICS"], "w"))
"""
BUDGET = """version: 1
benchmarks:
  - name: b
    command: python bench.py
    repeats: 1
    warmup: 0
limits:
  energy_per_prediction_j: {warn: +2%, fail: +5%}
carbon:
  intensity_g_per_kwh: 400
policy:
  missing_baseline: pass
"""


class OddScopeMeter:
    """The gate refuses benchmark-reported names MLflow would reject before logging; a meter's scope
    name becomes a metric name unchecked (`energy_<scope>_j`), so a scope MLflow rejects is how this
    test gets a real refusal from a real store."""

    def start(self) -> None:
        pass

    def stop(self) -> EnergyReading:
        return EnergyReading(1.0, (ScopeEnergy(cast(Any, "cpu!"), 10.0, "estimated", "test"),))


def test_a_run_mlflow_refuses_is_quarantined_and_reported_not_spooled_for_upload(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bench.py").write_text(BENCH)
    (tmp_path / "green-budget.yml").write_text(BUDGET)
    database = seed_sqlite_store(tmp_path / "mlflow.db", cwd=tmp_path)
    env = {"MLFLOW_TRACKING_URI": f"sqlite:///{database}", "GREEN_GATE_MLFLOW_BACKOFF_S": "0"}
    opts = check.CheckOptions(budget_path=tmp_path / "green-budget.yml", branch="main", commit="a" * 40)

    code = check.run(opts, env=env, cwd=tmp_path, meter=OddScopeMeter(), log=lambda m: print(m, file=sys.stderr))
    stderr = capsys.readouterr().err

    assert "Traceback" not in stderr
    assert "refused the run" in stderr and "energy_cpu!_j" in stderr
    assert "not spooled for upload: MLflow would refuse it again" in stderr
    spool_dir = tmp_path / ".green-gate" / "spool"
    (kept,) = (spool_dir / spool.REFUSED).glob("*.json")
    assert "energy_cpu!_j" in kept.read_text(encoding="utf-8")
    assert list(spool_dir.glob("*.json")) == []  # nothing for `upload` to try again on every job
    report = (tmp_path / ".green-gate" / "report.md").read_text(encoding="utf-8")
    assert "Not logged to MLflow: it refused the run" in report
    assert code == 0 and "verdict: warn" in stderr  # the budget's outage policy (warn), as for an outage

    from mlflow.entities import ViewType
    from mlflow.tracking import MlflowClient

    client = MlflowClient(env["MLFLOW_TRACKING_URI"])
    experiments = client.search_experiments()
    runs = client.search_runs([e.experiment_id for e in experiments], run_view_type=ViewType.ALL)
    assert [r.info.status for r in runs if r.info.lifecycle_stage == "active"] == []  # no half-logged run

    out: list[str] = []
    assert upload.run(spool_dir, env=env, cwd=tmp_path, out=out.append, err=out.append) == 0
    assert out == [f"nothing to upload: {spool_dir} holds no spooled results"]
