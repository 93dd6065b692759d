"""Baseline stage: the run this one is compared with, and the recent history for the trend chart.

MLflow being out is a value here (`outage`), not an exception: the budget's policy decides later
what it costs, and the measurement is kept either way.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gate.compare import conditions as condition_rules
from gate.compare.model import Baseline
from gate.errors import TrackingError
from gate.pipeline.plan import Job
from gate.tracking import schema

if TYPE_CHECKING:
    from gate.tracking.mlflow_store import MlflowStore


class Tracking:
    """The MLflow store, opened once: on first use, or in the background while a warm-up runs.

    `create=False` (a check that records nothing) leaves an sqlite store that does not exist
    unopened: it holds no baseline, and creating it would cost the check MLflow's import and the
    store's migrations for nothing.
    """

    def __init__(self, uri: str, *, create: bool = True) -> None:
        self.uri = uri
        self.create = create
        self._opened = False
        self._store: MlflowStore | None = None
        self._error: TrackingError | None = None
        self._opening: threading.Thread | None = None
        self._crash: BaseException | None = None

    def open_soon(self) -> None:
        """Start opening the store in a thread (MLflow's import and the store's set-up take seconds).

        Only while nothing is measured: the caller waits for it (open() or wait()) before the next
        measured window starts."""
        if self._opened or self._opening is not None or not self._needed():
            return
        from gate.tracking import mlflow_store

        mlflow_store.configure_environment()  # here, not in the thread: the benchmark's env is built from it

        def opening() -> None:
            try:
                self._open()
            except BaseException as exc:  # re-raised where the store is asked for
                self._crash = exc

        self._opening = threading.Thread(target=opening, name="green-gate-mlflow-open", daemon=True)
        self._opening.start()

    def wait(self) -> None:
        """Until a background opening has ended."""
        opening, self._opening = self._opening, None
        if opening is not None:
            opening.join()
        crash, self._crash = self._crash, None
        if crash is not None:
            raise crash

    def open(self) -> tuple[MlflowStore | None, TrackingError | None]:
        self.wait()
        if not self._opened and self._needed():
            self._open()
        self._opened = True
        return self._store, self._error

    def _needed(self) -> bool:
        if self.create or not self.uri.startswith("sqlite:///"):
            return True
        return Path(self.uri.removeprefix("sqlite:///")).exists()

    def _open(self) -> None:
        from gate.tracking.mlflow_store import MlflowStore  # heavy boundary, imported on use

        self._opened = True
        try:
            self._store = MlflowStore(self.uri)
        except TrackingError as exc:
            self._error = exc


@dataclass(frozen=True)
class Lookup:
    baseline: Baseline | None = None
    history: tuple[dict[str, Any], ...] = ()  # recent baseline runs, oldest first (the trend chart)
    outage: TrackingError | None = None
    # The per-repeat values of the recent baseline runs (those of `history`), metric -> values, for
    # the job-to-job spread (gate.compare.stats.job_noise). None: not read (paired, or no MLflow).
    past_runs: tuple[dict[str, tuple[float, ...]], ...] | None = None
    # The baseline is the latest eligible run (not a pin or a run id), so one of `history` whose runner
    # conditions match this run's may take its place (`rematch`).
    latest: bool = False


# How many past baseline runs the job-to-job spread is estimated from: the trend chart's runs.
PAST_RUNS = 10


def find(store: MlflowStore, job: Job, experiment: str, conditions: Mapping[str, float] | None = None) -> Lookup:
    """`conditions` (this run's, gate.devices.conditions.medians): when the latest eligible run ran
    under other conditions, the newest of the recent eligible runs whose conditions match is the
    baseline instead (`rematch`). A baseline chosen by a pin or a run id stays whatever its conditions."""
    lookup = _eligible(store, job, experiment)
    return rematch(store, lookup, conditions) if conditions else lookup


def _eligible(store: MlflowStore, job: Job, experiment: str) -> Lookup:
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
    latest = choice.source == "latest" and baseline is not None
    try:
        history = store.trend(
            experiment, branch=job.baseline_branch, hardware_id=job.plan.hardware.fingerprint, limit=PAST_RUNS
        )
    except TrackingError as exc:
        return Lookup(baseline, outage=exc)
    if baseline is None or not job.rules.limits_pct:
        return Lookup(baseline, tuple(history), latest=latest)
    try:
        past = tuple(store.past_series(history, tuple(job.rules.limits_pct)))
    except TrackingError as exc:
        return Lookup(baseline, tuple(history), outage=exc)
    return Lookup(baseline, tuple(history), past_runs=past, latest=latest)


def rematch(
    store: MlflowStore, lookup: Lookup, conditions: Mapping[str, float], read: dict[str, Baseline] | None = None
) -> Lookup:
    """`lookup`, as `find` returned it without conditions, with the baseline `find` chooses for a run
    under `conditions`. Adaptive repeats read the baseline before measuring, when this run's
    conditions are not known yet: each look, and the verdict, then judge against the baseline this
    same rule picks from the conditions measured so far. `read` (run id -> baseline) keeps the runs
    read from MLflow across calls."""
    if not lookup.latest or lookup.baseline is None or not conditions or lookup.outage is not None:
        return lookup
    try:
        chosen = matching_baseline(store, lookup.baseline, lookup.history, conditions, read)
    except TrackingError as exc:
        return Lookup(lookup.baseline, outage=exc)
    return replace(lookup, baseline=chosen)


def matching_baseline(
    store: MlflowStore,
    latest: Baseline,
    history: Sequence[Mapping[str, Any]],
    conditions: Mapping[str, float],
    read: dict[str, Baseline] | None = None,
) -> Baseline:
    """The newest recent eligible run whose conditions match this run's, when the latest's do not."""
    if not history or history[-1].get("run_id") != latest.run_id:
        return latest
    runs = [schema.split_conditions(row.get("metrics") or {})[1] for row in history]
    index = condition_rules.prefer_matching(conditions, runs)
    if index is None:
        return latest
    run_id = str(history[index]["run_id"])
    if read is not None and run_id in read:
        return read[run_id]
    reason = (
        f"the newest eligible run whose runner conditions match this run's; the latest "
        f"({latest.run_id[:8]}) ran under others"
    )
    chosen = store.baseline_from_run(run_id, reason)
    if read is not None:
        read[run_id] = chosen
    return chosen
