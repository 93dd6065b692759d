"""Where this run comes from: commit, branch, PR and base branch, from GitHub's env or from git.

MLflow's own git context reads the script's repository and finds no branch on a detached HEAD (every
PR checkout), so the gate works these out itself.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from gate.errors import ConfigError
from gate.files import read_regular, why_unreadable
from gate.git import output as git_output


@dataclass(frozen=True)
class CiContext:
    commit: str | None
    branch: str | None
    base_branch: str | None  # the PR's target; None outside a PR
    pr_number: int | None
    repository: str | None  # owner/name
    event_name: str | None
    run_url: str | None
    base_commit: str | None = None  # the PR base's SHA (paired mode checks it out)
    default_branch: str | None = None  # the repository's default branch; None where nothing tells it
    # Which job of a matrix ran this, so a fan-in of many results can say what ran where
    job: str | None = None  # the workflow's job id (GITHUB_JOB: the same for every leg of a matrix)
    leg: str | None = None  # the matrix leg's name (GREEN_GATE_LEG), what `comment --expect` lists
    runner: str | None = None  # the runner's name (RUNNER_NAME)
    # One node of a benchmark spanning several machines: the run's id, this node's rank, how many nodes
    node_group: str | None = None
    node_rank: int | None = None
    node_count: int | None = None

    @property
    def is_pull_request(self) -> bool:
        """A PR, or a PR-like run: one that names the branch it is compared against."""
        return self.pr_number is not None or self.base_branch is not None

    @property
    def may_become_baseline(self) -> bool:
        """A run of a branch itself: never a PR's, nor a deletion push's (its commit is all zeros and it
        names no branch). A run outside a git checkout has no commit and may still be one."""
        deletion = self.commit is not None and not self.commit.strip("0")
        return not self.is_pull_request and bool(self.branch) and not deletion

    def to_dict(self) -> dict[str, Any]:
        """Its fields; those naming the job, runner and node only when known (most runs have none)."""
        return {k: v for k, v in asdict(self).items() if v is not None or k not in IDENTITY_FIELDS}


IDENTITY_FIELDS = ("job", "leg", "runner", "node_group", "node_rank", "node_count")
LEG_ENV = "GREEN_GATE_LEG"
NODE_GROUP_ENV = "GREEN_GATE_NODE_GROUP"  # the multi-node run this node belongs to (e.g. SLURM_JOB_ID)
NODE_RANK_ENVS = ("GREEN_GATE_NODE_RANK", "GROUP_RANK", "SLURM_NODEID")  # ours, torchrun's, Slurm's
NODE_COUNT_ENVS = ("GREEN_GATE_NODES", "SLURM_NNODES")


def detect(env: Mapping[str, str], cwd: Path) -> CiContext:
    return replace(_detect(env, cwd), **identity(env))


def identity(env: Mapping[str, str]) -> dict[str, Any]:
    """Which job, matrix leg, runner and node ran this: what tells the results of one fan-in apart."""
    group = env.get(NODE_GROUP_ENV) or None
    return {
        "job": env.get("GITHUB_JOB") or None,
        "leg": env.get(LEG_ENV) or None,
        "runner": env.get("RUNNER_NAME") or None,
        "node_group": group,
        "node_rank": _first_int(env, NODE_RANK_ENVS) if group else None,
        "node_count": _first_int(env, NODE_COUNT_ENVS) if group else None,
    }


def _first_int(env: Mapping[str, str], names: tuple[str, ...]) -> int | None:
    for name in names:
        value = (env.get(name) or "").strip()
        if value.isdigit():
            return int(value)
    return None


def _detect(env: Mapping[str, str], cwd: Path) -> CiContext:
    if env.get("GITHUB_ACTIONS") == "true":
        return _from_github(env, cwd)
    return CiContext(
        commit=git_output(cwd, "rev-parse", "HEAD"),
        branch=_git_branch(cwd),
        base_branch=None,
        pr_number=None,
        repository=None,
        event_name=None,
        run_url=None,
        default_branch=default_branch(cwd),
    )


PULL_REQUEST_EVENTS = ("pull_request", "pull_request_target")


def _from_github(env: Mapping[str, str], cwd: Path) -> CiContext:
    event_name = env.get("GITHUB_EVENT_NAME")
    event, problem = read_event(env.get("GITHUB_EVENT_PATH"))
    pull = event.get("pull_request") if isinstance(event.get("pull_request"), dict) else None
    if pull is not None and _pr_number(pull.get("number")) is None and not _dig(pull, "base", "ref"):
        problem, pull = "holds a pull_request with neither a number nor a base branch", None
    if event_name in PULL_REQUEST_EVENTS and pull is None:
        # Taken for a push, the run would be recorded as a baseline of the merge ref ("7/merge").
        raise ConfigError(
            f"GITHUB_EVENT_NAME is {event_name}, but its event payload "
            f"({env.get('GITHUB_EVENT_PATH') or 'GITHUB_EVENT_PATH not set'}) "
            f"{problem or 'holds no pull_request object'}",
            hint="run the gate in the step GitHub started, with its GITHUB_EVENT_PATH; do not set "
            "GITHUB_EVENT_NAME yourself",
        )
    run_url = None
    if env.get("GITHUB_SERVER_URL") and env.get("GITHUB_REPOSITORY") and env.get("GITHUB_RUN_ID"):
        run_url = f"{env['GITHUB_SERVER_URL']}/{env['GITHUB_REPOSITORY']}/actions/runs/{env['GITHUB_RUN_ID']}"
    if pull is not None:
        # GITHUB_SHA is the synthetic merge commit on pull_request events; the head commit is what changed.
        return CiContext(
            commit=_dig(pull, "head", "sha") or env.get("GITHUB_SHA"),
            branch=_dig(pull, "head", "ref") or env.get("GITHUB_HEAD_REF"),
            base_branch=_dig(pull, "base", "ref") or env.get("GITHUB_BASE_REF"),
            pr_number=_pr_number(pull.get("number")),
            repository=env.get("GITHUB_REPOSITORY"),
            event_name=event_name,
            run_url=run_url,
            base_commit=_dig(pull, "base", "sha"),
            default_branch=_dig(event, "repository", "default_branch") or default_branch(cwd),
        )
    return CiContext(
        commit=env.get("GITHUB_SHA") or git_output(cwd, "rev-parse", "HEAD"),
        branch=env.get("GITHUB_REF_NAME") if env.get("GITHUB_REF_TYPE", "branch") == "branch" else None,
        base_branch=None,
        pr_number=None,
        repository=env.get("GITHUB_REPOSITORY"),
        event_name=event_name,
        run_url=run_url,
        default_branch=_dig(event, "repository", "default_branch") or default_branch(cwd),
    )


MAX_EVENT_BYTES = 25 * 1024 * 1024  # GitHub caps webhook payloads at 25 MB


def _read_event(path: str | None) -> dict[str, Any]:
    return read_event(path)[0]


def read_event(path: str | None) -> tuple[dict[str, Any], str | None]:
    """The payload at `path` as an object, and what was wrong when it is not one ({} then). A regular
    file only, read without blocking (a FIFO or /dev/zero would hang); a key given twice (two
    `number`s: which PR?) makes it no payload at all, as GitHub never sends one."""
    if not path:
        return {}, "is not given"
    try:
        data = json.loads(read_regular(Path(path), MAX_EVENT_BYTES).decode("utf-8"), object_pairs_hook=_once)
    except _TwiceGiven as exc:
        return {}, f"gives the key {exc.args[0]!r} twice"
    except OSError as exc:
        return {}, f"cannot be read: {why_unreadable(exc)}"
    except (ValueError, RecursionError):  # RecursionError: nesting too deep to parse
        return {}, "is not JSON"
    if not isinstance(data, dict):
        return {}, f"is a JSON {type(data).__name__}, not an object"
    return data, None


class _TwiceGiven(ValueError):
    pass


def _once(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _TwiceGiven(key[:100])
        out[key] = value
    return out


MAX_PR_NUMBER = 2**31 - 1  # GitHub's issue numbers are positive 32-bit integers


def _pr_number(value: Any) -> int | None:
    """A pull request's number, when the payload's is one (a bool, 0, a negative or an absurd number is not)."""
    return value if type(value) is int and 1 <= value <= MAX_PR_NUMBER else None


def _dig(data: dict[str, Any], *keys: str) -> str | None:
    value: Any = data
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value if isinstance(value, str) and value else None


def _git_branch(cwd: Path) -> str | None:
    return git_output(cwd, "symbolic-ref", "--short", "-q", "HEAD")  # None on a detached HEAD or outside a repository


DEFAULT_BRANCH_NAMES = ("main", "master")  # what `git init` and the forges call it, when nothing says


def default_branch(cwd: Path) -> str | None:
    """The repository's default branch: what `origin/HEAD` points at, else `main` or `master` where one
    of them exists (locally or on origin); None outside a repository or when neither exists."""
    head = git_output(cwd, "symbolic-ref", "--short", "-q", "refs/remotes/origin/HEAD")
    if head and head.startswith("origin/") and head != "origin/HEAD":
        return head.removeprefix("origin/")
    for name in DEFAULT_BRANCH_NAMES:
        for ref in (f"refs/heads/{name}", f"refs/remotes/origin/{name}"):
            if git_output(cwd, "rev-parse", "--verify", "-q", ref) is not None:
                return name
    return None


def event_payload(env: Mapping[str, str]) -> dict[str, Any]:
    """The webhook payload of the running workflow (`GITHUB_EVENT_PATH`), or {} outside Actions."""
    return _read_event(env.get("GITHUB_EVENT_PATH"))


def remote_url(cwd: Path) -> str | None:
    """The `origin` remote's URL (may carry credentials: parse it, never print it)."""
    return git_output(cwd, "remote", "get-url", "origin")


def commits_in_range(cwd: Path, revision_range: str) -> list[tuple[str, int]] | None:
    """(full SHA, committer time in s) of `git log A..B` (or any git revision range); None if git fails."""
    if revision_range.startswith("-"):
        return None  # never let a range be read as an option
    ends = [part for part in revision_range.replace("...", "..").split("..") if part] or ["HEAD"]
    if any(git_output(cwd, "rev-parse", "--verify", "-q", f"{end}^{{commit}}") is None for end in ends):
        return None
    out = git_output(cwd, "log", "--format=%H %ct", revision_range, "--")
    if out is None:
        return []
    commits = []
    for line in out.splitlines():
        sha, _, stamp = line.partition(" ")
        if sha and stamp.isdigit():
            commits.append((sha, int(stamp)))
    return commits
