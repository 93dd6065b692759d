"""A real `mlflow server` on 127.0.0.1 (sqlite or PostgreSQL behind it), read back through MLflow's REST
API independently of the gate's client, and run records to log into it."""

from __future__ import annotations

import atexit
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from gate import paths
from gate.tracking import schema
from gate.tracking.schema import RunFacts, RunIdentity, RunRecord
from tests.helpers import summary

SERVER_START_TIMEOUT_S = 90
HW = "hw-aaaaaaaaaa"  # the hardware fingerprint of the records below


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class MlflowServer:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path


def _mlflow_executable() -> str:
    candidate = Path(sys.executable).with_name("mlflow")
    if candidate.exists():
        return str(candidate)
    found = shutil.which("mlflow")
    if not found:
        pytest.fail("the `mlflow` command is missing: install the test extra (pip install -e '.[test]')")
    return found


def start_mlflow_server(
    workdir: Path,
    backend_uri: str | None = None,
    port: int | None = None,
    *,
    extra_args: Sequence[str] = (),
    extra_env: Mapping[str, str] | None = None,
) -> MlflowServer:
    """`mlflow server` on 127.0.0.1 (a free port unless given), sqlite in `workdir` unless `backend_uri`."""
    port = port or free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    backend_uri = backend_uri or f"sqlite:///{workdir / 'mlflow.db'}"
    sqlite_path = Path(backend_uri.removeprefix("sqlite:///")) if backend_uri.startswith("sqlite:///") else None
    fresh_db = sqlite_path if sqlite_path is not None and not sqlite_path.exists() else None
    if fresh_db is not None and _MIGRATED_DB:
        _copy_sqlite(_MIGRATED_DB[0], fresh_db)
    log_path = workdir / "server.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        [
            _mlflow_executable(),
            "server",
            "--backend-store-uri",
            backend_uri,
            "--default-artifact-root",
            str(workdir / "artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            *extra_args,
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        # No GenAI job runner: its huey consumers keep both cores busy for ~10 s after /health answers,
        # and the CPU energy estimate of the benchmarks under test counts the whole machine's load.
        env={**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", **(extra_env or {})},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"mlflow server exited early:\n{log_path.read_text(errors='replace')[-3000:]}")
        try:
            if requests.get(f"{url}/health", timeout=1).status_code == 200:
                if fresh_db is not None and not _MIGRATED_DB:
                    _keep_migrated_db(fresh_db)
                return MlflowServer(url, process, log_path)
        except requests.RequestException:
            pass
        time.sleep(0.05)
    stop_mlflow_server(MlflowServer(url, process, log_path))
    pytest.fail(f"mlflow server did not answer /health within {SERVER_START_TIMEOUT_S} s")


# A copy of the first fresh sqlite store a server migrated (empty but for MLflow's Default experiment, as
# every fresh server's is): later servers on a fresh sqlite store start from it and skip the 2-4 s of
# migrations. PostgreSQL and existing sqlite databases (a restart) are left as they are.
_MIGRATED_DB: list[Path] = []


def _copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of an sqlite database, even while a server has it open (sqlite's backup API)."""
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def _keep_migrated_db(database: Path) -> None:
    template = database.with_name("fresh-store-template.db")  # in the test's temp dir: pytest removes it
    _copy_sqlite(database, template)
    _MIGRATED_DB.append(template)


# One store the gate's own client created and migrated in this process; see seed_sqlite_store.
_EMBEDDED_TEMPLATE: list[Path] = []


def seed_sqlite_store(database: Path, *, cwd: Path) -> Path:
    """An sqlite MLflow store at `database`, unless there is one, as the gate leaves it where it
    creates one working in `cwd`: empty, migrated to this MLflow's head.

    For tests about what comes after a store exists: each fresh store costs 1-2 s of MLflow's
    migrations. A copy of one store the gate's client created in this process, its one path (the
    Default experiment's artifact folder, under the creating process's working directory) made
    `cwd`'s; the tests about creating a store start without one.
    """
    if database.exists():
        return database
    database.parent.mkdir(parents=True, exist_ok=True)
    _copy_sqlite(_embedded_template(), database)
    with closing(sqlite3.connect(database)) as conn, conn:
        conn.execute(
            "UPDATE experiments SET artifact_location = ? WHERE experiment_id = 0",
            (str(cwd.resolve() / "mlruns" / "0"),),
        )
    return database


def seed_embedded_store(project: Path) -> Path:
    """The project's embedded store (`.green-gate/mlflow.db`) as a first check there leaves it (and
    a workflow's cache restores it); see seed_sqlite_store."""
    return seed_sqlite_store(paths.mlflow_db(project), cwd=project)


def _embedded_template() -> Path:
    if not _EMBEDDED_TEMPLATE:
        from gate.tracking.mlflow_store import MlflowStore

        folder = Path(tempfile.mkdtemp(prefix="gg-embedded-store-"))
        atexit.register(shutil.rmtree, folder, True)
        database = folder / "mlflow.db"
        MlflowStore(f"sqlite:///{database}")  # creating the client creates and migrates the store
        _EMBEDDED_TEMPLATE.append(database)
    return _EMBEDDED_TEMPLATE[0]


# The admin of the basic-auth server the tests share (tests/conftest.py's auth_server), per test process.
AUTH_ADMIN = f"gg-admin-{uuid.uuid4().hex[:10]}"
AUTH_ADMIN_PASSWORD = f"gg-admin-pw-{uuid.uuid4().hex}"


def start_basic_auth_server(
    workdir: Path, *, admin_username: str = "admin", admin_password: str, default_permission: str = "READ"
) -> MlflowServer:
    """`mlflow server --app-name basic-auth`: every request needs a user; `default_permission` for all."""
    pytest.importorskip("flask_wtf", reason="the basic-auth app needs mlflow[auth] (the test extra installs it)")
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "basic_auth.ini"
    config.write_text(
        "[mlflow]\n"
        f"default_permission = {default_permission}\n"
        f"database_uri = sqlite:///{workdir / 'users.db'}\n"
        f"admin_username = {admin_username}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n",
        encoding="utf-8",
    )
    return start_mlflow_server(
        workdir,
        extra_args=("--app-name", "basic-auth"),
        extra_env={
            "MLFLOW_AUTH_CONFIG_PATH": str(config),
            "MLFLOW_AUTH_ADMIN_PASSWORD": admin_password,
            "MLFLOW_FLASK_SERVER_SECRET_KEY": uuid.uuid4().hex,
        },
    )


def stop_mlflow_server(server: MlflowServer) -> None:
    if server.process.poll() is None:
        os.killpg(server.process.pid, 15)
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.process.pid, 9)
            server.process.wait()


# --- PostgreSQL-backed server (the deployment teams run). `.ci/postgres.sh` starts the database. ---

POSTGRES_URL_ENV = "GREEN_GATE_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql://green_gate:green_gate@127.0.0.1:5432/postgres"


def postgres_admin_url() -> str:
    return os.environ.get(POSTGRES_URL_ENV) or DEFAULT_POSTGRES_URL


def create_postgres_database() -> str:
    """A fresh, empty database on the test PostgreSQL; skips (with the reason) when there is none."""
    try:
        import psycopg2
    except ImportError:
        pytest.skip("psycopg2 is not installed (pip install -e '.[test]'): no PostgreSQL-backed MLflow server")
    admin = postgres_admin_url()
    name = f"gg_test_{uuid.uuid4().hex[:12]}"
    try:
        conn = psycopg2.connect(admin, connect_timeout=3)
    except psycopg2.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        pytest.skip(
            f"no PostgreSQL at {_hide_password(admin)} ({first}); `bash .ci/postgres.sh` starts one "
            f"(or set {POSTGRES_URL_ENV})"
        )
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    return admin.rsplit("/", 1)[0] + "/" + name


def sqlalchemy_url(url: str) -> str:
    """The database URL naming the psycopg2 driver (SQLAlchemy 2.1 would pick psycopg 3 otherwise)."""
    return url.replace("postgresql://", "postgresql+psycopg2://", 1)


def drop_postgres_database(url: str) -> None:
    import psycopg2

    name = url.rsplit("/", 1)[1]
    conn = psycopg2.connect(postgres_admin_url(), connect_timeout=3)
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()


def _hide_password(url: str) -> str:
    return re.sub(r"://([^:/@]+):[^@/]*@", r"://\1:***@", url)


# --- reading back what the gate logged ------------------------------------------------------------


def search_runs(
    server: MlflowServer, experiment: str, filter_string: str = "", *, auth: tuple[str, str] | None = None
) -> list[dict[str, Any]]:
    """The experiment's runs, oldest first, through MLflow's REST API (not the gate's client); `auth`:
    a basic-auth server's user and password."""
    response = requests.get(
        f"{server.url}/api/2.0/mlflow/experiments/get-by-name",
        params={"experiment_name": experiment},
        auth=auth,
        timeout=10,
    )
    response.raise_for_status()
    experiment_id = response.json()["experiment"]["experiment_id"]
    response = requests.post(
        f"{server.url}/api/2.0/mlflow/runs/search",
        json={
            "experiment_ids": [experiment_id],
            "filter": filter_string,
            "order_by": ["attributes.start_time ASC"],
            "max_results": 1000,
        },
        auth=auth,
        timeout=10,
    )
    response.raise_for_status()
    runs: list[dict[str, Any]] = response.json().get("runs", [])
    return runs


def metric_history(server: MlflowServer, run_id: str, key: str) -> list[tuple[int, float]]:
    """(step, value) of one metric of one run, by step."""
    response = requests.get(
        f"{server.url}/api/2.0/mlflow/metrics/get-history", params={"run_id": run_id, "metric_key": key}, timeout=10
    )
    response.raise_for_status()
    return sorted((int(m["step"]), float(m["value"])) for m in response.json().get("metrics", []))


def tags_of(run: dict[str, Any]) -> dict[str, str]:
    return {t["key"]: t["value"] for t in run["data"].get("tags", [])}


def metrics_of(run: dict[str, Any]) -> dict[str, float]:
    return {m["key"]: m["value"] for m in run["data"].get("metrics", [])}


# --- run records to log -----------------------------------------------------------------------------


def experiment_name() -> str:
    """A fresh experiment, so tests sharing a server stay apart."""
    return f"test-{uuid.uuid4().hex[:10]}/bench"


def record(
    experiment: str,
    *,
    branch: str = "main",
    commit: str = "a" * 40,
    pr: int | None = None,
    verdict: str = "pass",
    eligible: bool = True,
    hardware_id: str = HW,
    energies_j: tuple[float, ...] = (10.0, 11.0, 12.0),
    start_time_ms: int = 1_700_000_000_000,
) -> RunRecord:
    return schema.build_run_record(
        result_id=uuid.uuid4().hex,
        experiment=experiment,
        identity=RunIdentity("bench", "acme/models", commit, branch, pr_number=pr),
        facts=RunFacts(
            verdict=verdict,
            baseline_eligible=eligible,
            hardware={"cpu_model": "test", "fingerprint": hardware_id},
            command="python bench.py",
            kind="inference",
            repeats=len(energies_j),
            warmup=0,
            timeout_s=60,
            budget_file="green-budget.yml",
            budget_sha256="0" * 64,
            gate_version="test",
        ),
        summary=summary(list(energies_j)),
        start_time_ms=start_time_ms,
        end_time_ms=start_time_ms + 1000,
    )
