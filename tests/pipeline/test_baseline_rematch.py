"""The early baseline lookup (adaptive repeats) re-matched to the run's conditions as the final one is."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, cast

from gate.compare.model import Baseline
from gate.errors import TrackingError
from gate.pipeline.baseline import Lookup, rematch
from gate.tracking import schema
from tests.helpers import baseline

if TYPE_CHECKING:
    from gate.tracking.mlflow_store import MlflowStore

QUIET = {"speed_index": 1300.0, "cpu_pressure_some_pct": 5.0}
BUSY = {"speed_index": 880.0, "cpu_pressure_some_pct": 95.0}


class Store:
    """What rematch asks of MLflow: one eligible run by id."""

    def __init__(self, fail: bool = False) -> None:
        self.reads: list[str] = []
        self.fail = fail

    def baseline_from_run(self, run_id: str, reason: str) -> Baseline:
        if self.fail:
            raise TrackingError("MLflow is down")
        self.reads.append(run_id)
        return replace(baseline(energy_per_prediction_j=0.1), run_id=run_id, reason=reason)


def row(run_id: str, conditions: dict[str, float]) -> dict[str, Any]:
    return {"run_id": run_id, "metrics": {f"{schema.CONDITIONS_PREFIX}{k}": v for k, v in conditions.items()}}


def early(latest: bool = True) -> Lookup:
    busy = replace(baseline(energy_per_prediction_j=0.15), run_id="b" * 32, conditions=BUSY)
    history = (row("q" * 32, QUIET), row("b" * 32, BUSY))
    return Lookup(busy, history, past_runs=({},), latest=latest)


def test_a_quiet_run_is_judged_against_the_newest_quiet_baseline_read_once() -> None:
    store, read = Store(), dict[str, Baseline]()
    lookup, quiet_run = early(), {"speed_index": 1290.0, "cpu_pressure_some_pct": 8.0}
    for _ in range(3):  # each adaptive look, then the verdict
        chosen = rematch(cast("MlflowStore", store), lookup, quiet_run, read)
        assert chosen.baseline is not None and chosen.baseline.run_id == "q" * 32
        assert chosen.history == lookup.history and chosen.past_runs == lookup.past_runs
    assert store.reads == ["q" * 32]


def test_the_latest_stays_for_alike_conditions_a_pin_no_conditions_or_an_outage() -> None:
    store = Store()
    busy_run = {"speed_index": 900.0, "cpu_pressure_some_pct": 90.0}
    assert rematch(cast("MlflowStore", store), early(), busy_run) == early()
    assert rematch(cast("MlflowStore", store), early(latest=False), QUIET) == early(latest=False)
    assert rematch(cast("MlflowStore", store), early(), {}) == early()
    assert store.reads == []
    down = rematch(cast("MlflowStore", Store(fail=True)), early(), QUIET)
    assert down.baseline == early().baseline and isinstance(down.outage, TrackingError)
