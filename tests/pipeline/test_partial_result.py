"""The local result file after every measured repeat: a check that is stopped or crashes between
repeats keeps the ones it measured."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

from gate.commands import check
from gate.energy.model import EnergyReading, ScopeEnergy

# Each execution first copies the result file as it is then, so the test sees it between repeats.
BENCH = """import json, os, pathlib
runs = pathlib.Path("runs.txt")
n = int(runs.read_text()) + 1 if runs.exists() else 1
runs.write_text(str(n))
for result in pathlib.Path(".green-gate", "results").glob("*.json"):
    pathlib.Path(f"seen-{n}.json").write_text(result.read_text())
json.dump({"predictions": 1000}, open(os.environ["GREEN_GATE_METRICS"], "w"))
"""

BUDGET = """version: 1
benchmarks:
  - name: b
    command: python bench.py
    repeats: 3
    warmup: 1
limits:
  energy_per_prediction_j: {warn: +2%, fail: +5%}
carbon:
  intensity_g_per_kwh: 400
policy:
  missing_baseline: pass
"""


class FixedMeter:
    """Each measured repeat costs 10 J more than the one before it, so each repeat is recognisable."""

    def __init__(self) -> None:
        self.readings = 0

    def start(self) -> None:
        pass

    def stop(self) -> EnergyReading:
        self.readings += 1
        return EnergyReading(1.0, (ScopeEnergy("cpu", 10.0 * self.readings, "estimated", "test"),))


pytestmark = pytest.mark.slow  # the embedded MLflow store is opened for the baseline


def test_result_file_holds_each_repeat_as_soon_as_it_is_measured(tmp_path: Path) -> None:
    (tmp_path / "bench.py").write_text(BENCH)
    (tmp_path / "green-budget.yml").write_text(BUDGET)
    opts = check.CheckOptions(budget_path=tmp_path / "green-budget.yml", branch="main", commit="a" * 40, record=False)
    with contextlib.redirect_stdout(io.StringIO()):
        code = check.run(opts, env={}, cwd=tmp_path, meter=FixedMeter(), log=lambda _: None)
    assert code == 0

    assert not (tmp_path / "seen-1.json").exists()  # the warm-up: nothing measured yet
    assert not (tmp_path / "seen-2.json").exists()  # the first repeat: nothing measured yet
    after_one = json.loads((tmp_path / "seen-3.json").read_text())
    after_two = json.loads((tmp_path / "seen-4.json").read_text())
    assert after_one["verdict"] == "error" and after_one["exit_code"] is None  # not decided yet
    assert after_one["complete"] is False
    assert after_one["benchmarks"][0]["per_repeat"]["energy_j"] == [10.0]
    assert after_two["benchmarks"][0]["per_repeat"]["energy_j"] == [10.0, 20.0]
    (final,) = (tmp_path / ".green-gate" / "results").glob("*.json")
    assert json.loads(final.read_text())["benchmarks"][0]["per_repeat"]["energy_j"] == [10.0, 20.0, 30.0]
    assert json.loads(final.read_text())["complete"] is True
