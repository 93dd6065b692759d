"""`green-gate check --comment` end to end: a real benchmark, the contract-checking GitHub server,
the real `pull_request` payloads as GITHUB_EVENT_PATH, the embedded MLflow store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fakes.github_server import EVENTS, FakeGitHub
from tests.support.cli import busy_project, run_cli
from tests.support.github import REPO, fork_event

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
    event = tmp_path / "fork.json"
    event.write_text(json.dumps(fork_event()))
    result = run_cli("check", "--json", "r.json", cwd=project, env=env_for(project, github, cli_env, event))
    assert result.returncode == 0, result.stderr
    assert github.log == [] and "Traceback" not in result.stderr
    summary = (project / "summary.md").read_text()
    assert summary.startswith("## ✅ green-gate") and "did not comment on PR #2" in summary
    assert json.loads((project / "r.json").read_text())["verdict"] == "pass"
