"""Scale benchmark: baseline lookup and history latency with 10,000 runs in one experiment.

Starts `mlflow server` on 127.0.0.1 (sqlite-backed, and PostgreSQL-backed when a database URL is
given), seeds one experiment, and times the gate's own calls over HTTP:
- baseline lookup: `MlflowStore.choose_baseline` (pin check + search + per-repeat histories);
- history: `MlflowStore.history(max_runs=1000)`.

Seeding: a sample of runs goes through the gate's real HTTP path (`log_record`, idempotent) to give
the HTTP seeding rate; the rest is bulk-inserted into the server's database with SQLAlchemy, as the
same rows `log_record` writes (built by `gate.tracking.schema.build_run_record`), because 10,000 runs
over HTTP take minutes on a small machine. The figures go in docs/mlflow-schema.md.

    python benchmarks/mlflow_scale.py --runs 10000 \
        --postgres postgresql://green_gate:green_gate@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gate.carbon.model import Intensity
from gate.energy.model import ScopeSummary
from gate.tracking import schema
from gate.tracking.mlflow_store import MlflowStore
from tests.helpers import summary

HARDWARE = ("hw-a100x1aaaa", "hw-h100x1bbbb")
HARDWARE_FACTS = {
    "cpu_model": "AMD EPYC 9454 48-Core Processor",
    "cpu_count": 16,
    "gpu_models": ["NVIDIA H100 80GB HBM3"],
    "gpu_count": 1,
    "driver": "580.65.06",
    "power_limits_w": [700.0],
    "mig": [False],
}
INTENSITY = Intensity(369.5, "codecarbon offline data (2023)", zone="USA", pue=1.1, provider="codecarbon",
                      basis="annual_average", timestamp="2023")  # fmt: skip
T0_MS = 1_750_000_000_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(backend_uri: str, workdir: Path, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    import requests

    port = free_port()
    mlflow = shutil.which("mlflow") or str(Path(sys.executable).with_name("mlflow"))
    log = (workdir / "server.log").open("wb")
    proc = subprocess.Popen(
        [mlflow, "server", "--backend-store-uri", backend_uri, "--default-artifact-root", str(workdir / "art")]
        + ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"},  # no background job consumers
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if requests.get(f"{url}/health", timeout=1).status_code == 200:
                return proc, url
        except requests.RequestException:
            pass
        if proc.poll() is not None:
            raise SystemExit((workdir / "server.log").read_text()[-2000:])
        time.sleep(0.3)
    raise SystemExit("server did not start")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=30)


def make_record(experiment: str, i: int, rng: random.Random) -> schema.RunRecord:
    """A run as a CI check logs it: 60% PR runs (base branch, PR number, compared with a baseline), main
    and release branches, two hardware kinds with a GPU, GPU/CPU/RAM scopes, a carbon source, a quality
    metric, 5 repeats, some failed budgets."""
    pr = rng.random() < 0.6
    branch = f"feature/{i % 300}" if pr else ("main" if rng.random() < 0.8 else "release/1.4")
    verdict = "fail" if rng.random() < 0.1 else "pass"
    energies = [rng.uniform(90, 110) for _ in range(5)]
    run_summary = summary(energies, quality={"accuracy": rng.uniform(0.95, 0.97)}, intensity=INTENSITY)
    gpu_j = statistics.median(energies) * 0.8
    run_summary = replace(
        run_summary, scopes=(ScopeSummary("gpu", gpu_j, "measured", "nvml counter"), *run_summary.scopes)
    )
    hardware = {**HARDWARE_FACTS, "fingerprint": HARDWARE[i % 2], "gpu_uuids": [f"GPU-{uuid.uuid4()}"]}
    return schema.build_run_record(
        result_id=uuid.uuid4().hex,
        experiment=experiment,
        identity=schema.RunIdentity(
            "bench",
            "acme/models",
            f"{i:040x}",
            branch,
            base_branch="main" if pr else None,
            pr_number=i if pr else None,
            event_name="pull_request" if pr else "push",
            ci_run_url=f"https://github.com/acme/models/actions/runs/{19_000_000_000 + i}",
        ),
        facts=schema.RunFacts(
            verdict=verdict,
            baseline_eligible=not pr and verdict == "pass",
            hardware=hardware,
            command="python bench.py --batch-size 64",
            kind="inference",
            repeats=5,
            warmup=1,
            timeout_s=600,
            budget_file="green-budget.yml",
            budget_sha256="0" * 64,
            gate_version="bench",
            baseline_run_id=uuid.uuid4().hex,
            extra_tags={schema.TAG_COMPARISON: "history"},
        ),
        summary=run_summary,
        start_time_ms=T0_MS + i * 60_000,
        end_time_ms=T0_MS + i * 60_000 + 30_000,
    )


def rows_per_run(record: schema.RunRecord) -> int:
    """Tags (with mlflow.runName), params and latest metrics: the rows a search loads for each run."""
    return len(record.tags) + 1 + len(record.params) + len(record.metrics) + len(record.series)


def bulk_insert(db_uri: str, experiment_id: str, records: list[schema.RunRecord]) -> None:
    """The rows `MlflowStore.log_record` would write, inserted in bulk."""
    import sqlalchemy as sa
    from mlflow.store.tracking.dbmodels.models import SqlLatestMetric, SqlMetric, SqlParam, SqlRun, SqlTag

    engine = sa.create_engine(db_uri)
    for start in range(0, len(records), 1000):
        chunk = records[start : start + 1000]
        runs, tags, metrics, latest, params = [], [], [], [], []
        for rec in chunk:
            run_id = uuid.uuid4().hex
            runs.append(
                dict(
                    run_uuid=run_id,
                    name=rec.run_name,
                    source_type="JOB",
                    source_name="",
                    entry_point_name="",
                    user_id="bench",
                    status="FAILED" if rec.failed else "FINISHED",
                    start_time=rec.start_time_ms,
                    end_time=rec.end_time_ms,
                    source_version="",
                    lifecycle_stage="active",
                    artifact_uri=f"/tmp/art/{run_id}",
                    experiment_id=int(experiment_id),
                )
            )
            all_tags = {**rec.tags, schema.TAG_RESULT_ID: rec.result_id, "mlflow.runName": rec.run_name}
            tags.extend(dict(key=k, value=v, run_uuid=run_id) for k, v in all_tags.items())
            params.extend(dict(key=k, value=v, run_uuid=run_id) for k, v in rec.params.items())
            last: dict[str, dict[str, Any]] = {}
            for batch in schema.batches(rec):
                for key, value, ts, step in batch.metrics:
                    row = dict(key=key, value=value, timestamp=ts, step=step, is_nan=False, run_uuid=run_id)
                    metrics.append(row)
                    if key not in last or step >= last[key]["step"]:
                        last[key] = row
            latest.extend(last.values())
        with engine.begin() as conn:
            conn.execute(sa.insert(SqlRun.__table__), runs)
            conn.execute(sa.insert(SqlTag.__table__), tags)
            conn.execute(sa.insert(SqlParam.__table__), params)
            conn.execute(sa.insert(SqlMetric.__table__), metrics)
            conn.execute(sa.insert(SqlLatestMetric.__table__), latest)
    engine.dispose()


def timed(fn: Any, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def bench_backend(label: str, db_uri: str, runs: int, http_runs: int, workdir: Path, workers: int) -> dict[str, Any]:
    rng = random.Random(7)
    proc, url = start_server(db_uri, workdir, workers)
    try:
        os.environ["GREEN_GATE_MLFLOW_ATTEMPTS"] = "1"
        store = MlflowStore(url)
        experiment = f"scale-{uuid.uuid4().hex[:6]}/bench"
        experiment_id = store.experiment_id(experiment, create=True)
        assert experiment_id is not None
        records = [make_record(experiment, i, rng) for i in range(runs)]
        bulk = records[: runs - http_runs]
        t = time.perf_counter()
        bulk_insert(db_uri, experiment_id, bulk)
        bulk_s = time.perf_counter() - t
        t = time.perf_counter()
        for rec in records[runs - http_runs :]:
            store.log_record(rec)
        http_s = time.perf_counter() - t
        total = len(store.history(experiment, max_runs=50_000))
        assert total == runs, (total, runs)

        store.choose_baseline(experiment, branch="main", hardware_id=HARDWARE[0])  # warm caches once
        lookup = timed(lambda: store.choose_baseline(experiment, branch="main", hardware_id=HARDWARE[0]), 20)
        lookup_rare = timed(
            lambda: store.choose_baseline(experiment, branch="release/1.4", hardware_id=HARDWARE[1]), 20
        )
        history = timed(lambda: store.history(experiment, max_runs=1000), 5)
        history_branch = timed(lambda: store.history(experiment, branch="main", max_runs=1000), 5)
        return {
            "backend": label,
            "server_workers": workers,
            "runs": runs,
            "rows_per_run": rows_per_run(records[-1]),
            "seed_bulk_runs": len(bulk),
            "seed_bulk_s": round(bulk_s, 1),
            "seed_http_runs": http_runs,
            "seed_http_s": round(http_s, 1),
            "seed_http_runs_per_s": round(http_runs / http_s, 1) if http_s else None,
            "baseline_lookup_median_s": round(statistics.median(lookup), 3),
            "baseline_lookup_max_s": round(max(lookup), 3),
            "baseline_lookup_release_branch_median_s": round(statistics.median(lookup_rare), 3),
            "history_1000_median_s": round(statistics.median(history), 3),
            "history_1000_max_s": round(max(history), 3),
            "history_1000_main_median_s": round(statistics.median(history_branch), 3),
        }
    finally:
        stop_server(proc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--http-runs", type=int, default=200, help="runs seeded through the gate's HTTP path")
    parser.add_argument("--postgres", help="admin URL of a PostgreSQL server; a scratch database is created there")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--workers", type=int, default=1, help="`mlflow server --workers` (MLflow's default is 4)")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_sqlite:
            work = Path(tmp) / "sqlite"
            work.mkdir()
            results.append(
                bench_backend(
                    "sqlite", f"sqlite:///{work / 'mlflow.db'}", args.runs, args.http_runs, work, args.workers
                )
            )
            print(json.dumps(results[-1]), flush=True)
        if args.postgres:
            import psycopg2

            name = f"gg_scale_{uuid.uuid4().hex[:8]}"
            admin = psycopg2.connect(args.postgres)
            admin.autocommit = True
            admin.cursor().execute(f'CREATE DATABASE "{name}"')
            db_uri = args.postgres.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg2://", 1) + "/" + name
            work = Path(tmp) / "pg"
            work.mkdir()
            try:
                results.append(bench_backend("postgresql", db_uri, args.runs, args.http_runs, work, args.workers))
                print(json.dumps(results[-1]), flush=True)
            finally:
                admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                admin.close()


if __name__ == "__main__":
    main()
