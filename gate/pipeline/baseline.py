"""Baseline stage: the run this one is compared with, and the recent history for the trend chart.

MLflow being out is a value here (`outage`), not an exception: the budget's policy decides later
what it costs, and the measurement is kept either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gate.compare.model import Baseline
from gate.errors import TrackingError
from gate.pipeline.plan import Job

if TYPE_CHECKING:
    from gate.tracking.mlflow_store import MlflowStore


class Tracking:
    """The MLflow store, opened on first use: after the first measurement is saved, and only once."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self._opened = False
        self._store: MlflowStore | None = None
        self._error: TrackingError | None = None

    def open(self) -> tuple[MlflowStore | None, TrackingError | None]:
        if not self._opened:
            from gate.tracking.mlflow_store import MlflowStore  # heavy boundary, imported on use

            self._opened = True
            try:
                self._store = MlflowStore(self.uri)
            except TrackingError as exc:
                self._error = exc
        return self._store, self._error


@dataclass(frozen=True)
class Lookup:
    baseline: Baseline | None = None
    history: tuple[dict[str, Any], ...] = ()  # recent baseline runs, oldest first (the trend chart)
    outage: TrackingError | None = None
    # The per-repeat values of the recent baseline runs (those of `history`), metric -> values, for
    # the job-to-job spread (gate.compare.stats.job_noise). None: not read (paired, or no MLflow).
    past_runs: tuple[dict[str, tuple[float, ...]], ...] | None = None


# How many past baseline runs the job-to-job spread is estimated from: the trend chart's runs.
PAST_RUNS = 10


def find(store: MlflowStore, job: Job, experiment: str) -> Lookup:
    try:
        baseline = store.find_baseline(
            experiment,
            branch=job.baseline_branch,
            hardware_id=job.plan.hardware.fingerprint,
            pinned_run_id=job.plan.options.baseline_run_id,
            budget_run_id=job.baseline_rule.run_id,
        )
    except TrackingError as exc:
        return Lookup(outage=exc)
    try:
        history = store.trend(
            experiment, branch=job.baseline_branch, hardware_id=job.plan.hardware.fingerprint, limit=PAST_RUNS
        )
    except TrackingError as exc:
        return Lookup(baseline, outage=exc)
    if baseline is None or not job.rules.limits_pct:
        return Lookup(baseline, tuple(history))
    try:
        past = tuple(store.past_series(history, tuple(job.rules.limits_pct)))
    except TrackingError as exc:
        return Lookup(baseline, tuple(history), outage=exc)
    return Lookup(baseline, tuple(history), past_runs=past)
