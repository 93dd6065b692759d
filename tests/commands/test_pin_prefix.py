"""`green-gate baseline pin` takes a run id as the report and `history` show it (its first 8
characters) when that start is one run's; otherwise it says why not."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from gate.commands import baseline
from gate.tracking.mlflow_store import MlflowStore
from tests.support.mlflow import experiment_name, record, seed_sqlite_store

# A real embedded MLflow store (sqlite), created and migrated in the test: seconds, so the slow tier.
pytestmark = pytest.mark.slow


def _rename_runs(database: Path, prefix: str) -> None:
    """Give every run an id starting with `prefix` (MLflow draws them at random): two runs that share
    the start a user typed, as among thousands of runs they eventually do."""
    with sqlite3.connect(database) as db:
        tables = [t for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            columns = [c[1] for c in db.execute(f"PRAGMA table_info({table})")]
            if "run_uuid" in columns:
                db.execute(f"UPDATE {table} SET run_uuid = ? || substr(run_uuid, ?)", (prefix, len(prefix) + 1))


def test_pin_accepts_a_unique_prefix_and_refuses_an_ambiguous_or_unknown_one(tmp_path: Path) -> None:
    database = seed_sqlite_store(tmp_path / "mlflow.db", cwd=tmp_path)
    uri = f"sqlite:///{database}"
    exp = experiment_name()
    store = MlflowStore(uri)
    for i in range(2):
        store.log_record(record(exp, start_time_ms=1_700_000_000_000 + i))
    _rename_runs(database, "abcd")
    ids = sorted(store.run_ids_starting_with("abcd"))
    assert len(ids) == 2 and ids[0][:8] != ids[1][:8]
    env = {"MLFLOW_TRACKING_URI": uri, "GREEN_GATE_MLFLOW_BACKOFF_S": "0"}

    def pin(run_id: str) -> tuple[int, str, str]:
        out: list[str] = []
        err: list[str] = []
        code = baseline.pin(run_id, branch=None, note=None, env=env, cwd=tmp_path, out=out.append, err=err.append)
        return code, "\n".join(out), "\n".join(err)

    code, out, err = pin(ids[0][:8])  # as `history` and the report show it
    assert code == 0, err
    assert f"pinned run {ids[0]} as the baseline for `main`" in out

    code, _, err = pin("abcd")
    assert code == 2
    assert "'abcd' is the start of 2 run ids" in err and ids[0] in err and ids[1] in err
    assert "give more characters" in err

    code, _, err = pin("0123abcd")
    assert code == 2 and "no MLflow run id starts with '0123abcd'" in err

    code, _, err = pin("ab")
    assert code == 2 and "too short" in err
