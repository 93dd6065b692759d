"""The real CLI, end to end: a real benchmark, codecarbon, a real `mlflow server` on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fakes.github_server import EVENTS
from tests.support.cli import busy_project, example_project, run_cli
from tests.support.documents import validate_result
from tests.support.mlflow import (
    MlflowServer,
    free_port,
    metric_history,
    metrics_of,
    search_runs,
    seed_embedded_store,
    tags_of,
)

pytestmark = pytest.mark.slow


# A twelfth of the example's default passes: each run's fixed cost (interpreter, scikit-learn import,
# training) stays, which dilutes the 5x work per prediction below to +58% ± 5% measured (+105% at 20
# passes, +95% at 40), still an order beyond the +5% limit; the test takes 31 s instead of 75 s.
EXAMPLE_PASSES = "10"
EXTRA_WORK = "4.0"


def test_example_records_a_baseline_then_fails_when_each_prediction_costs_five_times_the_work(
    tmp_path: Path, mlflow_server: MlflowServer, cli_env: dict[str, str]
) -> None:
    project, experiment = example_project(tmp_path)
    env = {**cli_env, "MLFLOW_TRACKING_URI": mlflow_server.url, "GREEN_GATE_EXAMPLE_PASSES": EXAMPLE_PASSES}
    args = ("check", "--branch", "main", "--commit", "a" * 40)  # the example's own 1 warm-up + 5 repeats

    first = run_cli(*args, "--json", "first.json", cwd=project, env=env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("## ✅ green-gate: within the energy budget")  # stdout: the report only
    doc = json.loads((project / "first.json").read_text())
    validate_result(doc)
    assert doc["verdict"] == "pass" and doc["format"] == 1
    (bench,) = doc["benchmarks"]
    assert bench["baseline"] is None
    assert bench["metrics"]["energy_per_prediction_j"] > 0
    assert bench["quality"]["accuracy"] > 0.95
    assert {s["scope"]: s["provenance"] for s in bench["scopes"]}["ram"] == "estimated"
    scopes = {s["scope"]: s for s in bench["scopes"]}
    assert (scopes["cpu"]["attribution"], scopes["cpu"]["gated"], scopes["ram"]["gated"]) == ("process", True, False)
    assert scopes["cpu"]["method"].startswith("process CPU time × ")
    assert "estimated: process CPU time × " in first.stdout  # the report says which CPU method was used
    assert "First run on `main`" in first.stdout

    # The CPU and RAM figures are wall-time models: on a shared 2-core machine other processes stretch
    # single repeats by up to 1.4x, so a +30% regression (it measures +12..+34%) can end in a warning.
    # 5x the work per prediction measures about +58% at 10 passes, its 95% interval starting near +53%
    # (each repeat is charged its own CPU time): only every baseline repeat slowed by 1.5x, and none of
    # these, would bring it down to the +5% limit. The regressed run takes the CLI's overrides, 3
    # repeats and no warm-up, against the baseline's 1 + 5: half the runs of the dearer side.
    regressed = run_cli(
        *args,
        "--repeats",
        "3",
        "--warmup",
        "0",
        "--commit",
        "b" * 40,
        "--json",
        "second.json",
        cwd=project,
        env={**env, "GREEN_GATE_EXAMPLE_EXTRA_WORK": EXTRA_WORK},
    )
    assert regressed.returncode == 1, regressed.stderr
    doc2 = json.loads((project / "second.json").read_text())
    validate_result(doc2)
    assert doc2["verdict"] == "fail"
    (bench2,) = doc2["benchmarks"]
    assert bench2["baseline"]["run_id"] == bench["mlflow_run_id"]
    assert [h["run_id"] for h in bench2["history"]] == [bench["mlflow_run_id"]]  # the trend chart's points
    (limit,) = [c for c in bench2["checks"] if c["metric"] == "energy_per_prediction_j"]
    assert limit["status"] == "fail" and limit["change_pct"] > 5.0
    assert limit["method"] == "welch-log"  # both sides' repeats (the baseline's from MLflow's histories)
    assert f"{limit['change_pct']:+.1f}% ± " in regressed.stdout
    assert "(95% CI) exceeds the fail limit of +5%" in regressed.stdout
    assert "Energy per prediction" in regressed.stdout

    assert bench["mlflow_run_url"].startswith(mlflow_server.url)
    runs = search_runs(mlflow_server, experiment)
    assert [tags_of(r)["green_gate.verdict"] for r in runs] == ["pass", "fail"]
    assert [tags_of(r)["green_gate.baseline_eligible"] for r in runs] == ["true", "false"]
    first_run = runs[0]
    assert tags_of(first_run)["green_gate.energy_method"] == "cpu:estimated:process"
    assert tags_of(first_run)["mlflow.source.git.commit"] == "a" * 40
    assert tags_of(first_run)["mlflow.source.git.branch"] == "main"
    assert metrics_of(first_run)["energy_per_prediction_j"] == pytest.approx(
        bench["metrics"]["energy_per_prediction_j"]
    )
    history = metric_history(mlflow_server, first_run["info"]["run_id"], "repeat.energy_j")
    assert [step for step, _ in history] == [0, 1, 2, 3, 4]


def test_malformed_budget_exits_2_with_the_line(tmp_path: Path, cli_env: dict[str, str]) -> None:
    project = busy_project(tmp_path)
    budget = project / "green-budget.yml"
    budget.write_text(budget.read_text().replace("repeats: 1", "repeats: lots"))
    result = run_cli("check", "--json", "out.json", cwd=project, env=cli_env)
    assert result.returncode == 2
    assert "green-budget.yml:5: at benchmarks[0].repeats: expected a whole number" in result.stderr
    assert "Traceback" not in result.stderr
    assert json.loads((project / "out.json").read_text())["verdict"] == "error"
    validate_result(json.loads((project / "out.json").read_text()))
    validated = run_cli("validate", str(budget), cwd=project, env=cli_env)
    assert validated.returncode == 2 and ":5:" in validated.stderr


def test_failing_benchmark_exits_3_with_its_output_in_the_report(tmp_path: Path, cli_env: dict[str, str]) -> None:
    project = busy_project(tmp_path)
    seed_embedded_store(project)
    result = run_cli("check", "--json", "out.json", cwd=project, env={**cli_env, "BUSY_FAIL": "5"})
    assert result.returncode == 3, result.stderr
    assert "exited with status 5" in result.stdout
    assert "about to fail" in result.stdout  # the tail, in the report
    assert json.loads((project / "out.json").read_text())["verdict"] == "error"
    validate_result(json.loads((project / "out.json").read_text()))


def test_mlflow_down_follows_policy_and_keeps_the_measurement(tmp_path: Path, cli_env: dict[str, str]) -> None:
    project = busy_project(tmp_path)
    env = {**cli_env, "MLFLOW_TRACKING_URI": f"http://127.0.0.1:{free_port()}", "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"}
    result = run_cli("check", "--json", "out.json", cwd=project, env=env)
    assert result.returncode == 0, result.stderr  # policy mlflow_unavailable: warn (the default)
    doc = json.loads((project / "out.json").read_text())
    assert doc["verdict"] == "warn"
    assert "policy mlflow_unavailable: warn decided" in " ".join(doc["benchmarks"][0]["notes"])
    (local,) = (project / ".green-gate" / "results").glob("check-*.json")
    kept = json.loads(local.read_text())
    assert kept["benchmarks"][0]["metrics"]["energy_j"] == doc["benchmarks"][0]["metrics"]["energy_j"] > 0

    strict = busy_project(tmp_path / "strict", "policy:\n  mlflow_unavailable: fail\n")
    assert run_cli("check", cwd=strict, env=env).returncode == 1


def test_embedded_store_by_default_and_github_actions_outputs(tmp_path: Path, cli_env: dict[str, str]) -> None:
    project = busy_project(tmp_path, "budgets:\n  energy_j: {fail: 0.000001}\n")
    summary, outputs = project / "summary.md", project / "outputs.txt"
    env = {
        **cli_env,
        "GITHUB_ACTIONS": "true",
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_OUTPUT": str(outputs),
        "GITHUB_REF_NAME": "main",
        "GITHUB_SHA": "c" * 40,
    }
    first = run_cli("check", cwd=project, env=env)
    assert first.returncode == 1  # the absolute budget of 1 µJ cannot be met
    assert (project / ".green-gate" / "mlflow.db").is_file()
    assert "::error file=green-budget.yml,line=13,title=green-gate fail::busy: energy_j" in first.stderr
    assert summary.read_text().startswith("## ❌ green-gate: energy budget exceeded")
    lines = outputs.read_text().splitlines()
    assert "verdict=fail" in lines
    assert any(line.startswith("energy_per_prediction_j=") for line in lines)
    assert f"report_path={project / '.green-gate' / 'report.md'}" in lines

    # Failed runs never become baselines: the next run still finds none.
    second = run_cli("check", "--json", "again.json", cwd=project, env=env)
    assert json.loads((project / "again.json").read_text())["benchmarks"][0]["baseline"] is None
    assert second.returncode == 1


def test_second_run_on_embedded_store_finds_the_baseline(tmp_path: Path, cli_env: dict[str, str]) -> None:
    project = busy_project(tmp_path)
    budget = project / "green-budget.yml"
    # Warn only: a loop this short varies by more than 5% from run to run, and a failed run would not
    # become the baseline the PR run is checked against. Warned runs are baselines like passed ones.
    budget.write_text(budget.read_text().replace("{warn: +2%, fail: +5%}", "{warn: +2%}"))
    first = run_cli("check", "--branch", "main", "--json", "1.json", cwd=project, env=cli_env)
    assert first.returncode == 0, first.stderr  # no baseline yet: policy missing_baseline: pass
    second = run_cli("check", "--branch", "main", "--json", "2.json", cwd=project, env=cli_env)
    assert second.returncode == 0, second.stderr
    first_doc = json.loads((project / "1.json").read_text())["benchmarks"][0]
    second_doc = json.loads((project / "2.json").read_text())["benchmarks"][0]
    assert first_doc["baseline"] is None
    assert second_doc["baseline"]["run_id"] == first_doc["mlflow_run_id"]
    # A PR run compares with its base branch's latest baseline and never becomes a baseline itself.
    pr_env = {
        **cli_env,
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(EVENTS / "pull_request.opened.json"),
    }
    pr_run = run_cli("check", "--base-branch", "main", "--json", "pr.json", cwd=project, env=pr_env)
    assert pr_run.returncode == 0, pr_run.stderr
    pr = json.loads((project / "pr.json").read_text())
    assert pr["context"]["pr_number"] == 2
    assert pr["benchmarks"][0]["baseline"]["run_id"] == second_doc["mlflow_run_id"]
    again = run_cli("check", "--base-branch", "main", "--json", "pr2.json", cwd=project, env=pr_env)
    assert again.returncode == 0, again.stderr
    pr2 = json.loads((project / "pr2.json").read_text())
    assert pr2["benchmarks"][0]["baseline"]["run_id"] == second_doc["mlflow_run_id"]
