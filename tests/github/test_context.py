"""Where a run comes from, read from GitHub's real event payloads or from git."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from gate.errors import ConfigError
from gate.github.context import CiContext, detect

EVENTS = Path(__file__).resolve().parents[1] / "data" / "events"


def github_env(event: str, name: str, **extra: str) -> dict[str, str]:
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": event,
        "GITHUB_EVENT_PATH": str(EVENTS / name),
        "GITHUB_REPOSITORY": "Codertocat/Hello-World",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_RUN_ID": "42",
        **extra,
    }


def test_pull_request_uses_head_commit_and_base_branch(tmp_path: Path) -> None:
    payload = json.loads((EVENTS / "pull_request.opened.json").read_text())
    env = github_env(
        "pull_request", "pull_request.opened.json", GITHUB_SHA="merge-commit-sha", GITHUB_REF_NAME="2/merge"
    )
    ctx = detect(env, tmp_path)
    assert ctx.is_pull_request and ctx.pr_number == payload["pull_request"]["number"] == 2
    assert ctx.commit == payload["pull_request"]["head"]["sha"] != "merge-commit-sha"
    assert (ctx.branch, ctx.base_branch) == ("changes", "master")
    assert ctx.base_commit == payload["pull_request"]["base"]["sha"]  # what paired mode checks out
    assert ctx.run_url == "https://github.com/Codertocat/Hello-World/actions/runs/42"


def test_synchronize_event_is_a_pull_request_too(tmp_path: Path) -> None:
    ctx = detect(github_env("pull_request", "pull_request.synchronize.json"), tmp_path)
    assert ctx.pr_number == 2 and ctx.base_branch == "master"


def test_push_to_default_branch(tmp_path: Path) -> None:
    payload = json.loads((EVENTS / "push.default-branch.json").read_text())
    env = github_env(
        "push",
        "push.default-branch.json",
        GITHUB_SHA=payload["after"],
        GITHUB_REF_NAME="master",
        GITHUB_REF_TYPE="branch",
    )
    ctx = detect(env, tmp_path)
    assert not ctx.is_pull_request
    assert (ctx.commit, ctx.branch, ctx.base_branch) == (payload["after"], "master", None)


def test_tag_push_has_no_branch(tmp_path: Path) -> None:
    env = github_env(
        "push", "push.default-branch.json", GITHUB_SHA="abc", GITHUB_REF_NAME="v1.0", GITHUB_REF_TYPE="tag"
    )
    assert detect(env, tmp_path).branch is None


def test_outside_ci_reads_git(tmp_path: Path) -> None:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True, text=True).stdout.strip()

    git("init", "-q", "-b", "feature/x")
    git("-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-q", "--allow-empty", "-m", "init")
    ctx = detect({}, tmp_path)
    assert ctx.branch == "feature/x" and ctx.commit == git("rev-parse", "HEAD")
    assert ctx.pr_number is None and ctx.repository is None
    git("checkout", "-q", "--detach")
    assert detect({}, tmp_path).branch is None


def test_outside_a_repository(tmp_path: Path) -> None:
    ctx = detect({}, tmp_path)
    assert ctx.commit is None and ctx.branch is None


def _ctx(**kwargs: object) -> CiContext:
    base: dict[str, object] = {
        "commit": "a" * 40,
        "branch": "main",
        "base_branch": None,
        "pr_number": None,
        "repository": None,
        "event_name": None,
        "run_url": None,
    }
    return CiContext(**{**base, **kwargs})  # type: ignore[arg-type]


def test_a_run_naming_a_base_branch_is_pr_like_and_never_a_baseline() -> None:
    ctx = _ctx(branch="feature", base_branch="main")  # `--base-branch main` outside Actions
    assert ctx.is_pull_request
    assert not ctx.may_become_baseline


def test_a_deletion_push_or_a_run_without_a_branch_never_becomes_a_baseline() -> None:
    assert not _ctx(commit="0" * 40).may_become_baseline  # a branch or tag deleted
    assert not _ctx(branch=None).may_become_baseline
    assert not _ctx(commit="0" * 40, branch=None).may_become_baseline
    assert _ctx(commit=None).may_become_baseline  # outside a git checkout: no commit, still a branch's run
    assert _ctx().may_become_baseline


def _repo(path: Path, branch: str) -> Path:
    path.mkdir()
    for args in (
        ("init", "-q", "-b", branch),
        ("-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-q", "--allow-empty", "-m", "x"),
    ):
        subprocess.run(["git", *args], cwd=path, check=True, capture_output=True)
    return path


def test_default_branch_of_a_repository_without_remote_is_main_when_it_exists(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo", "main")
    subprocess.run(["git", "checkout", "-q", "-b", "feature/more-trees"], cwd=repo, check=True)
    ctx = detect({}, repo)
    assert (ctx.branch, ctx.default_branch) == ("feature/more-trees", "main")


def test_default_branch_is_origin_head_where_the_clone_has_one(tmp_path: Path) -> None:
    origin = _repo(tmp_path / "origin", "trunk")
    subprocess.run(["git", "clone", "-q", str(origin), str(tmp_path / "clone")], check=True, capture_output=True)
    subprocess.run(["git", "checkout", "-q", "-b", "main"], cwd=tmp_path / "clone", check=True)
    assert detect({}, tmp_path / "clone").default_branch == "trunk"  # origin/HEAD wins over a local main


def test_default_branch_is_unknown_without_main_master_or_origin(tmp_path: Path) -> None:
    assert detect({}, _repo(tmp_path / "repo", "dev")).default_branch is None
    assert detect({}, tmp_path).default_branch is None  # not a repository


def test_default_branch_in_actions_comes_from_the_payload(tmp_path: Path) -> None:
    payload = json.loads((EVENTS / "push.default-branch.json").read_text())
    env = github_env("push", "push.default-branch.json", GITHUB_REF_NAME="feature", GITHUB_REF_TYPE="branch")
    assert detect(env, tmp_path).default_branch == payload["repository"]["default_branch"]


def test_the_job_leg_runner_and_node_are_in_the_context(tmp_path: Path) -> None:
    env = {
        **github_env("pull_request", "pull_request.opened.json"),
        "GITHUB_JOB": "energy",
        "GREEN_GATE_LEG": "gpu-l4",
        "RUNNER_NAME": "l4-runner-3",
        "GREEN_GATE_NODE_GROUP": "slurm-8812",
        "SLURM_NODEID": "1",
        "SLURM_NNODES": "2",
    }
    data = detect(env, tmp_path).to_dict()
    assert {k: data[k] for k in ("job", "leg", "runner", "node_group", "node_rank", "node_count")} == {
        "job": "energy",
        "leg": "gpu-l4",
        "runner": "l4-runner-3",
        "node_group": "slurm-8812",
        "node_rank": 1,
        "node_count": 2,
    }
    env["GROUP_RANK"] = "0"  # torchrun's node rank comes before Slurm's
    assert detect(env, tmp_path).node_rank == 0


def test_a_run_outside_a_matrix_names_no_job(tmp_path: Path) -> None:
    data = detect({"SLURM_NODEID": "1"}, tmp_path).to_dict()  # no node group: not one node of a run
    assert not {"job", "leg", "runner", "node_group", "node_rank", "node_count"} & set(data)


def _payload_env(tmp_path: Path, content: str | None) -> dict[str, str]:
    path = tmp_path / "event.json"
    if content is not None:
        path.write_text(content)
    return github_env("pull_request", "x", GITHUB_EVENT_PATH=str(path), GITHUB_SHA="m" * 40, GITHUB_REF_NAME="7/merge")


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (None, "cannot be read"),
        ("[1, 2]", "is a JSON list, not an object"),
        ("{not json", "is not JSON"),
        ('{"action": "opened"}', "holds no pull_request object"),
    ],
)
def test_a_pull_request_whose_payload_cannot_be_read_is_an_error_not_a_push(
    tmp_path: Path, content: str | None, words: str
) -> None:
    with pytest.raises(ConfigError, match=words):
        detect(_payload_env(tmp_path, content), tmp_path)


def test_a_payload_giving_number_twice_is_refused(tmp_path: Path) -> None:
    payload = (EVENTS / "pull_request.opened.json").read_text()
    twice = payload.replace('"number": 2,', '"number": 2, "number": 3,', 1)
    assert twice != payload
    with pytest.raises(ConfigError, match="gives the key 'number' twice"):
        detect(_payload_env(tmp_path, twice), tmp_path)


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_a_fifo_or_device_as_the_payload_does_not_block(tmp_path: Path, kind: str) -> None:
    env = _payload_env(tmp_path, None)
    if kind == "fifo":
        os.mkfifo(env["GITHUB_EVENT_PATH"])
    else:
        env["GITHUB_EVENT_PATH"] = "/dev/zero"
    with pytest.raises(ConfigError, match="not a regular file"):
        detect(env, tmp_path)
