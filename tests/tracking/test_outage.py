"""Kill the MLflow server in the middle of a check: nothing is lost, and `upload` logs it exactly once."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from gate.tracking import schema
from tests.support.cli import run_cli
from tests.support.mlflow import (
    create_postgres_database,
    drop_postgres_database,
    free_port,
    search_runs,
    sqlalchemy_url,
    start_mlflow_server,
    stop_mlflow_server,
)

pytestmark = pytest.mark.slow

# A benchmark that kills the MLflow server's whole process group while the gate is measuring it.
KILLER = """\
import json, os, signal
pgid = int(os.environ.get("KILL_PGID", "0"))
if pgid:
    os.killpg(pgid, signal.SIGKILL)
total = sum(i * i for i in range(200000))
json.dump({"predictions": 1000}, open(os.environ["GREEN_GATE_METRICS"], "w"))
"""


@pytest.fixture(params=["sqlite", "postgresql"])
def backend_uri(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'outage.db'}"
        return
    database = create_postgres_database()
    yield sqlalchemy_url(database)
    drop_postgres_database(database)


def test_server_killed_mid_check_loses_nothing_and_upload_logs_it_once(
    tmp_path: Path, backend_uri: str, cli_env: dict[str, str]
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "bench.py").write_text(KILLER)
    experiment = f"outage-{uuid.uuid4().hex[:8]}"
    (project / "green-budget.yml").write_text(
        "version: 1\n"
        "benchmarks:\n"
        "  - {name: killer, command: python bench.py, repeats: 2, warmup: 0, timeout_s: 60}\n"
        "limits:\n"
        "  energy_per_prediction_j: {warn: +2%, fail: +50%}\n"
        f"mlflow:\n  experiment: {experiment}/{{benchmark}}\n"
    )
    port = free_port()
    server = start_mlflow_server(tmp_path / "server", backend_uri=backend_uri, port=port)
    env = {
        **cli_env,
        "MLFLOW_TRACKING_URI": server.url,
        "GREEN_GATE_MLFLOW_ATTEMPTS": "2",
        "GREEN_GATE_MLFLOW_BACKOFF_S": "0.05",
    }
    try:
        # 1. A normal check records the first run (the server is up).
        first = run_cli("check", "--branch", "main", "--commit", "1" * 40, cwd=project, env=env)
        assert first.returncode == 0, first.stderr  # no baseline yet: missing_baseline: pass (the default)
        # 2. This check's benchmark kills the server while it is being measured.
        killed = run_cli(
            "check",
            "--branch",
            "main",
            "--commit",
            "2" * 40,
            "--json",
            "killed.json",
            cwd=project,
            env={**env, "KILL_PGID": str(server.process.pid)},
        )
        server.process.wait(timeout=30)
        assert killed.returncode == 0, killed.stderr  # policy mlflow_unavailable: warn (the default)
        doc = json.loads((project / "killed.json").read_text())
        (bench,) = doc["benchmarks"]
        assert doc["verdict"] == "warn" and bench["mlflow_run_id"] is None
        assert any("`green-gate upload` logs it later" in note for note in bench["notes"])
        (spooled,) = (project / ".green-gate" / "spool").glob("*.json")
        result_id = json.loads(spooled.read_text())["result_id"]

        # 3. Uploading while the server is still down keeps the spool intact.
        down = run_cli("upload", cwd=project, env=env)
        assert down.returncode == 4 and "still spooled" in down.stderr
        assert spooled.is_file()
    finally:
        stop_mlflow_server(server)

    # 4. The server comes back (same database, same port): upload logs the run, once.
    server = start_mlflow_server(tmp_path / "server-again", backend_uri=backend_uri, port=port)
    try:
        up = run_cli("upload", cwd=project, env=env)
        assert up.returncode == 0, up.stderr
        assert "1 uploaded, 0 already in MLflow" in up.stdout
        assert not spooled.exists() and (spooled.parent / "uploaded" / spooled.name).is_file()
        again = run_cli("upload", cwd=project, env=env)
        assert again.returncode == 0 and "nothing to upload" in again.stdout

        runs = search_runs(server, f"{experiment}/killer")
        assert len(runs) == 2  # the first check's run and the spooled one: nothing lost, nothing twice
        (uploaded,) = [r for r in runs if {"key": schema.TAG_RESULT_ID, "value": result_id} in r["data"]["tags"]]
        tags = {t["key"]: t["value"] for t in uploaded["data"]["tags"]}
        metrics = {m["key"]: m["value"] for m in uploaded["data"]["metrics"]}
        assert tags[schema.TAG_GIT_COMMIT] == "2" * 40
        assert tags[schema.TAG_ELIGIBLE] == "false"  # compared without MLflow: never a baseline
        assert metrics["energy_j"] == pytest.approx(bench["metrics"]["energy_j"])
    finally:
        stop_mlflow_server(server)
