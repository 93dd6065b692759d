"""The run that triggered a `workflow_run` job, from its webhook payload: what `green-gate judge`
checks the measuring job's artifact against.

GitHub fills `workflow_run.pull_requests` only for pull requests from the same repository; a fork's
is empty, so the pull request is then found from the artifact's claim and confirmed with GitHub
(its head must be this run's `head_sha`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gate.errors import ConfigError
from gate.files import read_regular, why_unreadable

MAX_EVENT_BYTES = 25 * 1024 * 1024  # GitHub caps webhook payloads at 25 MB


@dataclass(frozen=True)
class PullRef:
    number: int
    head_sha: str | None
    base_ref: str | None
    base_sha: str | None


@dataclass(frozen=True)
class TriggeringRun:
    run_id: str
    run_attempt: str | None
    head_sha: str
    head_branch: str | None
    event: str | None  # the event of the measuring run: `pull_request` for a PR
    conclusion: str | None
    html_url: str | None
    head_repository: str | None  # owner/name: another repository than `repository` for a fork
    repository: str | None
    pull_requests: tuple[PullRef, ...]

    @property
    def from_fork(self) -> bool:
        return bool(self.head_repository and self.repository and self.head_repository != self.repository)


def read(env: Mapping[str, str]) -> TriggeringRun:
    """The triggering run of this `workflow_run` job. Raises ConfigError (exit 2) outside one."""
    hint = "run `green-gate judge` in a job triggered by `on: workflow_run` (examples/workflows/judge-workflow-run.yml)"
    if env.get("GITHUB_EVENT_NAME") != "workflow_run":
        raise ConfigError(f"not a workflow_run job (GITHUB_EVENT_NAME={env.get('GITHUB_EVENT_NAME')!r})", hint=hint)
    path = env.get("GITHUB_EVENT_PATH")
    if not path:
        raise ConfigError("GITHUB_EVENT_PATH is not set: no event payload to read", hint=hint)
    try:
        payload = json.loads(read_regular(Path(path), MAX_EVENT_BYTES).decode("utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read the event payload: {why_unreadable(exc)}", file=path, hint=hint) from None
    except (ValueError, RecursionError) as exc:
        raise ConfigError(f"the event payload is not JSON: {str(exc)[:200]}", file=path, hint=hint) from None
    return parse(payload, path)


def parse(payload: Any, where: str = "the event payload") -> TriggeringRun:
    run = payload.get("workflow_run") if isinstance(payload, dict) else None
    if not isinstance(run, dict):
        raise ConfigError("the event payload has no workflow_run object", file=where)
    run_id, head_sha = run.get("id"), run.get("head_sha")
    if type(run_id) is not int or not isinstance(head_sha, str) or not head_sha:
        raise ConfigError("the event payload's workflow_run has no id or head_sha", file=where)
    listed = run.get("pull_requests")
    pulls: list[Any] = listed if isinstance(listed, list) else []
    attempt = run.get("run_attempt")
    return TriggeringRun(
        run_id=str(run_id),
        run_attempt=str(attempt) if type(attempt) is int else None,
        head_sha=head_sha,
        head_branch=_str(run.get("head_branch")),
        event=_str(run.get("event")),
        conclusion=_str(run.get("conclusion")),
        html_url=_str(run.get("html_url")),
        head_repository=_str(_get(run, "head_repository", "full_name")),
        repository=_str(_get(run, "repository", "full_name")),
        pull_requests=tuple(
            PullRef(
                p["number"], _str(_get(p, "head", "sha")), _str(_get(p, "base", "ref")), _str(_get(p, "base", "sha"))
            )
            for p in pulls
            if isinstance(p, dict) and type(p.get("number")) is int and p["number"] > 0
        ),
    )


def _get(data: Any, *keys: str) -> Any:
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
