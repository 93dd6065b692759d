"""Opening the MLflow store: only when it can hold a baseline or will take the run, and in the
background during a warm-up, finished before anything is measured."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from gate.commands.check import Prepared
from gate.energy.model import EnergyReading
from gate.pipeline.baseline import Tracking


def test_a_check_that_records_nothing_leaves_a_missing_sqlite_store_unopened(tmp_path: Path) -> None:
    db = tmp_path / "mlflow.db"
    tracking = Tracking(f"sqlite:///{db}", create=False)
    tracking.open_soon()
    assert tracking.open() == (None, None)
    assert not db.exists()  # not created: it could hold no baseline


@pytest.mark.slow  # opens (and migrates) a real sqlite store
def test_an_existing_sqlite_store_is_opened_even_when_nothing_is_recorded(tmp_path: Path) -> None:
    db = tmp_path / "mlflow.db"
    Tracking(f"sqlite:///{db}").open()  # creates it, as a recording check does
    store, error = Tracking(f"sqlite:///{db}", create=False).open()
    assert error is None and store is not None


@pytest.mark.slow  # opens (and migrates) a real sqlite store
def test_opening_in_the_background_gives_the_same_store_and_is_done_once(tmp_path: Path) -> None:
    tracking = Tracking(f"sqlite:///{tmp_path / 'mlflow.db'}")
    tracking.open_soon()
    opener = [t for t in threading.enumerate() if t.name == "green-gate-mlflow-open"]
    assert opener, "the store is opened in its own thread"
    first = tracking.open()
    assert first[0] is not None and first[1] is None
    assert not any(t.is_alive() for t in opener)
    tracking.open_soon()  # already open: nothing more starts
    assert tracking.open() == first


@pytest.mark.slow  # opens (and migrates) a real sqlite store
def test_a_failure_to_open_in_the_background_is_the_same_outage_as_in_the_foreground(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    uri = f"sqlite:///{blocked / 'mlflow.db'}"
    background = Tracking(uri)
    background.open_soon()
    _, error = background.open()
    _, foreground_error = Tracking(uri).open()
    assert error is not None and foreground_error is not None
    assert type(error) is type(foreground_error)


class Recorder:
    def __init__(self, events: list[str]) -> None:
        self.events = events

    def start(self) -> None:
        self.events.append("start")

    def stop(self) -> EnergyReading:
        self.events.append("stop")
        return EnergyReading(1.0, ())

    def child_env(self) -> dict[str, str]:
        return {"A": "1"}


def test_the_first_measured_window_starts_only_after_the_background_work_ends() -> None:
    events: list[str] = []
    meter = Prepared(Recorder(events), lambda: events.append("ready"))
    meter.start()
    meter.stop()
    meter.start()
    assert events == ["ready", "start", "stop", "start"]
    assert meter.child_env() == {"A": "1"}


def test_a_crash_in_the_background_opening_is_raised_where_the_store_is_asked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tracking = Tracking(f"sqlite:///{tmp_path / 'mlflow.db'}")

    def crash() -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(tracking, "_open", crash)
    tracking.open_soon()
    with pytest.raises(RuntimeError, match="boom"):
        tracking.open()
