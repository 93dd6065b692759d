#!/usr/bin/env python3
"""An organisation's MLflow store on PostgreSQL, and what one check costs against it.

    python benchmarks/store_scale.py --runs 100000 --experiments 100 \
        --postgres postgresql://green_gate:green_gate@127.0.0.1:5432/postgres

Makes a scratch database, creates MLflow's tables with `mlflow db upgrade`, and bulk-loads `--runs`
runs spread over `--experiments` experiments straight into them with PostgreSQL's COPY: the rows
`MlflowStore.log_record` writes for a CI check (tags, params, summary and per-repeat metrics, latest
metrics), 40% on main and 60% on pull-request branches, over three kinds of hardware (one of them
this machine's, so a real check here finds its baseline). Then it starts `mlflow server` on the
database and measures, over HTTP:

- baseline lookup: `MlflowStore.choose_baseline` (pin, search, per-repeat values), median of 20;
- history: `MlflowStore.history` of one benchmark (one experiment), its 100 newest runs as
  `green-gate history` reads them by default (median of 10), and its 1,000 newest (median of 5);
- requests per benchmark: a real `green-gate check` of a project with three benchmarks (a pull
  request's, compared with main and recorded), through a counting proxy in front of the server.

Prints one JSON line per step. `--keep DB` keeps (or reuses) a loaded database instead of a
scratch one; `--explain` prints PostgreSQL's plans for the searches a check makes.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import mlflow_scale  # noqa: E402

from gate.devices import hardware as hardware_facts  # noqa: E402
from gate.tracking import schema  # noqa: E402
from tests.support.proxy import counting_proxy  # noqa: E402

T0_MS = 1_700_000_000_000
OTHER_HARDWARE = ("hw-a100x1aaaa", "hw-h100x1bbbb")
BENCHMARKS_PER_REPO = 10
CHUNK_RUNS = 20_000


def experiment_name(index: int) -> str:
    """Experiment `index` (0-based): repository index // 10, benchmark index % 10, as the gate names them."""
    return f"green-gate/acme/repo-{index // BENCHMARKS_PER_REPO:03d}/bench-{index % BENCHMARKS_PER_REPO:02d}"


def _copy_text(value: Any) -> str:
    """A value in COPY's text format."""
    if value is None:
        return "\\N"
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


class Templates:
    """A few real run records (built by the gate's own schema code) that the bulk rows vary."""

    def __init__(self, count: int = 32) -> None:
        rng = random.Random(11)
        self.records = [mlflow_scale.make_record("template", i, rng) for i in range(count)]
        varied = {
            schema.TAG_BENCHMARK,
            schema.TAG_HARDWARE,
            schema.TAG_ELIGIBLE,
            schema.TAG_RESULT_ID,
            schema.TAG_GIT_COMMIT,
            schema.TAG_GIT_BRANCH,
            schema.TAG_VERDICT,
            "green_gate.pr",
        }
        self.fixed_tags = [
            "".join(f"{_copy_text(k)}\t{_copy_text(v)}\t{{run}}\n" for k, v in r.tags.items() if k not in varied)
            for r in self.records
        ]
        self.params = [
            "".join(f"{_copy_text(k)}\t{_copy_text(v)}\t{{run}}\n" for k, v in r.params.items()) for r in self.records
        ]
        self.metric_rows = []
        for r in self.records:
            rows = [(k, float(v), 0) for k, v in r.metrics.items()]
            rows += [(k, float(v), step) for k, values in r.series.items() for step, v in enumerate(values)]
            self.metric_rows.append(rows)


# The index the gate's searches need and MLflow does not make: every search is in one experiment,
# newest first, and without it PostgreSQL reads the whole runs table for each (docs/scale.md).
RUNS_INDEX = "CREATE INDEX IF NOT EXISTS runs_experiment_id_start_time ON runs (experiment_id, start_time DESC)"
LOADED = ("runs", "tags", "params", "metrics", "latest_metrics")


def _secondary(cur: Any) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    """The loaded tables' foreign keys (table, name, definition) and indexes other than primary keys."""
    cur.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'f' AND conrelid::regclass::text = ANY(%s)",
        (list(LOADED),),
    )
    foreign = [(str(t), str(n), str(d)) for t, n, d in cur.fetchall()]
    cur.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) AND indexname NOT IN "
        "(SELECT conname FROM pg_constraint WHERE contype IN ('p', 'u'))",
        (list(LOADED),),
    )
    return foreign, [(str(n), str(d)) for n, d in cur.fetchall()]


def generate(dsn: str, runs: int, experiments: int, here: str) -> dict[str, Any]:
    """COPY `runs` runs over `experiments` experiments into a freshly upgraded MLflow database: its
    foreign keys and secondary indexes dropped while loading and made again after (PostgreSQL builds
    an index faster in one pass than row by row)."""
    import psycopg2

    templates = Templates()
    conn = psycopg2.connect(dsn)
    started = time.perf_counter()
    with conn, conn.cursor() as cur:
        foreign, indexes = _secondary(cur)
        for table, name, _ in foreign:
            cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _ in indexes:
            cur.execute(f'DROP INDEX "{name}"')
    rows = Counter[str]()
    with conn, conn.cursor() as cur:
        buf = io.StringIO()
        for e in range(experiments):
            buf.write(
                f"{e + 1}\t{_copy_text(experiment_name(e))}\t/tmp/art/{e + 1}\tactive\t{T0_MS}\t{T0_MS}\tdefault\n"
            )
        buf.seek(0)
        cur.copy_expert(
            "COPY experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time, "
            "last_update_time, workspace) FROM STDIN",
            buf,
        )
        cur.execute("SELECT setval('experiments_experiment_id_seq', %s)", (experiments + 1,))
        buf = io.StringIO()
        for e in range(experiments):
            for key, value in schema.experiment_tags().items():
                buf.write(f"{_copy_text(key)}\t{_copy_text(value)}\t{e + 1}\n")
        buf.seek(0)
        cur.copy_expert("COPY experiment_tags (key, value, experiment_id) FROM STDIN", buf)
    hardware = (*OTHER_HARDWARE, here)
    for start in range(0, runs, CHUNK_RUNS):
        tables = {name: io.StringIO() for name in ("runs", "tags", "params", "metrics", "latest_metrics")}
        for i in range(start, min(runs, start + CHUNK_RUNS)):
            _one_run(i, experiments, templates, hardware, tables)
        with conn, conn.cursor() as cur:
            for name, columns in (
                ("runs", "run_uuid, name, source_type, source_name, entry_point_name, user_id, status, start_time, "
                 "end_time, source_version, lifecycle_stage, artifact_uri, experiment_id"),
                ("tags", "key, value, run_uuid"),
                ("params", "key, value, run_uuid"),
                ("metrics", "key, value, timestamp, step, is_nan, run_uuid"),
                ("latest_metrics", "key, value, timestamp, step, is_nan, run_uuid"),
            ):  # fmt: skip
                data = tables[name]
                rows[name] += data.getvalue().count("\n")
                data.seek(0)
                cur.copy_expert(f"COPY {name} ({columns}) FROM STDIN", data)
        print(json.dumps({"step": "generate", "runs_done": min(runs, start + CHUNK_RUNS),
                          "elapsed_s": round(time.perf_counter() - started, 1)}), flush=True)  # fmt: skip
    loaded_s = time.perf_counter() - started
    with conn, conn.cursor() as cur:
        for _, definition in indexes:
            cur.execute(definition)
        for table, name, definition in foreign:
            cur.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("ANALYZE")
    conn.close()
    return {
        "generate_s": round(time.perf_counter() - started, 1),
        "copy_s": round(loaded_s, 1),
        "rows": dict(rows),
        "indexes_remade": [n for n, _ in indexes],
        "foreign_keys_remade": [n for _, n, _ in foreign],
    }


def add_runs_index(dsn: str) -> float:
    import psycopg2

    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    started = time.perf_counter()
    with conn.cursor() as cur:
        cur.execute(RUNS_INDEX.replace("CREATE INDEX", "CREATE INDEX CONCURRENTLY"))
        cur.execute("ANALYZE runs")
    conn.close()
    return time.perf_counter() - started


def _one_run(
    i: int, experiments: int, templates: Templates, hardware: tuple[str, ...], out: dict[str, io.StringIO]
) -> None:
    t = i % len(templates.records)
    e = i % experiments
    run = f"{i:032x}"
    main = (i // experiments) % 5 < 2  # 40% of each experiment's runs on main
    verdict = "fail" if i % 10 == 7 else "pass"
    start_ms = T0_MS + i * 1000
    name = f"bench-{e % BENCHMARKS_PER_REPO:02d}"
    out["runs"].write(
        f"{run}\t{name}\tJOB\t\t\tci\tFINISHED\t{start_ms}\t{start_ms + 30_000}\t\tactive\t/tmp/art/{run}\t{e + 1}\n"
    )
    branch = "main" if main else f"feature/{i % 997}"
    tags = out["tags"]
    tags.write(templates.fixed_tags[t].replace("{run}", run))
    for key, value in (
        (schema.TAG_BENCHMARK, name),
        (schema.TAG_HARDWARE, hardware[(i // experiments) % len(hardware)]),
        (schema.TAG_ELIGIBLE, "true" if main and verdict == "pass" else "false"),
        (schema.TAG_RESULT_ID, uuid.UUID(int=i).hex),
        (schema.TAG_GIT_COMMIT, f"{i:040x}"),
        (schema.TAG_GIT_BRANCH, branch),
        (schema.TAG_VERDICT, verdict),
        ("mlflow.runName", name),
    ):
        tags.write(f"{key}\t{value}\t{run}\n")
    if not main:
        tags.write(f"green_gate.pr\t{i % 5000 + 1}\t{run}\n")
    out["params"].write(templates.params[t].replace("{run}", run))
    metrics, latest = out["metrics"], out["latest_metrics"]
    last: dict[str, tuple[float, int]] = {}
    for key, value, step in templates.metric_rows[t]:
        metrics.write(f"{key}\t{value!r}\t{start_ms}\t{step}\tf\t{run}\n")
        if key not in last or step >= last[key][1]:
            last[key] = (value, step)
    for key, (value, step) in last.items():
        latest.write(f"{key}\t{value!r}\t{start_ms}\t{step}\tf\t{run}\n")


# --- the server, and a proxy that counts what the gate asks it -----------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def mlflow_server(backend_uri: str, workdir: Path) -> Iterator[str]:
    proc, url = mlflow_scale.start_server(backend_uri, workdir, workers=2)
    try:
        yield url
    finally:
        mlflow_scale.stop_server(proc)


# --- the measurements ----------------------------------------------------------------------------


def timed(fn: Any, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def measure_store(url: str, here: str) -> dict[str, Any]:
    from gate.tracking.mlflow_store import MlflowStore

    os.environ["GREEN_GATE_MLFLOW_ATTEMPTS"] = "1"
    experiment = experiment_name(0)
    store = MlflowStore(url)
    _, found = store.choose_baseline(experiment, branch="main", hardware_id=here)
    assert found is not None and found.per_repeat, "the generated store has no baseline for this machine"
    lookup = timed(lambda: MlflowStore(url).choose_baseline(experiment, branch="main", hardware_id=here), 20)
    rows = store.history(experiment, max_runs=1000)
    history = timed(lambda: MlflowStore(url).history(experiment, max_runs=1000), 5)
    history_100 = timed(lambda: MlflowStore(url).history(experiment, max_runs=100), 10)  # `history`'s default
    return {
        "step": "store",
        "baseline_lookup_median_s": round(statistics.median(lookup), 3),
        "baseline_lookup_max_s": round(max(lookup), 3),
        "history_rows": len(rows),
        "history_1000_median_s": round(statistics.median(history), 3),
        "history_1000_max_s": round(max(history), 3),
        "history_100_median_s": round(statistics.median(history_100), 3),
        "history_100_max_s": round(max(history_100), 3),
    }


BUDGET = """\
version: 1
benchmarks:
{benchmarks}
limits:
  energy_per_prediction_j: {{warn: +2%, fail: +5%}}
mlflow:
  experiment: green-gate/acme/repo-000/{{benchmark}}
"""
BENCH = """\
import json, os
total = 0
for i in range(200_000):
    total += i * i
json.dump({"predictions": 1000}, open(os.environ["GREEN_GATE_METRICS"], "w"))
"""


def measure_check(url: str, workdir: Path, benchmarks: int) -> dict[str, Any]:
    """A real `green-gate check` (a pull request's: compared with main, recorded) through the proxy."""
    project = workdir / "project"
    project.mkdir(exist_ok=True)
    (project / "bench.py").write_text(BENCH)
    entries = "".join(
        f"  - name: bench-{b:02d}\n    command: python bench.py\n    repeats: 3\n    warmup: 0\n"
        for b in range(benchmarks)
    )
    (project / "green-budget.yml").write_text(BUDGET.format(benchmarks=entries.rstrip("\n")))
    with counting_proxy(url) as (proxy, counts):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "MLFLOW_", "GREEN_GATE_"))}
        env.update(PYTHONPATH=str(ROOT), MLFLOW_TRACKING_URI=proxy)
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "gate", "check", "--branch", "feature/scale", "--base-branch", "main",
             "--commit", "f" * 40, "--json", str(workdir / "check.json")],
            cwd=project, env=env, capture_output=True, text=True, timeout=900, check=False,
        )  # fmt: skip
        wall_s = time.perf_counter() - started
    result = json.loads((workdir / "check.json").read_text())
    found = sum(1 for b in result["benchmarks"] if b.get("baseline"))
    if done.returncode not in (0, 1) or found != benchmarks:
        sys.stderr.write(done.stderr[-3000:])
    total = sum(counts.values())
    return {
        "step": "check",
        "benchmarks": benchmarks,
        "baselines_found": found,
        "recorded": sum(1 for b in result["benchmarks"] if b.get("mlflow_run_id")),
        "exit_code": done.returncode,
        "requests": total,
        "requests_per_benchmark": round(total / benchmarks, 1),
        "by_endpoint": dict(counts.most_common()),
        "check_wall_s": round(wall_s, 1),
    }


EXPLAINED = {
    "baseline search": "tags.`mlflow.source.git.branch` = 'main' AND tags.`green_gate.hardware_id` = '{here}' "
    "AND tags.`green_gate.baseline_eligible` = 'true' AND attributes.status = 'FINISHED'",
    "result id search": "tags.`green_gate.result_id` = 'ffffffffffffffffffffffffffffffff'",
    "history": "",
}


def explain(db_uri: str, here: str) -> None:
    """PostgreSQL's plans for the gate's searches, as MLflow's SQL store builds them."""
    import sqlalchemy as sa
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    store = SqlAlchemyStore(db_uri, "/tmp/art")
    engine = store.engine
    captured: list[str] = []

    @sa.event.listens_for(engine, "before_cursor_execute")
    def grab(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if "FROM runs" in statement and "ORDER BY" in statement:
            captured.append(cursor.mogrify(statement, parameters).decode())

    for label, filter_string in EXPLAINED.items():
        captured.clear()
        store.search_runs(
            ["1"], filter_string.format(here=here), 1, max_results=10, order_by=["attributes.start_time DESC"]
        )
        with engine.connect() as conn:
            plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + captured[0]).fetchall()
        print(f"== {label}\n" + "\n".join(r[0] for r in plan), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--experiments", type=int, default=100)
    parser.add_argument("--benchmarks", type=int, default=3, help="benchmarks in the measured check")
    parser.add_argument("--postgres", required=True, help="admin URL of a PostgreSQL server")
    parser.add_argument("--keep", metavar="DB", help="keep the loaded database under this name (reused if it exists)")
    parser.add_argument("--explain", action="store_true", help="print the plans of the gate's searches")
    parser.add_argument("--index", action="store_true", help=f"first: {RUNS_INDEX}")
    args = parser.parse_args()
    import psycopg2

    here = hardware_facts.detect().fingerprint
    name = args.keep or f"gg_store_{uuid.uuid4().hex[:8]}"
    base = args.postgres.rsplit("/", 1)[0]
    dsn = f"{base}/{name}"
    db_uri = dsn.replace("postgresql://", "postgresql+psycopg2://", 1)
    admin = psycopg2.connect(args.postgres)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        exists = cur.fetchone() is not None
        if not exists:
            cur.execute(f'CREATE DATABASE "{name}"')
    load = os.getloadavg()
    try:
        if not exists:
            t = time.perf_counter()
            mlflow = str(Path(sys.executable).with_name("mlflow"))
            subprocess.run([mlflow, "db", "upgrade", db_uri], check=True, capture_output=True)
            print(json.dumps({"step": "mlflow db upgrade", "s": round(time.perf_counter() - t, 1)}), flush=True)
            made = generate(dsn, args.runs, args.experiments, here)
            print(json.dumps({"step": "generated", "runs": args.runs, "experiments": args.experiments, **made,
                              "load_average": [round(x, 2) for x in load]}), flush=True)  # fmt: skip
        if args.index:
            print(json.dumps({"step": "index", "s": round(add_runs_index(dsn), 1), "sql": RUNS_INDEX}), flush=True)
        if args.explain:
            explain(db_uri, here)
        with tempfile.TemporaryDirectory() as tmp, mlflow_server(db_uri, Path(tmp)) as url:
            print(
                json.dumps({**measure_store(url, here), "load_average": [round(x, 2) for x in os.getloadavg()]}),
                flush=True,
            )
            print(json.dumps({**measure_check(url, Path(tmp), args.benchmarks),
                              "load_average": [round(x, 2) for x in os.getloadavg()]}), flush=True)  # fmt: skip
    finally:
        if not args.keep:
            with admin.cursor() as cur:
                cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    main()
