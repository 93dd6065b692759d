"""The MLflow boundary: log runs, find baselines, pins and history. The only module importing mlflow.

Which store (MLFLOW_TRACKING_URI, else the embedded sqlite one) and how to name it without its
credentials: gate.tracking.credentials. mlflow is imported lazily (it costs ~1-2 s).

Every call is retried a bounded number of times with exponential backoff (GREEN_GATE_MLFLOW_ATTEMPTS,
default 3; GREEN_GATE_MLFLOW_BACKOFF_S, default 0.5 s, doubling up to 8 s); MLflow's own HTTP retries
are off by default so an outage costs seconds, not minutes. Errors that retrying cannot fix (bad
request, missing run, permission) are not retried; see gate.tracking.mlflow_errors.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, TypeVar, cast

from gate import secrets
from gate.compare import baseline_rules
from gate.compare.model import Baseline
from gate.errors import ConfigError, TrackingError
from gate.retry import RetryPolicy
from gate.tracking import filters, mlflow_errors, schema
from gate.tracking.credentials import describe_uri
from gate.tracking.history import HistoryRow, row_from_rest, row_from_run
from gate.tracking.schema import Pin, RunRecord

SEARCH_PAGE_SIZE = 1000
SEARCH_ENDPOINT = "/api/2.0/mlflow/runs/search"
# Many runs' histories of one metric in one request (the endpoint MLflow's UI charts with), at most
# HISTORY_BULK_RUNS runs a request; a server without it is asked run by run.
HISTORY_BULK_ENDPOINT = "/ajax-api/2.0/mlflow/metrics/get-history-bulk"
HISTORY_BULK_RUNS = 100
HISTORY_BULK_MAX_RESULTS = 25_000
# The baseline search reads this many runs, the newest first: the trend chart's and job-to-job
# spread's runs (gate.pipeline.baseline.PAST_RUNS) then need no search of their own.
BASELINE_SEARCH_RUNS = 10

T = TypeVar("T")


@dataclass(frozen=True)
class RunInfo:
    """A run as the release-manager commands need it."""

    run_id: str
    experiment_id: str
    run_name: str
    status: str
    start_time_ms: int
    tags: dict[str, str]
    metrics: dict[str, float]


SQLITE_LOCK_TIMEOUT_S = 120.0  # a migration takes seconds; past this, something holds the lock for good


@contextlib.contextmanager
def _sqlite_creation_lock(uri: str) -> Iterator[None]:
    """An exclusive lock on `<database>.lock` beside a local sqlite store, else nothing."""
    if not uri.startswith("sqlite:///"):
        yield
        return
    import fcntl

    database = Path(uri[len("sqlite:///") :].split("?", 1)[0])
    lock_path = database.with_name(database.name + ".lock")
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        handle = lock_path.open("a")
    except OSError:  # a read-only folder: MLflow's own error will say more than ours
        yield
        return
    with handle:
        deadline = time.monotonic() + SQLITE_LOCK_TIMEOUT_S
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TrackingError(
                        f"the MLflow store {database} stayed locked ({lock_path}) for {SQLITE_LOCK_TIMEOUT_S:g} s",
                        hint="another green-gate process is creating it; if none runs, delete the .lock file",
                    ) from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def configure_environment() -> None:
    """MLflow's settings the gate needs, in this process's environment (MLflow reads them there)."""
    # The gate retries whole operations itself (bounded, with backoff); MLflow's own HTTP retries
    # would multiply that into minutes. Users' own settings win.
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "20")
    # stdout carries the report only; the gate logs the run's URL to stderr itself.
    os.environ["MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"] = "true"


def schema_age(found: mlflow_errors.SchemaMismatch) -> mlflow_errors.SchemaMismatch:
    """Whether a database's schema revision is older or newer than this MLflow's, from MLflow's own
    migration scripts: one they contain (not the head) is older; one they do not know, newer."""
    from dataclasses import replace

    from mlflow.version import VERSION

    age: Literal["older", "newer"] | None = None
    try:
        from alembic.script import ScriptDirectory
        from mlflow.store.db.utils import _get_alembic_config

        scripts = ScriptDirectory.from_config(_get_alembic_config(db_url=""))  # type: ignore[no-untyped-call]
        known = {script.revision for script in scripts.walk_revisions()}
        age = "older" if found.found in known else "newer"
    except Exception:  # MLflow's migration layout is internal: without it the error still says both fixes
        age = None
    return replace(found, age=age, client_version=VERSION)


class MlflowStore:
    def __init__(
        self,
        uri: str,
        *,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.uri = uri
        self.retry = retry or mlflow_errors.retry_policy(os.environ)
        self._sleep = sleep
        configure_environment()
        with mlflow_errors.translated("connecting", uri, schema_age):
            from mlflow.tracking import MlflowClient

            for name in ("alembic", "mlflow"):  # after the import: mlflow configures its loggers then
                logging.getLogger(name).setLevel(logging.WARNING)
            # Creating the client creates and migrates a fresh sqlite store; two checks at once on
            # one store would race through the migrations (one fails): one at a time, by file lock.
            with _sqlite_creation_lock(uri):
                self._client: Any = MlflowClient(tracking_uri=uri)
        # What this store has read already, so one check asks the server each thing once: experiment
        # name -> (id, tags); (experiment id, filter) -> newest runs; (run id, metric key) -> history.
        self._experiments: dict[str, tuple[str, dict[str, str]]] = {}
        self._searches: dict[tuple[str, str], tuple[int, list[Any]]] = {}
        self._histories: dict[tuple[str, str], tuple[float, ...]] = {}

    # --- plumbing --------------------------------------------------------------------------------

    def _call(self, action: str, fn: Callable[[], T]) -> T:
        """`fn()` with bounded retries and backoff; MLflow's errors become TrackingError."""
        delays = self.retry.delays_s()
        for attempt in range(len(delays) + 1):
            try:
                return fn()
            except (TrackingError, ConfigError):
                raise
            except Exception as exc:
                if not mlflow_errors.is_retryable(exc) or attempt == len(delays):
                    raise mlflow_errors.translate(exc, action, self.uri, attempt + 1, schema_age=schema_age) from exc
                self._sleep(delays[attempt])
        raise AssertionError("unreachable")  # pragma: no cover

    def run_url(self, experiment_id: str, run_id: str) -> str | None:
        if self.uri.startswith(("http://", "https://")):
            base = describe_uri(self.uri).rstrip("/")
            return f"{base}/#/experiments/{experiment_id}/runs/{run_id}?{schema.UI_CLASSIC_VIEW_QUERY}"
        return None

    # --- experiments and pins --------------------------------------------------------------------

    def experiment_id(self, name: str, *, create: bool) -> str | None:
        return self._call(f"looking up experiment {name!r}", lambda: self._experiment_id(name, create))

    def _experiment_id(self, name: str, create: bool) -> str | None:
        known = self._experiments.get(name)
        if known is not None:
            if create:
                self._add_experiment_tags(known[0], known[1])
            return known[0]
        experiment = self._client.get_experiment_by_name(name)
        if experiment is not None:
            if create:
                self._add_experiment_tags(str(experiment.experiment_id), experiment.tags or {})
            self._experiments[name] = (str(experiment.experiment_id), dict(experiment.tags or {}))
            return str(experiment.experiment_id)
        if not create:
            return None
        try:
            return str(self._client.create_experiment(name, tags=schema.experiment_tags()))
        except Exception:
            experiment = self._client.get_experiment_by_name(name)  # created concurrently
            if experiment is None:
                raise
            return str(experiment.experiment_id)

    def _known_tags(self, experiment_id: str) -> dict[str, str] | None:
        """The tags of an experiment this store read by name (pins are among them), else None."""
        return next((tags for eid, tags in self._experiments.values() if eid == experiment_id), None)

    def _forget_experiment(self, experiment_id: str) -> None:
        self._experiments = {n: v for n, v in self._experiments.items() if v[0] != experiment_id}

    def _add_experiment_tags(self, experiment_id: str, tags: Mapping[str, str]) -> None:
        """An experiment made before the gate tagged them gets the tags it lacks; a description the
        team wrote is kept."""
        for key, value in schema.experiment_tags().items():
            if key not in tags:
                self._client.set_experiment_tag(experiment_id, key, value)
                self._forget_experiment(experiment_id)

    def get_pin(self, experiment_id: str, branch: str) -> Pin | None:
        key = schema.pin_tag_key(branch)

        def read() -> Pin | None:
            tags = self._known_tags(experiment_id)
            if tags is None:  # the experiment's tags came with its lookup by name, else ask for them
                tags = self._client.get_experiment(experiment_id).tags
            value = tags.get(key)
            return Pin.decode(value) if value else None

        return self._call(f"reading the baseline pin for {branch!r}", read)

    def set_pin(self, experiment_id: str, branch: str, pin: Pin) -> None:
        key = schema.pin_tag_key(branch)
        self._forget_experiment(experiment_id)
        self._call(
            f"pinning the baseline for {branch!r}",
            lambda: self._client.set_experiment_tag(experiment_id, key, pin.encode()),
        )

    def remove_pin(self, experiment_id: str, branch: str) -> Pin | None:
        """Remove the pin for `branch`; returns what was pinned (None: nothing was)."""
        old = self.get_pin(experiment_id, branch)
        if old is not None:
            key = schema.pin_tag_key(branch)
            self._forget_experiment(experiment_id)
            self._call(
                f"unpinning the baseline for {branch!r}",
                lambda: self._client.delete_experiment_tag(experiment_id, key),
            )
        return old

    # --- baselines -------------------------------------------------------------------------------

    def choose_baseline(
        self,
        experiment: str,
        *,
        branch: str,
        hardware_id: str,
        cli_run_id: str | None = None,
        budget_run_id: str | None = None,
        with_per_repeat: bool = True,
    ) -> tuple[baseline_rules.BaselineChoice, Baseline | None]:
        """The rule that picks the baseline (see gate.compare.baseline_rules) and the run it picks, if any."""
        experiment_id = self.experiment_id(experiment, create=False)
        pin = self.get_pin(experiment_id, branch) if experiment_id is not None else None
        choice = baseline_rules.choose(branch=branch, cli_run_id=cli_run_id, budget_run_id=budget_run_id, pin=pin)
        if choice.run_id is not None:
            baseline = self.baseline_from_run(choice.run_id, choice.reason, with_per_repeat=with_per_repeat)
            if baseline.hardware_id and baseline.hardware_id != hardware_id:
                reason = f"{choice.reason}; measured on other hardware [{baseline.hardware_id}]"
                baseline = replace(baseline, reason=reason)
            return choice, baseline
        if experiment_id is None:
            return choice, None
        runs = self._newest(
            "searching for the baseline run",
            experiment_id,
            filters.baseline_filter(branch, hardware_id),
            BASELINE_SEARCH_RUNS,
        )
        if not runs:
            return choice, None
        reason = f"{choice.reason} [{hardware_id}]"
        return choice, self._baseline(runs[0], reason, with_per_repeat)

    def find_baseline(
        self,
        experiment: str,
        *,
        branch: str,
        hardware_id: str,
        pinned_run_id: str | None = None,
        budget_run_id: str | None = None,
    ) -> Baseline | None:
        """The baseline run by the rules of gate.compare.baseline_rules (`pinned_run_id`: --baseline-run-id)."""
        return self.choose_baseline(
            experiment, branch=branch, hardware_id=hardware_id, cli_run_id=pinned_run_id, budget_run_id=budget_run_id
        )[1]

    def _newest(self, action: str, experiment_id: str, filter_string: str, limit: int) -> list[Any]:
        """The newest `limit` runs of the experiment that match: asked once per store and filter (the
        baseline's search reads the trend's runs too), until this store logs a run."""
        known = self._searches.get((experiment_id, filter_string))
        if known is not None and (limit <= known[0] or len(known[1]) < known[0]):
            return known[1][:limit]
        runs = list(
            self._call(
                action,
                lambda: self._client.search_runs(
                    [experiment_id],
                    filter_string=filter_string,
                    order_by=["attributes.start_time DESC"],
                    max_results=limit,
                ),
            )
        )
        self._searches[(experiment_id, filter_string)] = (limit, runs)
        return runs

    def baseline_from_run(self, run_id: str, reason: str, *, with_per_repeat: bool = True) -> Baseline:
        run = self._get_run(run_id, "reading the pinned baseline run")
        return self._baseline(run, reason, with_per_repeat)

    def _get_run(self, run_id: str, action: str) -> Any:
        def read() -> Any:
            try:
                return self._client.get_run(run_id)
            except Exception as exc:
                if getattr(exc, "error_code", None) in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
                    raise ConfigError(
                        f"MLflow run {run_id!r} does not exist at {describe_uri(self.uri)}",
                        hint="check the run id (--baseline-run-id, baseline.run_id in the budget file, or the "
                        "pin shown by `green-gate baseline show`); `green-gate baseline unpin` removes a stale pin",
                    ) from None
                raise

        return self._call(f"{action} {run_id}", read)

    def _baseline(self, run: Any, reason: str, with_per_repeat: bool) -> Baseline:
        tags = run.data.tags
        run_id = str(run.info.run_id)
        metrics, run_conditions = schema.split_conditions(run.data.metrics)
        series_keys = schema.per_repeat_keys(list(metrics))
        summary = {k: v for k, v in metrics.items() if k not in series_keys}
        per_repeat = (
            schema.complete_series(self.per_repeat_series(run_id, series_keys), summary) if with_per_repeat else {}
        )
        hardware = schema.decode_context(tags).get("hardware")
        return Baseline(
            run_id=run_id,
            metrics=summary,
            commit=tags.get(schema.TAG_GIT_COMMIT),
            branch=tags.get(schema.TAG_GIT_BRANCH),
            start_time_ms=int(run.info.start_time or 0),
            url=self.run_url(str(run.info.experiment_id), run_id),
            reason=reason,
            hardware_id=tags.get(schema.TAG_HARDWARE),
            energy_method=tags.get(schema.TAG_ENERGY_METHOD),
            hardware=hardware if isinstance(hardware, dict) else None,
            per_repeat=per_repeat,
            conditions=run_conditions,
        )

    def per_repeat_series(self, run_id: str, keys: Mapping[str, str]) -> dict[str, tuple[float, ...]]:
        """A run's per-repeat values as plain data: {metric name: values by step}, from metric histories.

        `keys` maps MLflow metric keys (`repeat.energy_j`) to the names returned (`energy_j`);
        `run_schema.per_repeat_keys(run metric keys)` builds it.
        """
        self._read_histories([run_id], list(keys))
        return {name: self._histories.get((run_id, key), ()) for key, name in keys.items()}

    def _read_histories(self, run_ids: Sequence[str], keys: Sequence[str]) -> None:
        """Fetch the histories of `keys` in `run_ids` that this store has not read yet: against a
        tracking server one request per metric key for up to HISTORY_BULK_RUNS runs, not one per run."""
        for key in keys:
            wanted = list(dict.fromkeys(r for r in run_ids if (r, key) not in self._histories))
            for start in range(0, len(wanted), HISTORY_BULK_RUNS):
                chunk = wanted[start : start + HISTORY_BULK_RUNS]
                found = self._call(
                    f"reading metric history {key!r} of {len(chunk)} run(s)",
                    lambda chunk=chunk, key=key: self._histories_of(chunk, key),  # type: ignore[misc]
                )
                for run_id in chunk:
                    self._histories[(run_id, key)] = found.get(run_id, ())

    def _histories_of(self, run_ids: list[str], key: str) -> dict[str, tuple[float, ...]]:
        """{run id: values of `key` by step}: one bulk request to a tracking server, else run by run."""
        points: dict[str, list[tuple[int, int, float]]] = {}
        bulk = self._bulk_history(run_ids, key) if self._is_http and self._bulk_history_works else None
        if bulk is None:
            for run_id in run_ids:
                history = self._client.get_metric_history(run_id, key)
                points[run_id] = [(int(m.step), int(m.timestamp), float(m.value)) for m in history]
        else:
            for item in bulk:
                step, stamp = int(item.get("step") or 0), int(item.get("timestamp") or 0)
                points.setdefault(str(item["run_id"]), []).append((step, stamp, float(item["value"])))
        return {run_id: tuple(v for _, _, v in sorted(found)) for run_id, found in points.items()}

    _bulk_history_works = True

    def _bulk_history(self, run_ids: list[str], key: str) -> list[dict[str, Any]] | None:
        """MLflow's bulk history endpoint; None (and not asked again) where the server has none."""
        from mlflow.utils import credentials, rest_utils

        rest: Any = rest_utils  # untyped
        creds = cast(Any, credentials).get_default_host_creds(self.uri)  # untyped
        params: dict[str, Any] = {"run_id": run_ids, "metric_key": key, "max_results": HISTORY_BULK_MAX_RESULTS}
        response = rest.http_request(creds, HISTORY_BULK_ENDPOINT, "GET", params=params, raise_on_status=False)
        if response.status_code in (404, 405):  # a server (or proxy) without MLflow's UI endpoints
            self._bulk_history_works = False
            return None
        data = rest.verify_rest_response(response, HISTORY_BULK_ENDPOINT).json()
        metrics: list[dict[str, Any]] = data.get("metrics") or []
        return metrics

    def past_series(
        self, runs: Sequence[Mapping[str, Any]], metrics: Sequence[str]
    ) -> list[dict[str, tuple[float, ...]]]:
        """The per-repeat values of `metrics` in each of `runs` (rows of `trend()`), in their order:
        the past jobs the job-to-job spread is estimated from. Series not logged (DERIVED_SERIES) are
        derived from energy_j and duration_s as for a baseline."""
        wanted = {m for m in metrics if m not in schema.DERIVED_SERIES}
        if len(wanted) < len(set(metrics)):
            wanted |= {"energy_j", "duration_s"}
        keys = {f"{schema.SERIES_PREFIX}{m}": m for m in sorted(wanted)}
        self._read_histories([str(run["run_id"]) for run in runs], list(keys))  # all runs at once
        out = []
        for run in runs:
            # The rows' metrics are the runs' summaries (geometric means); a key a run lacks has an empty history.
            summary = run.get("metrics") or {}
            series = schema.complete_series(self.per_repeat_series(str(run["run_id"]), keys), summary)
            out.append({m: series[m] for m in metrics if series.get(m)})
        return out

    # --- runs ------------------------------------------------------------------------------------

    def run_ids_starting_with(self, prefix: str, *, limit: int = 10) -> list[str]:
        """Ids of active runs, in any experiment, that start with `prefix` (hexadecimal, as a run id
        is), at most `limit`: what `baseline pin` resolves an abbreviated id (as reports show) with."""
        from mlflow.entities import ViewType

        if not prefix or any(c not in "0123456789abcdef" for c in prefix):
            return []

        def search() -> list[str]:
            experiments = self._client.search_experiments(view_type=ViewType.ACTIVE_ONLY, max_results=50_000)
            ids = [e.experiment_id for e in experiments]
            if not ids:
                return []
            runs = self._client.search_runs(ids, filter_string=f"attributes.run_id LIKE '{prefix}%'", max_results=limit)
            return [str(run.info.run_id) for run in runs]

        return self._call(f"looking up runs whose id starts with {prefix}", search)

    def get_run(self, run_id: str) -> RunInfo:
        run = self._get_run(run_id, "reading run")
        return RunInfo(
            run_id=str(run.info.run_id),
            experiment_id=str(run.info.experiment_id),
            run_name=str(run.info.run_name or ""),
            status=str(run.info.status),
            start_time_ms=int(run.info.start_time or 0),
            tags=dict(run.data.tags),
            metrics=dict(run.data.metrics),
        )

    def log_record(self, record: RunRecord, *, first_write: bool = False) -> tuple[str, str | None, bool]:
        """Log `record` as one run, idempotently: (run id, URL, whether this call created it).

        A finished run with the record's result id means it was logged before: nothing is written. A
        run left unfinished by an interrupted upload is deleted and the record logged afresh. Its tags
        and params are redacted (gate.secrets): MLflow's readers are not the job's. `first_write`: the
        record was made by this process and never sent, so its first attempt need not search for an
        earlier copy (a retry still does: the failed attempt may have created the run).
        """
        active = secrets.active_secrets()
        record = replace(
            record,
            run_name=active.redact(record.run_name),
            params=active.redact_data(record.params),
            tags=active.redact_data(record.tags),
        )
        experiment_id = self.experiment_id(record.experiment, create=True)
        assert experiment_id is not None
        attempts: list[int] = []

        def attempt() -> tuple[str, bool]:
            look = not first_write or bool(attempts)
            attempts.append(1)
            return self._log_record_once(experiment_id, record, look_for_earlier=look)

        run_id, created = self._call("logging the run", attempt)
        self._searches.clear()  # a search now may find this run
        return run_id, self.run_url(experiment_id, run_id), created

    def _log_record_once(self, experiment_id: str, record: RunRecord, *, look_for_earlier: bool) -> tuple[str, bool]:
        from mlflow.entities import Metric, Param, RunStatus, RunTag

        done = {RunStatus.to_string(RunStatus.FINISHED), RunStatus.to_string(RunStatus.FAILED)}
        earlier = (
            self._client.search_runs([experiment_id], filter_string=filters.result_filter(record.result_id))
            if look_for_earlier
            else []
        )
        for run in earlier:
            if run.info.status in done:
                return str(run.info.run_id), False
            self._client.delete_run(run.info.run_id)  # an upload interrupted half way
        run = self._client.create_run(
            experiment_id,
            start_time=record.start_time_ms,
            tags={schema.TAG_RESULT_ID: record.result_id},
            run_name=record.run_name,
        )
        run_id = str(run.info.run_id)
        try:
            for batch in schema.batches(record):
                self._client.log_batch(
                    run_id,
                    metrics=[Metric(k, v, ts, step) for k, v, ts, step in batch.metrics],
                    params=[Param(k, v) for k, v in batch.params],
                    tags=[RunTag(k, v) for k, v in batch.tags],
                )
        except Exception as exc:
            refusal = mlflow_errors.refused(exc, "logging the run", self.uri)
            if refusal is None:
                raise  # retried; the next attempt replaces the unfinished run
            # A refused record leaves no RUNNING run behind to pass for a measurement.
            with contextlib.suppress(Exception):
                self._client.delete_run(run_id)
            raise refusal from exc
        self._client.set_terminated(
            run_id, status="FAILED" if record.failed else "FINISHED", end_time=record.end_time_ms
        )
        return run_id, True

    def trend(self, experiment: str, *, branch: str, hardware_id: str, limit: int = 10) -> list[dict[str, Any]]:
        """The latest `limit` baseline-eligible runs on `branch` on this hardware, oldest first, as plain
        data (`run_id`, `commit`, `start_time_ms`, `metrics`) for the report's trend chart."""
        experiment_id = self.experiment_id(experiment, create=False)
        if experiment_id is None:
            return []
        runs = self._newest(
            "reading the baseline trend", experiment_id, filters.baseline_filter(branch, hardware_id), limit
        )
        rows = [row_from_run(run) for run in reversed(runs)]
        return [
            {"run_id": r.run_id, "commit": r.commit, "start_time_ms": r.start_time_ms, "metrics": r.metrics}
            for r in rows
        ]

    # --- history ---------------------------------------------------------------------------------

    def history(
        self,
        experiment: str,
        *,
        branch: str | None = None,
        hardware_id: str | None = None,
        since_ms: int | None = None,
        max_runs: int = 1000,
    ) -> list[HistoryRow]:
        """Runs of the experiment, newest first, at most `max_runs` (paged 1000 at a time).

        Against a tracking server the pages are read as MLflow's REST JSON straight into rows: turning
        1,000 runs into protobuf messages and MLflow entities first cost about 0.5 s of 2.45 s (measured).
        """
        experiment_id = self.experiment_id(experiment, create=False)
        if experiment_id is None:
            return []
        filter_string = filters.history_filter(branch=branch, hardware_id=hardware_id, since_ms=since_ms)
        read_page = self._rest_page if self._is_http else self._client_page
        rows: list[HistoryRow] = []
        token: str | None = None
        while len(rows) < max_runs:
            page_size = min(SEARCH_PAGE_SIZE, max_runs - len(rows))
            page, token = self._call(
                "reading the history",
                lambda token=token, page_size=page_size: read_page(  # type: ignore[misc]
                    experiment_id, filter_string, page_size, token
                ),
            )
            rows.extend(page)
            if not token or not page:
                break
        return rows

    @property
    def _is_http(self) -> bool:
        return self.uri.startswith(("http://", "https://"))

    def _client_page(
        self, experiment_id: str, filter_string: str, page_size: int, token: str | None
    ) -> tuple[list[HistoryRow], str | None]:
        page = self._client.search_runs(
            [experiment_id],
            filter_string=filter_string,
            order_by=["attributes.start_time DESC"],
            max_results=page_size,
            page_token=token,
        )
        return [row_from_run(run) for run in page], page.token

    def _rest_page(
        self, experiment_id: str, filter_string: str, page_size: int, token: str | None
    ) -> tuple[list[HistoryRow], str | None]:
        """One page of MLflow's `runs/search` REST API as rows, through MLflow's own HTTP client (its
        credentials, TLS settings and error types)."""
        from mlflow.utils import credentials, rest_utils

        rest: Any = rest_utils  # untyped
        creds = cast(Any, credentials).get_default_host_creds(self.uri)  # untyped
        body: dict[str, Any] = {
            "experiment_ids": [experiment_id],
            "filter": filter_string,
            "order_by": ["attributes.start_time DESC"],
            "max_results": page_size,
        }
        if token:
            body["page_token"] = token
        response = rest.http_request(creds, SEARCH_ENDPOINT, "POST", json=body)
        data = rest.verify_rest_response(response, SEARCH_ENDPOINT).json()
        rows = [row_from_rest(run) for run in data.get("runs", [])]
        return rows, data.get("next_page_token") or None
