"""`green-gate judge` refuses a measurement that is not the triggering run's, before it asks MLflow
anything or posts anything; against the contract-checking GitHub and GitHub's real payloads."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from gate.commands.judge import JudgeOptions, run
from gate.output import measurement
from tests.fakes.github_server import EVENTS, FakeGitHub
from tests.output.test_measurement import artifact
from tests.support.github import HEAD_SHA, REPO

RUN_ID = 289782451  # the real payload's


def setup(
    tmp_path: Path, gh: FakeGitHub, *, run_id: str = str(RUN_ID), pr: int | None = 2, event: str = "pull_request"
) -> tuple[JudgeOptions, dict[str, str]]:
    payload: dict[str, Any] = json.loads((EVENTS / "workflow_run.completed.json").read_text())
    payload["workflow_run"].update(head_sha=HEAD_SHA, event=event)
    payload["workflow_run"]["repository"]["full_name"] = REPO
    (tmp_path / "event.json").write_text(json.dumps(payload))
    written = artifact()
    written = replace(
        written, provenance=replace(written.provenance, run_id=run_id, head_sha=HEAD_SHA, repository=REPO, pr_number=pr)
    )
    measurement.write(tmp_path / "artifact", written)
    (tmp_path / "green-budget.yml").write_text(
        "version: 1\nbenchmarks:\n  - name: infer\n    command: python b.py\n"
        "limits:\n  energy_per_prediction_j: {warn: +2%, fail: +5%}\n"
    )
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": "workflow_run",
        "GITHUB_EVENT_PATH": str(tmp_path / "event.json"),
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_TOKEN": "ghs_judge",
        "GITHUB_API_URL": gh.api_url,
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "GITHUB_OUTPUT": str(tmp_path / "output.txt"),
    }
    return JudgeOptions(tmp_path / "artifact", tmp_path / "green-budget.yml"), env


def judge(tmp_path: Path, opts: JudgeOptions, env: dict[str, str]) -> tuple[int, str]:
    logs: list[str] = []
    code = run(opts, env=env, cwd=tmp_path, log=logs.append)
    return code, "\n".join(logs)


def nothing_posted(gh: FakeGitHub) -> bool:
    return not gh.comments and not gh.check_runs


def test_an_artifact_of_another_run_is_refused(tmp_path: Path, github: FakeGitHub) -> None:
    github.add_pull(2, HEAD_SHA)
    opts, env = setup(tmp_path, github, run_id="1")
    code, log = judge(tmp_path, opts, env)
    assert code == 2 and "does not belong to the run that triggered" in log and "run id" in log
    assert nothing_posted(github) and github.log == []
    assert "verdict=error" in (tmp_path / "output.txt").read_text()


def test_a_pr_whose_head_moved_on_is_not_judged(tmp_path: Path, github: FakeGitHub) -> None:
    github.add_pull(2, "f" * 40)
    opts, env = setup(tmp_path, github)
    code, log = judge(tmp_path, opts, env)
    assert code == 2 and "PR #2's head is ffffffffffff" in log and nothing_posted(github)


def test_a_forks_run_with_no_pr_named_anywhere(tmp_path: Path, github: FakeGitHub) -> None:
    opts, env = setup(tmp_path, github, pr=None)
    code, log = judge(tmp_path, opts, env)
    assert code == 2 and "names a pull request" in log and github.log == []


def test_a_push_run_is_not_judged(tmp_path: Path, github: FakeGitHub) -> None:
    opts, env = setup(tmp_path, github, event="push")
    code, log = judge(tmp_path, opts, env)
    assert code == 2 and "not a pull request's" in log


def test_without_a_token_it_says_what_the_job_needs(tmp_path: Path, github: FakeGitHub) -> None:
    opts, env = setup(tmp_path, github)
    del env["GITHUB_TOKEN"]
    code, log = judge(tmp_path, opts, env)
    assert code == 2 and "pull-requests: write" in log


def test_outside_a_workflow_run_job(tmp_path: Path, github: FakeGitHub) -> None:
    opts, env = setup(tmp_path, github)
    env["GITHUB_EVENT_NAME"] = "pull_request"
    code, log = judge(tmp_path, opts, env)
    assert code == 2 and "not a workflow_run job" in log


@pytest.mark.parametrize("field", ["head_sha", "repository"])
def test_each_provenance_field_is_checked(tmp_path: Path, github: FakeGitHub, field: str) -> None:
    github.add_pull(2, HEAD_SHA)
    opts, env = setup(tmp_path, github)
    written = measurement.load(opts.artifact_dir)
    changed: dict[str, Any] = {field: "other"}
    measurement.write(opts.artifact_dir, replace(written, provenance=replace(written.provenance, **changed)))
    code, log = judge(tmp_path, opts, env)
    assert code == 2 and "does not belong" in log and nothing_posted(github)
