"""A spooled run MLflow refuses (its content, not an outage) is quarantined once, leaves no RUNNING run
behind, and does not fail every later upload; the other spooled runs are still logged."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from gate.commands import upload
from gate.tracking import spool
from tests.support.mlflow import experiment_name, record, seed_sqlite_store

# A real embedded MLflow store (sqlite), created and migrated in the test: seconds, so the slow tier.
pytestmark = pytest.mark.slow


def test_a_refused_record_is_quarantined_once_and_leaves_no_running_run(tmp_path: Path) -> None:
    from mlflow.entities import ViewType
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{seed_sqlite_store(tmp_path / 'mlflow.db', cwd=tmp_path)}"
    directory = tmp_path / "spool"
    exp = experiment_name()
    good = record(exp, start_time_ms=1_700_000_000_000)
    bad = record(exp, start_time_ms=1_700_000_001_000)
    bad = replace(bad, metrics={**bad.metrics, "bad!name": 1.0})  # a name MLflow rejects
    spool.put(directory, good, reason="test")
    bad_path = spool.put(directory, bad, reason="test")
    out: list[str] = []
    err: list[str] = []
    env = {"MLFLOW_TRACKING_URI": uri, "GREEN_GATE_MLFLOW_BACKOFF_S": "0"}

    code = upload.run(directory, env=env, cwd=tmp_path, out=out.append, err=err.append)

    assert code == 4  # the refusal is reported, once
    assert any(line.startswith("uploaded ") for line in out)  # the good record still went in
    assert "1 uploaded, 0 already in MLflow, 0 unreadable, 1 refused" in out[-1]
    assert any("refused the run" in line and "bad!name" in line for line in err)
    moved = directory / spool.REFUSED / bad_path.name
    assert not bad_path.exists() and moved.is_file()
    assert "bad!name" in json.loads(moved.read_text(encoding="utf-8"))["refused_because"]

    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name(exp)
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id], run_view_type=ViewType.ACTIVE_ONLY)
    assert [r.info.status for r in runs] == ["FINISHED"]  # no RUNNING run left by the refused one

    out.clear()
    err.clear()
    assert upload.run(directory, env=env, cwd=tmp_path, out=out.append, err=err.append) == 0
    assert out == [f"nothing to upload: {directory} holds no spooled results"]
