"""Baseline stage: the run this one is compared with, and the recent history for the trend chart.

MLflow being out is a value here (`outage`), not an exception: the budget's policy decides later
what it costs, and the measurement is kept either way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gate.compare import conditions as condition_rules
from gate.compare.model import Baseline
from gate.errors import TrackingError
from gate.pipeline.plan import Job
from gate.tracking import schema

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


def find(store: MlflowStore, job: Job, experiment: str, conditions: Mapping[str, float] | None = None) -> Lookup:
    """`conditions` (this run's, gate.devices.conditions.medians): when the latest eligible run ran
    under other conditions, the newest of the recent eligible runs whose conditions match is the
    baseline instead. A baseline chosen by a pin or a run id stays whatever its conditions."""
    try:
        choice, baseline = store.choose_baseline(
            experiment,
            branch=job.baseline_branch,
            hardware_id=job.plan.hardware.fingerprint,
            cli_run_id=job.plan.options.baseline_run_id,
            budget_run_id=job.baseline_rule.run_id,
        )
    except TrackingError as exc:
        return Lookup(outage=exc)
    try:
        history = store.trend(
            experiment, branch=job.baseline_branch, hardware_id=job.plan.hardware.fingerprint, limit=PAST_RUNS
        )
        if choice.source == "latest" and baseline is not None and conditions:
            baseline = matching_baseline(store, baseline, history, conditions)
    except TrackingError as exc:
        return Lookup(baseline, outage=exc)
    if baseline is None or not job.rules.limits_pct:
        return Lookup(baseline, tuple(history))
    try:
        past = tuple(store.past_series(history, tuple(job.rules.limits_pct)))
    except TrackingError as exc:
        return Lookup(baseline, tuple(history), outage=exc)
    return Lookup(baseline, tuple(history), past_runs=past)


def matching_baseline(
    store: MlflowStore, latest: Baseline, history: Sequence[Mapping[str, Any]], conditions: Mapping[str, float]
) -> Baseline:
    """The newest recent eligible run whose conditions match this run's, when the latest's do not."""
    if not history or history[-1].get("run_id") != latest.run_id:
        return latest
    runs = [schema.split_conditions(row.get("metrics") or {})[1] for row in history]
    index = condition_rules.prefer_matching(conditions, runs)
    if index is None:
        return latest
    reason = (
        f"the newest eligible run whose runner conditions match this run's; the latest "
        f"({latest.run_id[:8]}) ran under others"
    )
    return store.baseline_from_run(str(history[index]["run_id"]), reason)
