"""One result, one figure per metric, in every place a person reads it: the report, the PR comment,
its trend chart and limit line, MLflow (metric and run name, on a real server), `history`,
`baseline show` and the Prometheus text. The figure is the geometric mean of the repeats
(gate.energy.summary.central), so it is also what the change and its interval were computed from."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
import requests

from gate.commands import baseline as baseline_command
from gate.commands import history as history_command
from gate.output import markdown, prometheus
from gate.output.report import render, trend_chart
from gate.units import si_prefix
from tests.pipeline.test_check_golden import Project
from tests.support.mlflow import MlflowServer, metrics_of

pytestmark = pytest.mark.slow  # a real MLflow server and two checks of 5 repeats

METRIC = "energy_per_prediction_j"


def _get_run(server: MlflowServer, run_id: str) -> dict[str, Any]:
    response = requests.get(f"{server.url}/api/2.0/mlflow/runs/get", params={"run_id": run_id}, timeout=10)
    response.raise_for_status()
    run: dict[str, Any] = response.json()["run"]
    return run


def _geomean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values))


def _row(text: str, label: str) -> list[str]:
    line = next(line for line in text.splitlines() if line.startswith(f"| {label} |"))
    return [cell.strip() for cell in line.strip("|").split("|")]


def _run_name_figure(value: float) -> str:
    prefixed = si_prefix(value)
    scale, unit = prefixed if prefixed else (1.0, "")
    return f"{value / scale:.3g} {unit}J/pred"


def test_every_place_shows_the_same_figure(
    tmp_path: Path, clean_env: dict[str, str], mlflow_server: MlflowServer
) -> None:
    env = {**clean_env, "MLFLOW_TRACKING_URI": mlflow_server.url}
    project = Project(tmp_path / "project", "history", env)
    assert project.check("main", 1.0)[0] == 0  # the baseline, recorded on the server
    project.check("regressed", 1.5)  # the check whose result every place below is read from
    doc = json.loads((project.root / f"{project.step}.json").read_text())
    report = (project.root / f"{project.step}.md").read_text()
    (bench,) = doc["benchmarks"]

    # The figure is the geometric mean of the repeats, on both sides; the change is their ratio.
    current = bench["metrics"][METRIC]
    base = bench["baseline"]["metrics"][METRIC]
    assert current == pytest.approx(_geomean(bench["per_repeat"][METRIC]), rel=1e-12)
    assert base == pytest.approx(_geomean(bench["baseline"]["per_repeat"][METRIC]), rel=1e-12)
    (check,) = [c for c in bench["checks"] if c["metric"] == METRIC and c["rule"] == "relative"]
    assert (check["current"], check["baseline"]) == pytest.approx((current, base), rel=1e-12)
    assert check["change_pct"] == pytest.approx((current / base - 1) * 100, rel=1e-9)
    # J and kWh are one figure in two units: their changes agree.
    energy = bench["metrics"]["energy_j"] / bench["baseline"]["metrics"]["energy_j"]
    kwh = bench["metrics"]["energy_kwh"] / bench["baseline"]["metrics"]["energy_kwh"]
    assert energy == pytest.approx(kwh, rel=1e-12)

    shown_current, shown_base = markdown.quantity(current, "J"), markdown.quantity(base, "J")
    # The report and the PR comment: baseline and this run, and the change beside them.
    for text in (report, render(doc, "pr_comment.md.j2")):
        row = _row(text, "Energy per prediction (J)")
        assert row[1].startswith(shown_base) and row[2].startswith(shown_current), row
        assert row[3].startswith(f"{check['change_pct']:+.1f}%"), row
        assert text.count("geometric means of 5 repeats") == 1  # the statistic, said once

    # The trend chart: this run's point, the baseline's point and the limit line at baseline x 1.05.
    chart = trend_chart(bench)
    scale, _ = si_prefix(max(current, base * 1.05))  # type: ignore[misc]
    runs = [float(v) for v in re.search(r'line "runs" \[(.*)\]', chart).group(1).split(", ")]  # type: ignore[union-attr]
    limit = [float(v) for v in re.search(r'line "fail limit \+5%" \[(.*)\]', chart).group(1).split(", ")]  # type: ignore[union-attr]
    assert runs[-1] == pytest.approx(current / scale, rel=1e-3)
    assert runs[-2] == pytest.approx(base / scale, rel=1e-3)
    assert limit == [pytest.approx(base * 1.05 / scale, rel=1e-3)] * len(runs)

    # MLflow, read through its REST API: the metric and the run name of this run and of the baseline.
    this_run = _get_run(mlflow_server, bench["mlflow_run_id"])
    base_run = _get_run(mlflow_server, bench["baseline"]["run_id"])
    assert metrics_of(this_run)[METRIC] == pytest.approx(current, rel=1e-12)
    assert metrics_of(base_run)[METRIC] == pytest.approx(base, rel=1e-12)
    assert this_run["info"]["run_name"].endswith(_run_name_figure(current))
    assert base_run["info"]["run_name"].endswith(_run_name_figure(base))

    # `history` (JSON) lists both runs with the same figures.
    printed: list[str] = []
    code = history_command.run(
        history_command.HistoryOptions(budget_path=project.root / "green-budget.yml", output_format="json"),
        env=env,
        cwd=project.root,
        out=printed.append,
        err=lambda _: None,
    )
    assert code == 0
    rows = {r["run_id"]: r for r in json.loads("\n".join(printed))}
    assert rows[bench["mlflow_run_id"]]["metrics"][METRIC] == pytest.approx(current, rel=1e-12)
    assert rows[bench["baseline"]["run_id"]]["metrics"][METRIC] == pytest.approx(base, rel=1e-12)

    # `baseline show`: the baseline's figure, as the check compared with it.
    lines: list[str] = []
    code = baseline_command.show(
        baseline_command.Selection(budget_path=project.root / "green-budget.yml", branch="main"),
        hardware_id=None,
        env=env,
        cwd=project.root,
        out=lines.append,
        err=lambda _: None,
    )
    assert code == 0
    shown = next(line for line in lines if line.strip().startswith(f"{METRIC}:"))
    assert float(shown.split()[1]) == pytest.approx(base, rel=1e-5)  # printed to 6 significant digits

    # Prometheus: the gauge of this run.
    text = prometheus.render(prometheus.samples(doc))
    (gauge,) = [line for line in text.splitlines() if line.startswith("green_gate_energy_per_prediction_joules{")]
    assert float(gauge.rsplit(" ", 1)[1]) == current
