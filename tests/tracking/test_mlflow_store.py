"""The MLflow boundary against real servers: sqlite-backed and PostgreSQL-backed `mlflow server`."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from gate.errors import ConfigError, TrackingError
from gate.retry import RetryPolicy
from gate.tracking import mlflow_store, schema
from gate.tracking.history import HistoryRow
from gate.tracking.mlflow_store import MlflowStore
from gate.tracking.schema import Pin
from tests.support.mlflow import (
    HW,
    MlflowServer,
    experiment_name,
    free_port,
    metric_history,
    record,
    search_runs,
    seed_sqlite_store,
    tags_of,
)

pytestmark = pytest.mark.slow

CENTRE_J = (10.0 * 11.0 * 12.0) ** (1 / 3)  # a record()'s energy: the geometric mean of its repeats


def test_a_record_becomes_one_run_with_the_schema_and_is_never_logged_twice(tracking_server: MlflowServer) -> None:
    store = MlflowStore(tracking_server.url)
    exp = experiment_name()
    rec = record(exp)
    run_id, url, created = store.log_record(rec)
    again_id, _, again_created = store.log_record(rec)
    assert created and not again_created and again_id == run_id
    assert url is not None and url.startswith(f"{tracking_server.url}/#/experiments/")
    # The classic runs view, not the GenAI one the UI opens by default (docs/mlflow-schema.md).
    assert url.endswith(f"/runs/{run_id}?workflowType=machine_learning")
    (run,) = search_runs(tracking_server, exp)
    tags = tags_of(run)
    assert tags["mlflow.source.git.commit"] == "a" * 40
    assert tags["mlflow.source.git.branch"] == "main"
    assert tags["mlflow.source.name"] == "acme/models"
    assert tags["mlflow.runName"] == "aaaaaaa main bench pass 11 mJ/pred"
    assert tags[schema.TAG_RESULT_ID] == rec.result_id
    assert schema.decode_context(tags)["budget_sha256"] == "0" * 64
    assert run["info"]["status"] == "FINISHED" and int(run["info"]["start_time"]) == rec.start_time_ms
    assert metric_history(tracking_server, run_id, "repeat.energy_j") == [(0, 10.0), (1, 11.0), (2, 12.0)]


def test_an_upload_interrupted_half_way_is_replaced_not_duplicated(tracking_server: MlflowServer) -> None:
    from mlflow.tracking import MlflowClient

    store = MlflowStore(tracking_server.url)
    exp = experiment_name()
    rec = record(exp)
    experiment_id = store.experiment_id(exp, create=True)
    assert experiment_id is not None
    # What a crash after create_run leaves behind: a RUNNING run with the result id and no metrics.
    orphan = MlflowClient(tracking_server.url).create_run(experiment_id, tags={schema.TAG_RESULT_ID: rec.result_id})
    run_id, _, created = store.log_record(rec)
    assert created and run_id != orphan.info.run_id
    (run,) = search_runs(tracking_server, exp)
    assert run["info"]["run_id"] == run_id and run["info"]["status"] == "FINISHED"


def test_baseline_is_the_latest_eligible_run_of_the_branch_on_this_hardware(tracking_server: MlflowServer) -> None:
    store = MlflowStore(tracking_server.url)
    exp = experiment_name()
    t0 = 1_700_000_000_000
    good, _, _ = store.log_record(record(exp, start_time_ms=t0))
    store.log_record(record(exp, start_time_ms=t0 + 1, verdict="fail", eligible=False))
    store.log_record(record(exp, start_time_ms=t0 + 2, branch="feature/x", pr=7, eligible=False))
    store.log_record(record(exp, start_time_ms=t0 + 3, hardware_id="hw-other"))
    store.log_record(record(exp, start_time_ms=t0 + 4, branch="dev"))

    choice, baseline = store.choose_baseline(exp, branch="main", hardware_id=HW)
    assert baseline is not None and baseline.run_id == good
    assert choice.source == "latest"
    assert baseline.reason == f"{choice.reason} [{HW}]"
    assert baseline.per_repeat["energy_j"] == (10.0, 11.0, 12.0)
    assert "repeat.energy_j" not in baseline.metrics
    assert baseline.metrics["energy_j"] == pytest.approx(CENTRE_J, rel=1e-12)  # the geometric mean
    assert store.find_baseline(exp, branch="release/1", hardware_id=HW) is None
    assert store.find_baseline(experiment_name(), branch="main", hardware_id=HW) is None  # no experiment yet


def test_pins_override_the_latest_run_and_budget_and_command_line_override_pins(
    tracking_server: MlflowServer,
) -> None:
    store = MlflowStore(tracking_server.url)
    exp = experiment_name()
    old, _, _ = store.log_record(record(exp, start_time_ms=1_700_000_000_000, energies_j=(5.0,)))
    latest, _, _ = store.log_record(record(exp, start_time_ms=1_700_000_001_000))
    experiment_id = store.experiment_id(exp, create=False)
    assert experiment_id is not None

    store.set_pin(experiment_id, "main", Pin(old, pinned_by="rm", note="v1.4"))
    choice, baseline = store.choose_baseline(exp, branch="main", hardware_id=HW)
    assert (choice.source, baseline.run_id if baseline else None) == ("pin", old)
    assert choice.reason == "pinned for `main` with `green-gate baseline pin` by rm (v1.4)"
    assert baseline is not None and baseline.per_repeat["energy_j"] == (5.0,)

    choice, baseline = store.choose_baseline(exp, branch="main", hardware_id=HW, budget_run_id=latest)
    assert choice.source == "budget file" and choice.ignored_pin == Pin(old, pinned_by="rm", note="v1.4")
    _, baseline = store.choose_baseline(exp, branch="main", hardware_id="hw-other", cli_run_id=latest)
    assert baseline is not None and baseline.reason == f"pinned by --baseline-run-id; measured on other hardware [{HW}]"

    assert store.remove_pin(experiment_id, "main") == Pin(old, pinned_by="rm", note="v1.4")
    assert store.remove_pin(experiment_id, "main") is None
    assert store.find_baseline(exp, branch="main", hardware_id=HW).run_id == latest  # type: ignore[union-attr]


def test_a_pinned_run_that_does_not_exist_is_a_configuration_error(tracking_server: MlflowServer) -> None:
    store = MlflowStore(tracking_server.url)
    with pytest.raises(ConfigError, match="does not exist"):
        store.find_baseline(experiment_name(), branch="main", hardware_id=HW, pinned_run_id="f" * 32)


def test_history_pages_filters_by_branch_and_time_newest_first(tracking_server: MlflowServer) -> None:
    store = MlflowStore(tracking_server.url)
    exp = experiment_name()
    t0 = 1_700_000_000_000
    for i in range(5):
        store.log_record(record(exp, start_time_ms=t0 + i * 1000, commit=f"{i:040d}"))
    store.log_record(record(exp, start_time_ms=t0 + 9000, branch="dev"))
    rows = store.history(exp, branch="main")
    assert [r.commit for r in rows] == [f"{i:040d}" for i in (4, 3, 2, 1, 0)]
    assert rows[0].metrics["energy_j"] == pytest.approx(CENTRE_J, rel=1e-12)
    assert rows[0].verdict == "pass" and rows[0].baseline_eligible
    assert len(store.history(exp)) == 6
    assert [r.commit for r in store.history(exp, branch="main", since_ms=t0 + 3000)] == [f"{i:040d}" for i in (4, 3)]
    assert len(store.history(exp, max_runs=2)) == 2


def test_history_reads_the_same_rows_over_rest_pages_as_through_mlflow_entities(
    tracking_server: MlflowServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Against a server, history reads MLflow's REST JSON; against a local store, MLflow's entities."""
    monkeypatch.setattr(mlflow_store, "SEARCH_PAGE_SIZE", 2)  # several pages, tokens followed
    remote = MlflowStore(tracking_server.url)
    local = MlflowStore(f"sqlite:///{seed_sqlite_store(tmp_path / 'mlflow.db', cwd=tmp_path)}")
    exp = experiment_name()
    t0 = 1_700_000_000_000
    records = [record(exp, start_time_ms=t0 + i * 1000, commit=f"{i:040d}") for i in range(4)]
    records.append(record(exp, start_time_ms=t0 + 5000, branch="feat/x", pr=7, verdict="fail", eligible=False))
    records.append(replace(record(exp, start_time_ms=t0 + 6000), failed=True))
    for rec in records:
        remote.log_record(rec)
        local.log_record(rec)

    def comparable(rows: list[HistoryRow]) -> list[HistoryRow]:
        return [replace(r, run_id="") for r in rows]

    over_rest = remote.history(exp)
    assert comparable(over_rest) == comparable(local.history(exp))
    assert [r.start_time_ms for r in over_rest] == [t0 + i * 1000 for i in (6, 5, 3, 2, 1, 0)]
    assert len({r.run_id for r in over_rest}) == 6
    assert (over_rest[0].status, over_rest[1].pr_number, over_rest[1].verdict) == ("FAILED", 7, "fail")
    assert over_rest[1].branch == "feat/x" and not over_rest[1].baseline_eligible
    assert over_rest[2].metrics == {k: pytest.approx(v) for k, v in records[3].metrics.items()}
    assert comparable(remote.history(exp, max_runs=3)) == comparable(over_rest[:3])


def test_history_over_rest_retries_then_fails_cleanly(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    store = MlflowStore(
        f"http://127.0.0.1:{free_port()}", retry=RetryPolicy(attempts=2, backoff_s=0.01), sleep=slept.append
    )
    monkeypatch.setattr(store, "experiment_id", lambda name, create: "1")
    with pytest.raises(TrackingError, match="failed while reading the history \\(after 2 attempts\\)"):
        store.history("any")
    assert slept == [0.01]


def test_outage_retries_with_backoff_then_fails_without_leaking_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "s3cr3t-token-value")
    slept: list[float] = []
    store = MlflowStore(
        f"http://alice:hunter2@127.0.0.1:{free_port()}",
        retry=RetryPolicy(attempts=3, backoff_s=0.01),
        sleep=slept.append,
    )
    with pytest.raises(TrackingError) as caught:
        store.log_record(record(experiment_name()))
    assert slept == [0.01, 0.02]
    text = caught.value.render()
    assert "after 3 attempts" in text and "http://***@127.0.0.1" in text
    assert "hunter2" not in text and "alice" not in text and "s3cr3t" not in text


def test_experiments_are_tagged_to_open_on_their_runs_table(tracking_server: MlflowServer) -> None:
    store = MlflowStore(tracking_server.url)
    exp = experiment_name()
    store.log_record(record(exp))
    tags = _experiment_tags(tracking_server, exp)
    assert tags[schema.TAG_EXPERIMENT_KIND] == schema.EXPERIMENT_KIND
    assert tags[schema.TAG_NOTE] == schema.EXPERIMENT_DESCRIPTION


def test_an_untagged_experiment_gets_the_tags_and_keeps_its_own_description(tracking_server: MlflowServer) -> None:
    import requests

    exp = experiment_name()
    response = requests.post(
        f"{tracking_server.url}/api/2.0/mlflow/experiments/create",
        json={"name": exp, "tags": [{"key": schema.TAG_NOTE, "value": "our own words"}]},
        timeout=10,
    )
    response.raise_for_status()
    MlflowStore(tracking_server.url).log_record(record(exp))
    tags = _experiment_tags(tracking_server, exp)
    assert tags[schema.TAG_EXPERIMENT_KIND] == schema.EXPERIMENT_KIND
    assert tags[schema.TAG_NOTE] == "our own words"


def _experiment_tags(server: MlflowServer, name: str) -> dict[str, str]:
    import requests

    response = requests.get(
        f"{server.url}/api/2.0/mlflow/experiments/get-by-name", params={"experiment_name": name}, timeout=10
    )
    response.raise_for_status()
    return {t["key"]: t["value"] for t in response.json()["experiment"].get("tags", [])}


def test_past_series_reads_each_trend_runs_repeats_for_the_job_to_job_spread(tracking_server: MlflowServer) -> None:
    store = MlflowStore(tracking_server.url)
    exp = experiment_name()
    t0 = 1_700_000_000_000
    store.log_record(record(exp, start_time_ms=t0, energies_j=(10.0, 11.0, 12.0)))
    store.log_record(record(exp, start_time_ms=t0 + 1, energies_j=(20.0, 21.0)))
    store.log_record(record(exp, start_time_ms=t0 + 2, branch="dev", energies_j=(99.0, 99.0)))  # other branch
    rows = store.trend(exp, branch="main", hardware_id=HW)
    past = store.past_series(rows, ("energy_j", "energy_kwh", "energy_per_prediction_j"))
    assert [run["energy_j"] for run in past] == [(10.0, 11.0, 12.0), (20.0, 21.0)]  # oldest first
    assert past[0]["energy_per_prediction_j"] == (0.01, 0.011, 0.012)
    # kWh is not logged per repeat: derived from energy_j as for a baseline
    assert past[1]["energy_kwh"] == pytest.approx((20.0 / 3.6e6, 21.0 / 3.6e6))
    assert store.past_series(rows, ("accuracy",)) == [{}, {}]  # no per-repeat series of it


def test_a_checks_mlflow_traffic_is_a_few_requests_per_benchmark(tracking_server: MlflowServer) -> None:
    """What one benchmark of a check asks: the baseline with its repeats, the trend and the past runs'
    repeats (the job-to-job spread), then its own run logged: 10 requests at most, however many runs."""
    from tests.support.proxy import counting_proxy

    exp = experiment_name()
    writer = MlflowStore(tracking_server.url)
    t0 = 1_700_000_000_000
    for i in range(12):
        writer.log_record(record(exp, start_time_ms=t0 + i, energies_j=(10.0 + i, 11.0 + i, 12.0 + i)))
    with counting_proxy(tracking_server.url) as (url, counts):
        store = MlflowStore(url)
        _, baseline = store.choose_baseline(exp, branch="main", hardware_id=HW)
        rows = store.trend(exp, branch="main", hardware_id=HW, limit=10)
        past = store.past_series(rows, ("energy_per_prediction_j", "energy_j"))
        store.log_record(record(exp, branch="feature/x", pr=3, eligible=False), first_write=True)
    assert baseline is not None and baseline.per_repeat["energy_j"] == (21.0, 22.0, 23.0)
    assert [p["energy_j"][0] for p in past] == [float(10 + i) for i in range(2, 12)]  # the 10 newest, oldest first
    assert past[-1]["energy_per_prediction_j"] == pytest.approx((0.021, 0.022, 0.023))
    assert sum(counts.values()) <= 10, counts
    assert counts["POST /api/2.0/mlflow/runs/search"] == 1  # the trend reuses the baseline's search
    assert counts["GET /api/2.0/mlflow/experiments/get-by-name"] == 1
    assert counts["GET /api/2.0/mlflow/experiments/get"] == 0  # the pin came with the experiment's tags


def test_histories_come_run_by_run_from_a_server_without_the_bulk_endpoint(tracking_server: MlflowServer) -> None:
    from tests.support.proxy import counting_proxy

    exp = experiment_name()
    writer = MlflowStore(tracking_server.url)
    for i in range(3):
        writer.log_record(record(exp, start_time_ms=1_700_000_000_000 + i, energies_j=(1.0 + i, 2.0 + i)))
    with counting_proxy(tracking_server.url, refuse=lambda path: path.startswith("/ajax-api/")) as (url, counts):
        store = MlflowStore(url)
        rows = store.trend(exp, branch="main", hardware_id=HW)
        past = store.past_series(rows, ("energy_j",))
    assert [p["energy_j"] for p in past] == [(1.0, 2.0), (2.0, 3.0), (3.0, 4.0)]
    assert counts["GET /ajax-api/2.0/mlflow/metrics/get-history-bulk"] == 1  # asked once, then not again
    assert counts["GET /api/2.0/mlflow/metrics/get-history"] == 3


def test_a_pin_set_by_this_store_is_read_back_by_it(tracking_server: MlflowServer) -> None:
    store = MlflowStore(tracking_server.url)
    exp = experiment_name()
    first, _, _ = store.log_record(record(exp, start_time_ms=1_700_000_000_000))
    store.log_record(record(exp, start_time_ms=1_700_000_000_001))
    experiment_id = store.experiment_id(exp, create=False)
    assert experiment_id is not None and store.get_pin(experiment_id, "main") is None  # tags now known
    store.set_pin(experiment_id, "main", Pin(run_id=first, pinned_by="test"))
    _, baseline = store.choose_baseline(exp, branch="main", hardware_id=HW)
    assert baseline is not None and baseline.run_id == first
