"""The real CLI with carbon sources: fallback chain into the report and MLflow, and `green-gate wait`."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.fakes.em_server import TOKEN, FakeElectricityMaps, latest_body
from tests.support.cli import busy_project, run_cli
from tests.support.mlflow import MlflowServer, search_runs

pytestmark = pytest.mark.slow

SOURCES = """\
carbon:
  pue: 1.2
  sources:
    - provider: electricitymaps
      zone: DE
      token_env: EM_TOKEN
    - provider: cloud
      cloud: gcp
    - provider: fixed
      intensity_g_per_kwh: 400
budgets:
  grid_intensity_g_per_kwh: {warn: 300}
mlflow:
  experiment: carbon-{uuid}/{benchmark}
"""


def project_with_sources(tmp_path: Path) -> tuple[Path, str]:
    experiment = f"carbon-{uuid.uuid4().hex[:8]}"
    project = busy_project(tmp_path)
    budget = project / "green-budget.yml"
    text = budget.read_text().replace("carbon:\n  intensity_g_per_kwh: 100\n", "")
    budget.write_text(text + SOURCES.replace("carbon-{uuid}", experiment))
    return project, f"{experiment}/busy"


def test_fallback_chain_reaches_the_report_the_json_and_mlflow(
    tmp_path: Path, mlflow_server: MlflowServer, cli_env: dict[str, str], em_api: FakeElectricityMaps
) -> None:
    project, experiment = project_with_sources(tmp_path)
    env = {
        **cli_env,
        "MLFLOW_TRACKING_URI": mlflow_server.url,
        "EM_TOKEN": "revoked",
        "GREEN_GATE_ELECTRICITYMAPS_URL": em_api.url,
        "GOOGLE_CLOUD_REGION": "europe-west9",
    }
    result = run_cli("check", "--branch", "main", "--json", "out.json", cwd=project, env=env)
    assert result.returncode == 0, result.stderr
    assert "carbon source electricitymaps zone DE unavailable (Electricity Maps: the token was refused" in result.stderr
    bench = json.loads((project / "out.json").read_text())["benchmarks"][0]
    intensity = bench["intensity"]
    assert (intensity["g_per_kwh"], intensity["zone"], intensity["provider"], intensity["pue"]) == (
        34.0,
        "gcp/europe-west9",
        "cloud",
        1.2,
    )
    assert intensity["fallback"] == [
        "electricitymaps zone DE: Electricity Maps: the token was refused (HTTP 401: Invalid authentication token)"
    ]
    assert bench["metrics"]["emissions_g"] == pytest.approx(bench["metrics"]["energy_kwh"] * 1.2 * 34.0)
    assert "Carbon intensity: 34 gCO2eq/kWh, annual average for zone `gcp/europe-west9`" in result.stdout
    assert "Intensity sources tried first, unavailable: electricitymaps zone DE:" in result.stdout
    (run,) = search_runs(mlflow_server, experiment)
    tags = {t["key"]: t["value"] for t in run["data"]["tags"]}
    logged = json.loads(tags["green_gate.context"])["intensity"]
    assert {k: logged[k] for k in ("g_per_kwh", "provider", "zone", "pue")} == {
        "g_per_kwh": 34.0,
        "provider": "cloud",
        "zone": "gcp/europe-west9",
        "pue": 1.2,
    }
    assert logged["fallback"][0].startswith("electricitymaps zone DE: Electricity Maps: the token was refused")
    metrics = {m["key"]: m["value"] for m in run["data"]["metrics"]}
    assert metrics["grid_intensity_g_per_kwh"] == 34.0

    # With a good token the live value is used, and the budget rule on it warns (302 > 300).
    em_api.latest["DE"] = [latest_body("DE", 302, datetime(2026, 11, 23, 11, tzinfo=UTC))]
    args = ("check", "--no-record", "--base-branch", "no-runs-yet", "--json", "live.json")  # no baseline: no noise
    live = run_cli(*args, cwd=project, env={**env, "EM_TOKEN": TOKEN})
    assert live.returncode == 0, live.stderr
    doc = json.loads((project / "live.json").read_text())
    assert doc["verdict"] == "warn"
    assert doc["benchmarks"][0]["intensity"]["basis"] == "live"
    assert "302 gCO2eq/kWh is over the warning level of 300 gCO2eq/kWh" in live.stdout


def test_no_source_answering_stops_the_check_with_exit_4(tmp_path: Path, cli_env: dict[str, str]) -> None:
    project, _ = project_with_sources(tmp_path)
    budget = project / "green-budget.yml"
    budget.write_text(budget.read_text().replace("    - provider: fixed\n      intensity_g_per_kwh: 400\n", ""))
    result = run_cli("check", cwd=project, env=cli_env)
    assert result.returncode == 4, result.stderr
    assert "no carbon-intensity source answered: electricitymaps zone DE: $EM_TOKEN is not set" in result.stderr
    assert "cloud gcp (region from env): no gcp region in the environment" in result.stderr


def test_wait_cli_proceeds_and_writes_outputs(
    tmp_path: Path, cli_env: dict[str, str], em_api: FakeElectricityMaps
) -> None:
    em_api.latest["FR"] = [latest_body("FR", 41, datetime(2026, 11, 23, 11, tzinfo=UTC))]
    outputs = tmp_path / "outputs.txt"
    env = {
        **cli_env,
        "ELECTRICITYMAPS_API_TOKEN": TOKEN,
        "GREEN_GATE_ELECTRICITYMAPS_URL": em_api.url,
        "GITHUB_OUTPUT": str(outputs),
    }
    result = run_cli("wait", "--zone", "FR", "--below", "100", "--max-wait", "10m", cwd=tmp_path, env=env, timeout_s=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "green-gate wait: proceeding: 41 gCO2eq/kWh is under the threshold of 100 (waited 0s)\n"
    assert "reason=below_threshold" in outputs.read_text().splitlines()
