"""The triggering run of a `workflow_run` job, read from GitHub's real payloads (tests/data/events/)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from gate.errors import ConfigError
from gate.github import workflow_run
from tests.fakes.github_server import EVENTS


def env_for(path: Path) -> dict[str, str]:
    return {"GITHUB_EVENT_NAME": "workflow_run", "GITHUB_EVENT_PATH": str(path)}


def test_the_real_completed_payload() -> None:
    run = workflow_run.read(env_for(EVENTS / "workflow_run.completed.json"))
    assert run.run_id == "289782451" and run.run_attempt == "1"
    assert run.head_sha == "3484a3fb816e0859fd6e1cea078d76385ff50625" and run.head_branch == "master"
    assert run.event == "repository_dispatch" and run.conclusion == "success"
    assert run.html_url == "https://github.com/octo-org/octo-repo/actions/runs/289782451"
    assert run.pull_requests == () and not run.from_fork


def test_the_real_payload_with_pull_requests() -> None:
    run = workflow_run.read(env_for(EVENTS / "workflow_run.completed.with-pull-requests.json"))
    [pull] = run.pull_requests
    assert pull == workflow_run.PullRef(
        2, "ec26c3e57ca3a959ca5aad62de7213c562f8c821", "master", "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"
    )


def test_a_forks_run_is_told_apart(tmp_path: Path) -> None:
    event = json.loads((EVENTS / "workflow_run.completed.json").read_text())
    event["workflow_run"]["head_repository"]["full_name"] = "forker/octo-repo"
    (tmp_path / "e.json").write_text(json.dumps(event))
    assert workflow_run.read(env_for(tmp_path / "e.json")).from_fork


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[1, 2]", "no workflow_run object"),
        ('{"workflow_run": {"id": "1", "head_sha": "abc"}}', "no id or head_sha"),
        ("{not json", "not JSON"),
    ],
)
def test_a_bad_payload_is_a_clear_error(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "e.json").write_text(content)
    with pytest.raises(ConfigError, match=message):
        workflow_run.read(env_for(tmp_path / "e.json"))


def test_a_fifo_as_the_payload_does_not_block(tmp_path: Path) -> None:
    fifo = tmp_path / "event.fifo"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match="not a regular file"):
        workflow_run.read(env_for(fifo))


def test_outside_a_workflow_run_job() -> None:
    with pytest.raises(ConfigError, match="not a workflow_run job"):
        workflow_run.read({"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": "x"})
