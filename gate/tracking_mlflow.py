"""The MLflow boundary: log a check as a run, find the baseline run. The only module importing mlflow.

Without MLFLOW_TRACKING_URI the store is embedded: sqlite at `.green-gate/mlflow.db` in the working
directory. mlflow is imported lazily (it costs ~1-2 s).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from gate.errors import TrackingError
from gate.models import Baseline

EMBEDDED_STORE = Path(".green-gate") / "mlflow.db"
MAX_BATCH_METRICS = 1000
MAX_BATCH_PARAMS_TAGS = 100

# Tags the gate sets (besides MLflow's standard `mlflow.source.git.*`).
TAG_BENCHMARK = "green_gate.benchmark"
TAG_BRANCH = "green_gate.branch"
TAG_COMMIT = "green_gate.commit"
TAG_PR = "green_gate.pr"
TAG_HARDWARE = "green_gate.hardware_id"
TAG_VERDICT = "green_gate.verdict"
TAG_ELIGIBLE = "green_gate.baseline_eligible"  # "true" only on finished non-PR runs
TAG_HARDWARE_JSON = "green_gate.hardware"  # the full description behind TAG_HARDWARE
REPEAT_PREFIX = "repeat."  # per-repeat series: metric `repeat.<name>`, one step per repeat


def resolve_tracking_uri(env: Mapping[str, str], cwd: Path) -> str:
    uri = env.get("MLFLOW_TRACKING_URI")
    if uri:
        return uri
    path = (cwd / EMBEDDED_STORE).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def describe_uri(uri: str) -> str:
    """The URI without credentials, for logs and reports."""
    if "@" in uri and "://" in uri:
        scheme, rest = uri.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return uri


@contextmanager
def _mlflow_errors(action: str, uri: str) -> Iterator[None]:
    try:
        yield
    except TrackingError:
        raise
    except Exception as exc:  # MLflow raises many types (MlflowException, requests, sqlalchemy)
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TrackingError(
            f"MLflow at {describe_uri(uri)} failed while {action}: {first_line[:300]}",
            hint="check MLFLOW_TRACKING_URI and that the server is up; the measured result is kept in "
            ".green-gate/results/",
        ) from exc


class MlflowStore:
    def __init__(self, uri: str) -> None:
        self.uri = uri
        # Fail within seconds rather than minutes when the server is down (MLflow's default
        # retries with backoff for ~2 minutes). Users' own settings win.
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "20")
        # stdout carries the report only; the gate logs the run's URL to stderr itself.
        os.environ["MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"] = "true"
        with _mlflow_errors("connecting", uri):
            from mlflow.tracking import MlflowClient

            for name in ("alembic", "mlflow"):  # after the import: mlflow configures its loggers then
                logging.getLogger(name).setLevel(logging.WARNING)
            self._client: Any = MlflowClient(tracking_uri=uri)

    def experiment_id(self, name: str, *, create: bool) -> str | None:
        with _mlflow_errors(f"looking up experiment {name!r}", self.uri):
            experiment = self._client.get_experiment_by_name(name)
            if experiment is not None:
                return str(experiment.experiment_id)
            if not create:
                return None
            try:
                return str(self._client.create_experiment(name))
            except Exception:
                experiment = self._client.get_experiment_by_name(name)  # created concurrently
                if experiment is None:
                    raise
                return str(experiment.experiment_id)

    def find_baseline(
        self, experiment: str, *, branch: str, hardware_id: str, pinned_run_id: str | None
    ) -> Baseline | None:
        """The pinned run, else the latest finished, baseline-eligible run on `branch` on this hardware."""
        if pinned_run_id:
            with _mlflow_errors(f"reading pinned baseline run {pinned_run_id}", self.uri):
                return self._baseline_from(self._client.get_run(pinned_run_id))
        experiment_id = self.experiment_id(experiment, create=False)
        if experiment_id is None:
            return None
        query = (
            f"tags.`{TAG_BRANCH}` = '{_quote(branch)}' AND tags.`{TAG_HARDWARE}` = '{_quote(hardware_id)}' "
            f"AND tags.`{TAG_ELIGIBLE}` = 'true' AND attributes.status = 'FINISHED'"
        )
        with _mlflow_errors("searching for the baseline run", self.uri):
            runs = self._client.search_runs(
                [experiment_id], filter_string=query, order_by=["attributes.start_time DESC"], max_results=1
            )
            return self._baseline_from(runs[0]) if runs else None

    def _baseline_from(self, run: Any) -> Baseline:
        tags = run.data.tags
        return Baseline(
            run_id=run.info.run_id,
            metrics={k: v for k, v in run.data.metrics.items() if not k.startswith(REPEAT_PREFIX)},
            commit=tags.get(TAG_COMMIT),
            branch=tags.get(TAG_BRANCH),
            start_time_ms=int(run.info.start_time or 0),
            url=self.run_url(run.info.experiment_id, run.info.run_id),
            per_repeat=self._per_repeat(run),
            hardware_id=tags.get(TAG_HARDWARE),
            hardware=_json_object(tags.get(TAG_HARDWARE_JSON)),
        )

    def _per_repeat(self, run: Any) -> dict[str, tuple[float, ...]]:
        """The `repeat.<metric>` histories (steps 0..n-1) as metric -> values in step order."""
        series: dict[str, tuple[float, ...]] = {}
        for key in sorted(k for k in run.data.metrics if k.startswith(REPEAT_PREFIX)):
            history = self._client.get_metric_history(run.info.run_id, key)
            by_step = {int(m.step): float(m.value) for m in history}
            if by_step and sorted(by_step) == list(range(len(by_step))):  # complete series only
                series[key[len(REPEAT_PREFIX) :]] = tuple(by_step[i] for i in range(len(by_step)))
        return series

    def run_url(self, experiment_id: str, run_id: str) -> str | None:
        if self.uri.startswith(("http://", "https://")):
            return f"{self.uri.rstrip('/')}/#/experiments/{experiment_id}/runs/{run_id}"
        return None

    def log_run(
        self,
        experiment: str,
        *,
        run_name: str,
        metrics: Mapping[str, float],
        series: Mapping[str, tuple[float, ...]],
        params: Mapping[str, str],
        tags: Mapping[str, str],
        failed: bool,
    ) -> tuple[str, str | None]:
        """One run with summary metrics, per-repeat series (as steps), params and tags: (id, URL)."""
        from mlflow.entities import Metric, Param, RunTag

        experiment_id = self.experiment_id(experiment, create=True)
        now_ms = int(time.time() * 1000)
        metric_rows = [Metric(k, float(v), now_ms, 0) for k, v in metrics.items()]
        for key, values in series.items():
            metric_rows.extend(Metric(key, float(v), now_ms, step) for step, v in enumerate(values))
        param_rows = [Param(k, str(v)[:6000]) for k, v in params.items()]
        tag_rows = [RunTag(k, str(v)[:5000]) for k, v in tags.items()]
        with _mlflow_errors("logging the run", self.uri):
            run = self._client.create_run(experiment_id, run_name=run_name)
            run_id = str(run.info.run_id)
            for start in range(0, len(metric_rows), MAX_BATCH_METRICS):
                self._client.log_batch(run_id, metrics=metric_rows[start : start + MAX_BATCH_METRICS])
            attrs: list[Any] = [*param_rows, *tag_rows]
            for start in range(0, len(attrs), MAX_BATCH_PARAMS_TAGS):
                chunk = attrs[start : start + MAX_BATCH_PARAMS_TAGS]
                self._client.log_batch(
                    run_id,
                    params=[a for a in chunk if isinstance(a, Param)],
                    tags=[a for a in chunk if isinstance(a, RunTag)],
                )
            self._client.set_terminated(run_id, status="FAILED" if failed else "FINISHED")
        return run_id, self.run_url(str(experiment_id), run_id)


def _json_object(text: str | None) -> dict[str, object] | None:
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")
