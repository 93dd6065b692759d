"""Among the eligible baselines, the newest whose runner conditions match this run's (a real `mlflow server`)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from gate.pipeline.baseline import matching_baseline
from gate.tracking import schema
from gate.tracking.mlflow_store import MlflowStore
from tests.support.mlflow import HW, MlflowServer, experiment_name, record

pytestmark = pytest.mark.slow


def logged(store: MlflowStore, exp: str, start_ms: int, speed: float, pressure: float) -> str:
    rec = record(exp, start_time_ms=start_ms)
    extra = {
        f"{schema.CONDITIONS_PREFIX}speed_index": speed,
        f"{schema.CONDITIONS_PREFIX}cpu_pressure_some_pct": pressure,
    }
    run_id, _, _ = store.log_record(replace(rec, metrics={**rec.metrics, **extra}))
    return run_id


def test_a_busy_latest_baseline_gives_way_to_the_newest_quiet_one_for_a_quiet_run(mlflow_server: MlflowServer) -> None:
    store = MlflowStore(mlflow_server.url)
    exp = experiment_name()
    t0 = 1_700_000_000_000
    logged(store, exp, t0, 1300.0, 5.0)
    quiet = logged(store, exp, t0 + 1, 1290.0, 8.0)
    busy = logged(store, exp, t0 + 2, 880.0, 95.0)
    choice, latest = store.choose_baseline(exp, branch="main", hardware_id=HW)
    assert latest is not None and latest.run_id == busy and choice.source == "latest"
    assert latest.conditions == {"speed_index": 880.0, "cpu_pressure_some_pct": 95.0}
    assert "conditions.speed_index" not in latest.metrics
    history = store.trend(exp, branch="main", hardware_id=HW)

    chosen = matching_baseline(store, latest, history, {"speed_index": 1310.0, "cpu_pressure_some_pct": 4.0})
    assert chosen.run_id == quiet
    assert chosen.reason == (
        f"the newest eligible run whose runner conditions match this run's; the latest ({busy[:8]}) ran under others"
    )
    # a busy run keeps the busy latest; a run whose conditions match none keeps the latest too
    assert matching_baseline(store, latest, history, {"speed_index": 900.0, "cpu_pressure_some_pct": 90.0}) is latest
    assert matching_baseline(store, latest, history, {"speed_index": 2000.0, "cpu_pressure_some_pct": 50.0}) is latest
