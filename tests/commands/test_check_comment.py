"""`green-gate check --comment` end to end: a real benchmark, the contract-checking GitHub server,
the real `pull_request` payloads as GITHUB_EVENT_PATH, the embedded MLflow store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fakes.github_server import EVENTS, FakeGitHub
from tests.support.cli import busy_project, run_cli
from tests.support.github import REPO, fork_event
from tests.support.mlflow import seed_embedded_store

pytestmark = pytest.mark.slow


def env_for(project: Path, gh: FakeGitHub, cli_env: dict[str, str], event: Path) -> dict[str, str]:
    return {
        **cli_env,
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_TOKEN": "ghs_e2e",
        "GITHUB_API_URL": gh.api_url,
        "GITHUB_STEP_SUMMARY": str(project / "summary.md"),
        "GREEN_GATE_COMMENT": "true",
    }


@pytest.mark.parametrize("github", ["/api/v3"], indirect=True)
def test_check_comments_then_edits_the_same_comment(
    tmp_path: Path, github: FakeGitHub, cli_env: dict[str, str]
) -> None:
    project = busy_project(tmp_path)
    seed_embedded_store(project)
    first = run_cli("check", cwd=project, env=env_for(project, github, cli_env, EVENTS / "pull_request.opened.json"))
    assert first.returncode == 0, first.stderr
    second = run_cli(
        "check",
        "--check-run",
        cwd=project,
        env=env_for(project, github, cli_env, EVENTS / "pull_request.synchronize.json"),
    )
    assert second.returncode == 0, second.stderr
    (comment,) = github.comments[2]
    assert comment["body"].startswith("<!-- green-gate:sticky ") and "### ✅ pass · busy" in comment["body"]
    assert "PR comment: created" in first.stderr and "PR comment: updated" in second.stderr
    assert github.check_runs[0]["conclusion"] == "success"
    assert "::add-mask::ghs_e2e" in first.stderr


@pytest.mark.parametrize("github", [""], indirect=True)
def test_fork_run_ends_green_with_the_summary(tmp_path: Path, github: FakeGitHub, cli_env: dict[str, str]) -> None:
    project = busy_project(tmp_path)
    seed_embedded_store(project)
    event = tmp_path / "fork.json"
    event.write_text(json.dumps(fork_event()))
    result = run_cli("check", "--json", "r.json", cwd=project, env=env_for(project, github, cli_env, event))
    assert result.returncode == 0, result.stderr
    assert github.log == [] and "Traceback" not in result.stderr
    summary = (project / "summary.md").read_text()
    assert summary.startswith("## ✅ green-gate") and "did not comment on PR #2" in summary
    assert json.loads((project / "r.json").read_text())["verdict"] == "pass"


@pytest.mark.parametrize("github", [""], indirect=True)
def test_check_merges_other_jobs_results_into_its_comment(
    tmp_path: Path, github: FakeGitHub, cli_env: dict[str, str]
) -> None:
    from gate.output.result import write_json
    from tests.support.documents import L4, leg_document, measured

    project = busy_project(tmp_path)
    seed_embedded_store(project)
    event = json.loads((EVENTS / "pull_request.opened.json").read_text())
    other = leg_document("gpu-l4", L4, [measured("resnet50-inference", 130.0, 120.0)])  # over its fail limit
    other["context"].update(commit=event["pull_request"]["head"]["sha"], pr_number=2, repository=REPO)
    write_json(tmp_path / "artifacts" / "green-gate-gpu-l4" / "green-gate.json", other)
    env = {**env_for(project, github, cli_env, EVENTS / "pull_request.opened.json"), "GREEN_GATE_LEG": "cpu"}
    args = ["check", "--result", str(tmp_path / "artifacts"), "--expect", "cpu,gpu-l4", "--check-run"]
    result = run_cli(*args, cwd=project, env=env)
    assert result.returncode == 1, result.stderr  # this job passed; the merged verdict is the L4 leg's fail
    assert not github.violations
    (comment,) = github.comments[2]
    assert "**2 of 2 jobs reported**" in comment["body"]
    assert (
        "### ❌ fail · resnet50-inference · gpu-l4" in comment["body"] and "### ✅ pass · busy · cpu" in comment["body"]
    )
    (check_run,) = github.check_runs
    assert check_run["conclusion"] == "failure"
