"""`check` with the Prometheus outputs: the textfile, written atomically, the push to a real
Pushgateway, and a Pushgateway that is down, which only warns."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from gate.commands import check
from gate.energy.model import EnergyReading, ScopeEnergy
from tests.support.pushgateway import Pushgateway, free_port, pushgateway_server, scraped

__all__ = ["pushgateway_server"]  # the fixture the tests below use

# The check runs open the embedded MLflow store for the baseline: slow.

BENCH = """import json, os
json.dump({"predictions": 1000}, open(os.environ["GREEN_GATE_METRICS"], "w"))
"""

BUDGET = """version: 1
benchmarks:
  - name: b
    command: python bench.py
    repeats: 2
    warmup: 0
budgets:
  energy_j: 100
carbon:
  intensity_g_per_kwh: 400
"""


class FixedMeter:
    def start(self) -> None:
        pass

    def stop(self) -> EnergyReading:
        return EnergyReading(1.0, (ScopeEnergy("cpu", 10.0, "estimated", "test"),))


def _check(root: Path, capsys: pytest.CaptureFixture[str], budget: str = BUDGET, **options: Any) -> tuple[int, str]:
    (root / "bench.py").write_text(BENCH)
    (root / "green-budget.yml").write_text(budget)
    opts = check.CheckOptions(
        budget_path=root / "green-budget.yml",
        branch="main",
        commit="a" * 40,
        record=False,
        json_path=root / "result.json",
        **options,
    )
    code = check.run(opts, env={}, cwd=root, meter=FixedMeter(), log=lambda m: print(m, file=sys.stderr))
    return code, capsys.readouterr().err


@pytest.mark.slow
def test_the_textfile_holds_the_reported_figures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    textfile = tmp_path / "textfile" / "green_gate.prom"
    code, _ = _check(tmp_path, capsys, prometheus_textfile=textfile)
    assert code == 0
    families = {f.name: f for f in text_string_to_metric_families(textfile.read_text(encoding="utf-8"))}
    (energy,) = [s for s in families["green_gate_energy_joules"].samples if s.labels["scope"] == "gated"]
    assert energy.value == 10.0
    assert energy.labels["branch"] == "main" and energy.labels["benchmark"] == "b"
    assert len(energy.labels["hardware_fingerprint"]) > 0
    assert families["green_gate_verdict"].samples[0].value == 0.0
    per_prediction = families["green_gate_energy_per_prediction_joules"].samples[0].value
    assert per_prediction == pytest.approx(0.01)
    assert [p.name for p in textfile.parent.iterdir()] == ["green_gate.prom"]  # no temporary left behind


@pytest.mark.slow
def test_the_budget_pushgateway_gets_the_gauges(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], pushgateway_server: Pushgateway
) -> None:
    budget = BUDGET + f"prometheus:\n  pushgateway: {pushgateway_server.url}\n  job: nightly\n"
    code, stderr = _check(tmp_path, capsys, budget=budget)
    assert code == 0, stderr
    ((labels, value),) = scraped(pushgateway_server)["green_gate_verdict"]
    assert labels["job"] == "nightly" and labels["benchmark"] == "b" and value == 0.0


@pytest.mark.slow
def test_a_pushgateway_that_is_down_warns_and_loses_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, stderr = _check(tmp_path, capsys, pushgateway=f"http://127.0.0.1:{free_port()}")
    assert code == 0
    assert "warning:" in stderr and "Pushgateway" in stderr
    assert json.loads((tmp_path / "result.json").read_text())["verdict"] == "pass"
