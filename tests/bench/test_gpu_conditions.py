"""A repeat whose GPU throttled never reads as a regression: named in the notes, left out on both sides.

The benchmark runs for real through the runner; the stand-in NVML driver reports a power cap while
repeat 3 runs (and that repeat takes five times as long), as a board hitting its power limit would.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from gate.bench.conditions import CONDITIONS_ENV
from gate.bench.runner import run_benchmark
from gate.compare.model import Baseline
from gate.compare.verdict import evaluate
from gate.config.budget import Level, Rules
from gate.devices.conditions import DISTURBED, disturbance_notes
from gate.energy.model import RunSummary
from gate.energy.summary import summarise
from gate.errors import BenchmarkError
from tests.bench.test_runner import WallClockMeter, spec
from tests.fakes.nvml import FakeDriver, Live, h100, installed

SLEEPY = (
    "import json, os, pathlib, time\n"
    "runs = pathlib.Path('runs.txt'); n = int(runs.read_text()) + 1 if runs.exists() else 1; runs.write_text(str(n))\n"
    "slow = n == int(os.environ.get('SLOW_RUN', '0'))\n"
    "flag = pathlib.Path('throttled')\n"
    "slow and flag.write_text('1')\n"
    "time.sleep(2.0 if slow else 0.4)\n"
    "flag.unlink(missing_ok=True)\n"
    "json.dump({'predictions': 100}, open(os.environ['GREEN_GATE_METRICS'], 'w'))\n"
)

pytestmark = pytest.mark.slow  # ten real repeats of seconds each

# A repeat is a Python start plus a sleep, timed by the wall clock: on a loaded machine the start alone
# moves a repeat by 10-20%, so the limits sit above that; the throttled repeat (five times as long)
# moves the geometric mean by about +35%, far enough from the +15% the last assertion needs to see.
RULES = Rules(limits_pct={"energy_per_prediction_j": Level(warn=25.0, fail=50.0)})


def measured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, slow_run: int) -> RunSummary:
    tmp_path.mkdir(exist_ok=True)
    flag = tmp_path / "throttled"
    installed(monkeypatch, FakeDriver([h100("GPU-a", clock_events=Live(lambda: 0x4 if flag.exists() else 0))]))
    bench = replace(spec(tmp_path, SLEEPY, repeats=5, warmup=0), env={"SLOW_RUN": str(slow_run)})
    run = run_benchmark(bench, WallClockMeter(), echo=lambda _: None, log=lambda _: None)
    return summarise(run.repeats, None)


def as_baseline(summary: RunSummary) -> Baseline:
    return Baseline("b" * 32, dict(summary.metrics), "c0ffee", "main", 0, per_repeat=dict(summary.per_repeat))


def test_a_power_capped_repeat_is_named_and_never_reads_as_a_regression(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(CONDITIONS_ENV, raising=False)
    base = measured(tmp_path / "base", monkeypatch, slow_run=0)
    current = measured(tmp_path / "pr", monkeypatch, slow_run=3)
    assert base.per_repeat[DISTURBED] == (0.0,) * 5
    assert current.per_repeat[DISTURBED] == (0.0, 0.0, 1.0, 0.0, 0.0)
    (note,) = disturbance_notes(current.conditions)
    assert note.startswith("repeat 3: power-capped ") and note.endswith("% of the time")

    decision = evaluate(current, as_baseline(base), RULES)
    (check,) = decision.checks
    assert check.status == "pass" and abs(check.change_pct or 0) < 12, check.reason
    assert "energy_per_prediction_j: left out this run's repeat(s) 3: a throttled GPU" in decision.notes[0]

    # the same repeats judged with the throttled one in: it would read as a costlier change
    unflagged = replace(current, per_repeat={k: v for k, v in current.per_repeat.items() if k != DISTURBED})
    (kept_in,) = evaluate(unflagged, as_baseline(base), RULES).checks
    assert (kept_in.change_pct or 0) > 15


def test_a_throttled_baseline_repeat_is_left_out_the_same_way(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CONDITIONS_ENV, raising=False)
    base = measured(tmp_path / "base", monkeypatch, slow_run=2)
    current = measured(tmp_path / "pr", monkeypatch, slow_run=0)
    decision = evaluate(current, as_baseline(base), RULES)
    assert decision.checks[0].status == "pass"
    assert "left out the baseline's repeat(s) 2" in decision.notes[0]


def test_a_command_that_never_starts_leaves_nvml_closed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CONDITIONS_ENV, raising=False)
    driver = installed(monkeypatch, FakeDriver([h100("GPU-a")]))
    broken = replace(spec(tmp_path, SLEEPY, repeats=1, warmup=0), argv=("/nonexistent/benchmark",), shell_command=None)
    with pytest.raises(BenchmarkError, match="cannot start the benchmark command"):
        run_benchmark(broken, WallClockMeter(), echo=lambda _: None, log=lambda _: None)
    assert driver.sessions == 0
