"""The whole check in-process under a busier runner than the baseline's: not comparable in history
mode (never a fail), confirmed paired in auto mode; alike conditions compare as before.

The runner's conditions come from the gate's own RepeatWatch with its probe and counters replaced by
a runner whose speed and CPU pressure the test sets, so that the figures are exact."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from gate.bench import runner
from gate.bench.conditions import CONDITIONS_ENV, RepeatWatch
from gate.devices.conditions import ProbeTiming, Snapshot
from gate.devices.pressure import StallTotals
from tests.pipeline.test_check_golden import Project

pytestmark = pytest.mark.slow  # real git, the embedded MLflow store, benchmark processes


class Runner:
    """A runner whose speed (MB per CPU second of the probe) and CPU pressure (%) the test sets."""

    def __init__(self) -> None:
        self.speed, self.pressure = 1300.0, 5.0
        self._stall_us, self._last = 0.0, time.perf_counter()

    def probe(self) -> ProbeTiming:
        return ProbeTiming(33.5, 33.5 / self.speed, 33.5 / self.speed)

    def snapshot(self) -> Snapshot:
        now = time.perf_counter()
        self._stall_us += (now - self._last) * 1e6 * self.pressure / 100
        self._last = now
        return Snapshot(now, None, StallTotals(int(self._stall_us), None), None)

    def watch(self, env: Mapping[str, str]) -> RepeatWatch:
        return RepeatWatch(
            env, probe=self.probe, snapshot=self.snapshot, load_average=lambda: 1.0, gpu_sampler=lambda _e: None
        )


@pytest.fixture
def machine(monkeypatch: pytest.MonkeyPatch, clean_env: dict[str, str]) -> Runner:
    monkeypatch.delenv(CONDITIONS_ENV)
    fake = Runner()
    monkeypatch.setattr(runner, "RepeatWatch", fake.watch)
    return fake


def relative(document: dict[str, Any]) -> dict[str, Any]:
    (bench,) = document["benchmarks"]
    (check,) = [c for c in bench["checks"] if c["rule"] == "relative"]
    return dict(check)


def test_history_mode_never_fails_a_busier_runner_and_compares_alike_ones(
    tmp_path: Path,
    machine: Runner,
    clean_env: dict[str, str],
) -> None:
    project = Project(tmp_path / "history", "history", clean_env)
    assert project.check("main", 1.0)[0] == 0
    machine.speed, machine.pressure = 897.0, 92.0
    code, document, report = project.check("busy", 1.5)
    check = relative(document)
    assert code == 0 and check["status"] == "warn" and check["change_pct"] is None
    assert check["reason"] == (
        "not comparable: the runner was busier than at the baseline (speed index −31%, CPU pressure 92% vs 5%); "
        "the change (+50.0%) is not judged"
    )
    assert "Runner: speed index 897 MB/CPU-s (baseline 1,300 MB/CPU-s), CPU pressure 92% (baseline 5%)" in report
    machine.speed, machine.pressure = 1290.0, 8.0
    code, document, _ = project.check("quiet", 1.5)
    assert code == 1 and relative(document)["status"] == "fail"


def test_auto_mode_confirms_a_not_comparable_change_by_pairing(
    tmp_path: Path,
    machine: Runner,
    clean_env: dict[str, str],
) -> None:
    project = Project(tmp_path / "auto", "auto", clean_env)
    assert project.check("main", 1.0)[0] == 0
    machine.speed, machine.pressure = 897.0, 92.0
    code, document, _ = project.check("busy", 1.5)
    check = relative(document)
    assert code == 1 and check["status"] == "fail" and check["method"] == "paired-log"
    (bench,) = document["benchmarks"]
    assert any(
        n.startswith("Paired comparison (comparison.mode: auto, energy_per_prediction_j: the runner was busier")
        for n in bench["notes"]
    )


def test_adaptive_repeats_judge_against_the_baseline_whose_conditions_match(
    tmp_path: Path,
    machine: Runner,
    clean_env: dict[str, str],
) -> None:
    # The baseline is read before measuring, when this run's conditions are unknown: the latest (busy)
    # run then; once they are, the quiet one, as a check with a fixed number of repeats picks it.
    project = Project(tmp_path / "adaptive", "history", clean_env, repeats="{min: 3, max: 6}")
    assert project.check("main", 1.0)[0] == 0
    machine.speed, machine.pressure = 897.0, 92.0
    code, busy, _ = project.check("main", 1.5)
    assert code == 0 and relative(busy)["reason"].startswith("not comparable: the runner was busier")
    machine.speed, machine.pressure = 1290.0, 8.0
    code, document, _ = project.check("quiet", 1.5)
    (bench,) = document["benchmarks"]
    assert code == 1 and relative(document)["status"] == "fail"
    assert bench["baseline"]["reason"].startswith("the newest eligible run whose runner conditions match this run's")
    assert bench["adaptive"]["stopped"] == "decided" and bench["adaptive"]["repeats_run"] == 3
