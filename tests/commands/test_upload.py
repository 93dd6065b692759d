"""`green-gate upload`: each spooled run goes to the store it was meant for, and only there unless
told; the success line names the store; two uploads at once take turns on the spool."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from gate.commands import upload
from gate.tracking import spool
from tests.support.cli import cli_environment, start_cli
from tests.support.mlflow import experiment_name, free_port, record, seed_sqlite_store

# A real embedded MLflow store (sqlite), created and migrated in the test: seconds, so the slow tier.
pytestmark = pytest.mark.slow

FAST = {"GREEN_GATE_MLFLOW_BACKOFF_S": "0"}


def sqlite_uri(path: Path) -> str:
    return f"sqlite:///{path}"


def result_ids_logged(database: Path) -> list[str]:
    """Every run's result-id tag, straight from the store's tables: a record logged twice shows twice."""
    with sqlite3.connect(database) as db:
        rows = db.execute(
            "SELECT tags.value FROM tags JOIN runs ON runs.run_uuid = tags.run_uuid "
            "WHERE tags.key = 'green_gate.result_id' AND runs.lifecycle_stage = 'active'"
        ).fetchall()
    return sorted(value for (value,) in rows)


def test_spool_entries_record_their_destination_without_credentials(tmp_path: Path) -> None:
    rec = record(experiment_name())
    path = spool.put(tmp_path, rec, reason="down", destination="https://***@mlflow.example/")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["destination"] == "https://***@mlflow.example/"
    (item,) = spool.pending(tmp_path)
    assert item.destination == "https://***@mlflow.example/" and item.record == rec


def test_upload_refuses_a_record_meant_for_another_store_and_logs_it_there_when_asked(tmp_path: Path) -> None:
    meant, elsewhere = tmp_path / "meant.db", tmp_path / "throwaway.db"
    directory = tmp_path / "spool"
    rec = record(experiment_name())
    path = spool.put(directory, rec, reason="down", destination=sqlite_uri(meant))
    out: list[str] = []
    err: list[str] = []
    env = {**FAST, "MLFLOW_TRACKING_URI": sqlite_uri(elsewhere)}

    assert upload.run(directory, env=env, cwd=tmp_path, out=out.append, err=err.append) == 2
    assert path.is_file() and not elsewhere.exists()  # nothing went to the wrong store
    assert any(
        f"was spooled for {sqlite_uri(meant)}, but MLFLOW_TRACKING_URI points at {sqlite_uri(elsewhere)}" in line
        for line in err
    )
    assert any("--to-current" in line for line in err)

    out.clear()
    assert upload.run(directory, env=env, cwd=tmp_path, out=out.append, err=err.append, to_current=True) == 0
    assert out[0].startswith(f"uploaded {path.name} to {sqlite_uri(elsewhere)} as MLflow run ")
    assert result_ids_logged(elsewhere) == [rec.result_id]


def test_upload_without_a_tracking_uri_logs_to_the_store_the_check_meant(tmp_path: Path) -> None:
    meant = seed_sqlite_store(tmp_path / "server.db", cwd=tmp_path)
    directory = tmp_path / "spool"
    rec = record(experiment_name())
    spool.put(directory, rec, reason="down", destination=sqlite_uri(meant))
    out: list[str] = []
    err: list[str] = []

    assert upload.run(directory, env=FAST, cwd=tmp_path, out=out.append, err=err.append) == 0, err
    assert result_ids_logged(meant) == [rec.result_id]
    assert not (tmp_path / ".green-gate" / "mlflow.db").exists()  # not the embedded store of this folder
    assert f"to {sqlite_uri(meant)} as MLflow run" in out[0]
    assert out[-1] == f"1 uploaded, 0 already in MLflow, 0 unreadable; MLflow: {sqlite_uri(meant)}"
    uploaded = json.loads((directory / "uploaded" / f"{rec.result_id}.json").read_text(encoding="utf-8"))
    assert uploaded["uploaded_to"] == sqlite_uri(meant)


def test_two_uploads_at_once_log_each_record_once_and_keep_every_run(tmp_path: Path) -> None:
    database = seed_sqlite_store(tmp_path / "store.db", cwd=tmp_path)
    directory = tmp_path / "spool"
    exp = experiment_name()
    records = [record(exp, start_time_ms=1_700_000_000_000 + i) for i in range(6)]
    for rec in records:
        spool.put(directory, rec, reason="down", destination=sqlite_uri(database))
    env = {**cli_environment(), **FAST, "MLFLOW_TRACKING_URI": sqlite_uri(database)}

    both = [start_cli("upload", "--spool", str(directory), cwd=tmp_path, env=env) for _ in range(2)]
    finished = [proc.communicate(timeout=300) for proc in both]

    for proc, (_, stderr) in zip(both, finished, strict=True):
        assert proc.returncode == 0, stderr
        assert "Traceback" not in stderr and "FileNotFoundError" not in stderr
    outputs = "".join(stdout for stdout, _ in finished)
    logged = [line for line in outputs.splitlines() if line.startswith("uploaded ")]
    assert len(logged) == len(records)  # each once, by one upload or the other
    assert result_ids_logged(database) == sorted(r.result_id for r in records)  # none twice, none deleted
    assert list(directory.glob("*.json")) == []
    assert len(list((directory / "uploaded").glob("*.json"))) == len(records)


def test_a_check_spooled_while_mlflow_was_down_keeps_its_verdict_once_uploaded(tmp_path: Path) -> None:
    from tests.support.cli import busy_project, run_cli

    project = busy_project(tmp_path / "p", "policy:\n  mlflow_unavailable: warn\n", iterations=20_000)
    down = f"http://127.0.0.1:{free_port()}"
    env = {**cli_environment(), **FAST, "MLFLOW_TRACKING_URI": down}
    checked = run_cli("check", "--json", "r.json", cwd=project, env=env)
    assert checked.returncode == 0, checked.stderr
    assert json.loads((project / "r.json").read_text())["verdict"] == "warn"
    (spooled,) = (project / ".green-gate" / "spool").glob("*.json")
    data = json.loads(spooled.read_text(encoding="utf-8"))
    assert data["destination"] == down
    assert data["tags"]["green_gate.verdict"] == "warn" and " warn" in data["run_name"]

    database = seed_sqlite_store(tmp_path / "store.db", cwd=project)
    elsewhere = {**cli_environment(), **FAST, "MLFLOW_TRACKING_URI": sqlite_uri(database)}
    refused = run_cli("upload", cwd=project, env=elsewhere)
    assert refused.returncode == 2 and f"was spooled for {down}" in refused.stderr
    moved = run_cli("upload", "--to-current", cwd=project, env=elsewhere)
    assert moved.returncode == 0, moved.stderr
    assert f"to {sqlite_uri(database)} as MLflow run" in moved.stdout
    with sqlite3.connect(database) as db:
        (verdict,) = db.execute("SELECT value FROM tags WHERE key = 'green_gate.verdict'").fetchone()
    assert verdict == "warn"


def test_a_spool_that_cannot_be_locked_is_a_clear_error_not_a_traceback(tmp_path: Path) -> None:
    directory = tmp_path / "spool"
    spool.put(directory, record(experiment_name()), reason="down", destination=sqlite_uri(tmp_path / "s.db"))
    (directory / spool.LOCK_FILE).mkdir()  # where the lock file goes, something that cannot be one
    err: list[str] = []
    assert upload.run(directory, env=FAST, cwd=tmp_path, out=lambda _: None, err=err.append) == 4
    assert err and err[0].startswith(f"error: cannot lock the spool {directory}: Is a directory")


def test_a_second_upload_waits_for_the_first_and_gives_up_with_a_clear_error(tmp_path: Path) -> None:
    waited: list[str] = []
    with (
        spool.locked(tmp_path),
        pytest.raises(spool.SpoolBusy) as busy,
        spool.locked(tmp_path, wait_s=0.5, on_wait=waited.append),
    ):
        pass
    assert "another `green-gate upload` has held" in busy.value.message
    assert waited == [f"another `green-gate upload` is using {tmp_path}: waiting for it"]
    with spool.locked(tmp_path, wait_s=0.5):  # released with the first holder
        pass
