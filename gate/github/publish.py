"""Publishing a result on GitHub: the sticky PR comment (and optionally a check run).

Used by `green-gate check --comment` and by `green-gate comment --result`.

The rule, in one place: posting never changes what the check decided. The result file and report are
written before anything here runs; a read-only token (fork PRs) degrades to the job summary with a
notice and exit 0; GitHub being down is a warning for `check` and exit 4 for `comment` (whose only
job is posting). A broken user template is a configuration error (exit 2) for both.

The comment is rendered from the result with its secrets redacted (gate.secrets): the body is public
on the PR, and Markdown escaping would hide a value from redacting the rendered text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from gate.errors import GitHubError
from gate.github import actions
from gate.github import context as ci
from gate.output import comment as pr_comment
from gate.output import markdown, report
from gate.secrets import Secrets

if TYPE_CHECKING:
    from gate.github.api import GitHubApi  # requests, imported on use

COMMENT_ENV = "GREEN_GATE_COMMENT"  # "true": `check` posts the comment (same as --comment)
CHECK_RUN_ENV = "GREEN_GATE_CHECK_RUN"  # "true": also create a check run with the verdict
TEMPLATE = "pr_comment.md.j2"
CHECK_RUN_NAME = "green-gate"
CONCLUSION = {"pass": "success", "warn": "neutral", "fail": "failure", "error": "failure"}
FORK_NOTICE = (
    "green-gate did not comment on PR #{pr}: {why}. The result is below. To get the comment on pull requests "
    "from forks, post it from a `workflow_run` job with `green-gate comment --result` (see docs/pr-comments.md)."
)

# In a `workflow_run` job the advice above is what the user already does: say what the job lacks.
WORKFLOW_RUN_NOTICE = (
    "green-gate did not comment on PR #{pr}: {why}. The result is below. This `workflow_run` job needs "
    "`permissions: pull-requests: write` (and `checks: write` for the check run) and `GITHUB_TOKEN: "
    "${{{{ github.token }}}}` in the step's env (see docs/pr-comments.md)."
)

Status = Literal["created", "updated", "skipped", "degraded", "failed"]


@dataclass(frozen=True)
class Published:
    status: Status
    message: str
    url: str | None = None


def enabled(env: Mapping[str, str], flag: bool) -> bool:
    return flag or _truthy(env.get(COMMENT_ENV))


def enabled_check_run(env: Mapping[str, str]) -> bool:
    return _truthy(env.get(CHECK_RUN_ENV))


def render_body(document: dict[str, Any], template_path: Path | None, *, report_url: str | None = None) -> str:
    """The comment: hidden marker, the rendered template, cut to GitHub's limit with a pointer to
    `report_url` (where the whole report is; None: the result's own run)."""
    from gate.github.api import COMMENT_LIMIT_CHARS

    if template_path is not None:
        text = report.render_user_template(document, template_path)
    else:
        text = report.render(document, TEMPLATE)
    key = pr_comment.sticky_key(document.get("budget_file"), _sticky_names(document))
    run_url = markdown.url(report_url or document["context"].get("run_url"))
    where = f"the [job summary]({run_url})" if run_url else "the job summary and the report file (`--report-file`)"
    pointer = f"**Cut to fit GitHub's comment size limit.** The full report is in {where}."
    return pr_comment.fit(pr_comment.with_marker(key, text), COMMENT_LIMIT_CHARS, pointer)


def _sticky_names(document: dict[str, Any]) -> list[str]:
    """What the sticky comment is found again by: the benchmark names, or a fan-in's legs (the expected
    ones where named, so a leg that did not report this time edits the same comment)."""
    fanin = document.get("fanin")
    if isinstance(fanin, dict):
        return [f"leg:{leg}" for leg in (fanin.get("expected") or fanin.get("reported") or [])]
    return [str(b["name"]) for b in document["benchmarks"]]


def current_run_url(env: Mapping[str, str]) -> str | None:
    """This workflow run's page (its job summaries, its artifacts), from the Actions environment."""
    parts = [env.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")]
    if not all(parts):
        return None
    server, repository, run_id = parts
    return f"{server}/{repository}/actions/runs/{run_id}"


def post(
    document: dict[str, Any],
    env: Mapping[str, str],
    *,
    template_path: Path | None,
    check_run: bool,
    log: Callable[[str], None],
    summary_has_report: bool = False,
    api: GitHubApi | None = None,
    secrets: Secrets | None = None,
) -> Published:
    """Post (create or edit) the sticky comment for `document`; never raises for GitHub trouble.

    When it cannot post, a notice goes to the job summary, followed by the comment unless
    `summary_has_report` (the `check` hook: the report is already there). `secrets`: the check's
    (None: those of `env`, which are then masked in the log first).
    """
    if secrets is None:
        secrets = Secrets.from_env(env)
        if actions.in_actions(env):
            actions.add_masks(secrets.mask_values())
    document = secrets.redact_data(document)
    # A fan-in's whole report is in this run's job summary; one result's, in the run that made it.
    report_url = current_run_url(env) if "fanin" in document else None
    body = render_body(document, template_path, report_url=report_url)  # ConfigError: the caller's exit 2
    token = env.get("GITHUB_TOKEN", "")
    event = ci.event_payload(env)
    event_name = env.get("GITHUB_EVENT_NAME", "")
    repository = env.get("GITHUB_REPOSITORY") or document["context"].get("repository")
    pr_number = document["context"].get("pr_number")
    if not isinstance(pr_number, int) or not repository:
        return _done(Published("skipped", "not a pull request: no comment to post"), log)
    fallback = "" if summary_has_report else body
    fork = _fork_reason(event_name, event)
    if fork:
        return _degrade(env, pr_number, fork, fallback, log)
    if not token:
        return _degrade(env, pr_number, "GITHUB_TOKEN is not set", fallback, log)
    if api is None:
        from gate.github.api import GitHubApi, api_url

        api = GitHubApi(token, base_url=api_url(env))
    from gate.github.api import PermissionDenied

    try:
        if event_name == "workflow_run":
            stale = _stale(api, repository, pr_number, document, event)
            if stale:
                return _done(Published("skipped", stale), log)
        upsert = api.upsert_comment(repository, pr_number, pr_comment.marker_of(body), body)
    except PermissionDenied as exc:
        return _degrade(env, pr_number, f"the token may not comment ({exc.status}: read-only token?)", fallback, log)
    except GitHubError as exc:
        return _fail(env, pr_number, exc, fallback, log)
    result = _done(Published(upsert.action, f"{upsert.action} comment on #{pr_number}", upsert.comment.html_url), log)
    if check_run:
        _check_run(api, repository, document, body, log, env)
    return result


def _fork_reason(event_name: str, event: dict[str, Any]) -> str | None:
    """A `pull_request` run from a fork gets a read-only token: do not even try."""
    pull = event.get("pull_request")
    if event_name != "pull_request" or not isinstance(pull, dict):
        return None
    head = _dig(pull, "head", "repo", "full_name")
    base = _dig(pull, "base", "repo", "full_name")
    if head and base and head != base:
        return f"it comes from the fork {head}, whose token is read-only"
    return None


def _stale(
    api: GitHubApi, repository: str, pr_number: int, document: dict[str, Any], event: dict[str, Any]
) -> str | None:
    """In a `workflow_run` job the result file is untrusted: post only if it is about that PR's head commit."""
    head_sha = _dig(event, "workflow_run", "head_sha")
    pull = api.get_pull(repository, pr_number)
    pull_head = _dig(pull, "head", "sha")
    commit = document["context"].get("commit")
    if not head_sha or head_sha != pull_head or commit != head_sha:
        return (
            f"not posting: the result is for commit {str(commit)[:12]}, the triggering run for {str(head_sha)[:12]}, "
            f"and PR #{pr_number}'s head is {str(pull_head)[:12]}; they must all agree"
        )
    return None


def _check_run(
    api: GitHubApi,
    repository: str,
    document: dict[str, Any],
    body: str,
    log: Callable[[str], None],
    env: Mapping[str, str] | None = None,
) -> None:
    commit = document["context"].get("commit")
    if not commit:
        log("warning: no commit in the result: check run not created")
        return
    annotations = check_annotations(document, (env or {}).get("GITHUB_WORKSPACE"))
    details = (current_run_url(env or {}) if "fanin" in document else None) or document["context"].get("run_url")
    try:
        api.create_check_run(
            repository,
            name=CHECK_RUN_NAME,
            head_sha=commit,
            conclusion=CONCLUSION[document["verdict"]],
            title=report.HEADLINE[document["verdict"]],
            summary=body,
            details_url=markdown.url(details) or None,
            annotations=annotations,
        )
        shown = f", {len(annotations)} annotations" if annotations else ""
        log(f"check run {CHECK_RUN_NAME!r} created: {CONCLUSION[document['verdict']]}{shown}")
    except GitHubError as exc:
        log(f"warning: check run not created: {exc.render()}")


def check_annotations(document: dict[str, Any], workspace: str | None = None) -> list[dict[str, Any]]:
    """Each failed or warned budget rule (not waived) as a check-run annotation on the budget file's line
    that set it, and each benchmark that did not complete as one on the file's first line."""
    budget = str(document.get("budget_file") or "green-budget.yml")
    if workspace and budget.startswith(workspace.rstrip("/") + "/"):
        budget = budget[len(workspace.rstrip("/")) + 1 :]
    if budget.startswith("/"):
        return []  # not a path in the repository: GitHub could not place the annotation
    level = {"fail": "failure", "warn": "warning"}
    annotations = []
    for bench in document.get("benchmarks") or []:
        where = (bench.get("where") or {}).get("leg")
        name = f"{bench['name']} ({where})" if where else str(bench["name"])
        if bench.get("error"):
            annotations.append(_annotation(budget, 1, "failure", f"{name}: {bench['error']}", "green-gate error"))
        for check in bench.get("checks") or []:
            if check.get("status") not in level or check.get("waived"):
                continue
            line = check.get("source_line") if isinstance(check.get("source_line"), int) else 1
            message = f"{name}: {check['metric']} {check['reason']} ({check['limit']})"
            annotations.append(
                _annotation(budget, line, level[check["status"]], message, f"green-gate {check['status']}")
            )
    return annotations


def _annotation(path: str, line: int, level: str, message: str, title: str) -> dict[str, Any]:
    return {
        "path": path,
        "start_line": max(1, line),
        "end_line": max(1, line),
        "annotation_level": level,
        "message": message[:4000],
        "title": title[:255],
    }


def _degrade(env: Mapping[str, str], pr_number: int, why: str, body: str, log: Callable[[str], None]) -> Published:
    template = WORKFLOW_RUN_NOTICE if env.get("GITHUB_EVENT_NAME") == "workflow_run" else FORK_NOTICE
    notice = template.format(pr=pr_number, why=why)
    if actions.in_actions(env):
        actions.annotate("notice", notice, title="green-gate: no PR comment")
    shown = template.format(pr=pr_number, why=markdown.md(why))
    actions.append_step_summary(env, f"> [!NOTE]\n> {shown}\n\n{body}")
    return _done(Published("degraded", notice), log)


def _fail(env: Mapping[str, str], pr_number: int, exc: GitHubError, body: str, log: Callable[[str], None]) -> Published:
    message = f"could not comment on PR #{pr_number}: {exc.message}"
    if actions.in_actions(env):
        actions.annotate("warning", message, title="green-gate: no PR comment")
    shown = f"could not comment on PR #{pr_number}: {markdown.md(exc.message)}"
    actions.append_step_summary(env, f"> [!WARNING]\n> {shown}\n\n{body}")
    return _done(Published("failed", message), log)


def _done(result: Published, log: Callable[[str], None]) -> Published:
    log(f"PR comment: {result.message}" + (f" ({result.url})" if result.url else ""))
    return result


def _dig(data: Any, *keys: str) -> str | None:
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data if isinstance(data, str) and data else None


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")
