"""The GitHub REST API boundary: sticky PR comments and check runs. The only module that calls GitHub.

Uses `requests`. Honours `GITHUB_API_URL` (GitHub Enterprise: `https://HOST/api/v3`). Retries with
backoff on 5xx and on primary/secondary rate limits (`Retry-After`, `x-ratelimit-remaining` /
`x-ratelimit-reset`), but never waits longer than `MAX_WAIT_S` for one retry: a CI job
should fail with a clear message rather than hang for an hour. Every failure leaves as a typed
`GitHubError` (see `PermissionDenied`, `RateLimited`, `NotFound`). Request bodies are redacted
(gate.secrets) on their way out: GitHub masks the job's log, not a comment.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

import requests

from gate import __version__, secrets
from gate.errors import GitHubError
from gate.retry import RetryPolicy

DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
COMMENT_LIMIT_CHARS = 65536  # GitHub refuses longer issue comments
CHECK_RUN_SUMMARY_LIMIT_CHARS = 65535  # checks/create and checks/update: output.summary's maxLength
ANNOTATIONS_PER_REQUEST = 50  # the Checks API takes at most 50 annotations per request; more go by checks/update
RETRY_STATUSES = frozenset({500, 502, 503, 504})
PAGE_SIZE = 100
MAX_PAGES = 100  # 10,000 comments: a bound on a loop driven by the server's Link headers
# Backoff after a 5xx or a network error: 1, 2, 4, 8 s.
RETRY = RetryPolicy(attempts=5, backoff_s=1.0)
SECONDARY_WAIT_S = 60.0  # GitHub: "wait for at least one minute" when it gives no header
MAX_WAIT_S = 120.0  # a server asking for longer than this is not waited for


class PermissionDenied(GitHubError):
    """401/403 that is not a rate limit: the token may not do this (e.g. read-only on a fork PR)."""

    title = "GitHub token lacks permission"


class NotFound(GitHubError):
    title = "not found on GitHub"


class RateLimited(GitHubError):
    title = "GitHub rate limit"


@dataclass(frozen=True)
class Comment:
    id: int
    body: str
    html_url: str


@dataclass(frozen=True)
class LabelEvent:
    label: str
    login: str  # who added it
    created_at: str


@dataclass(frozen=True)
class Upsert:
    action: Literal["created", "updated"]
    comment: Comment


def api_url(env: Mapping[str, str]) -> str:
    return (env.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/")


def retry_wait_s(
    status: int | None,
    headers: Mapping[str, str],
    message: str,
    *,
    attempt: int,
    now_s: float,
    policy: RetryPolicy,
) -> float | None:
    """Seconds to wait before retrying this response (None: do not retry). `status` None: network error.

    Pure: the decision table GitHub documents for 5xx, primary and secondary rate limits.
    """
    backoff = policy.backoff_after_s(attempt)
    retry_after = _number(headers.get("retry-after"))
    if status is None or status in RETRY_STATUSES:
        return retry_after if retry_after is not None else backoff
    if status not in (403, 429):
        return None
    if retry_after is not None:
        return retry_after
    reset = _number(headers.get("x-ratelimit-reset"))
    if headers.get("x-ratelimit-remaining") == "0" and reset is not None:
        return max(0.0, reset - now_s) + 1.0  # primary limit: until the window resets
    if status == 429 or "secondary rate limit" in message.lower():
        return max(SECONDARY_WAIT_S, backoff)
    return None  # a plain 403: a permission problem, retrying will not help


class GitHubApi:
    def __init__(
        self,
        token: str,
        *,
        base_url: str = DEFAULT_API_URL,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        retry: RetryPolicy = RETRY,
        timeout_s: float = 20.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._session = session or requests.Session()
        self._session.headers.update(
            {
                "Authorization": f"Bearer {token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
                "User-Agent": f"green-gate/{__version__}",
            }
        )
        self._sleep, self._clock, self._retry, self._timeout_s = sleep, clock, retry, timeout_s

    # -- operations (operationIds from GitHub's OpenAPI description) --------------------------------

    def list_comments(self, repository: str, issue_number: int) -> Iterator[Comment]:
        """issues/list-comments, every page (follows the Link header's `next`)."""
        url = f"{self._repo_url(repository)}/issues/{issue_number}/comments"
        for item in self._pages(url, f"comments on #{issue_number}"):
            yield _comment(item)

    def create_comment(self, repository: str, issue_number: int, body: str) -> Comment:
        """issues/create-comment."""
        url = f"{self._repo_url(repository)}/issues/{issue_number}/comments"
        return _comment(self._request("POST", url, json={"body": body}).json())

    def update_comment(self, repository: str, comment_id: int, body: str) -> Comment:
        """issues/update-comment."""
        url = f"{self._repo_url(repository)}/issues/comments/{comment_id}"
        return _comment(self._request("PATCH", url, json={"body": body}).json())

    def get_pull(self, repository: str, number: int) -> dict[str, Any]:
        """pulls/get."""
        data: dict[str, Any] = self._request("GET", f"{self._repo_url(repository)}/pulls/{number}").json()
        return data

    def list_label_events(self, repository: str, issue_number: int) -> Iterator[LabelEvent]:
        """issues/list-events, every page: the `labeled` events, oldest first (who added which label)."""
        url = f"{self._repo_url(repository)}/issues/{issue_number}/events"
        for item in self._pages(url, f"events on #{issue_number}"):
            if isinstance(item, dict) and item.get("event") == "labeled":
                label, actor = item.get("label") or {}, item.get("actor") or {}
                if label.get("name") and actor.get("login"):
                    yield LabelEvent(str(label["name"]), str(actor["login"]), str(item.get("created_at") or ""))

    def _pages(self, first_url: str, what: str) -> Iterator[Any]:
        """The items of a paged list, following the Link header's `next` (which carries the query)."""
        url: str | None = first_url
        params: dict[str, Any] | None = {"per_page": PAGE_SIZE}
        for _ in range(MAX_PAGES):
            if url is None:
                return
            response = self._request("GET", url, params=params)
            yield from response.json()
            url, params = response.links.get("next", {}).get("url"), None
        raise GitHubError(f"more than {MAX_PAGES * PAGE_SIZE} {what}; stopped paging")

    def collaborator_permission(self, repository: str, login: str) -> str:
        """repos/get-collaborator-permission-level: admin, maintain, write, triage, read or none."""
        url = f"{self._repo_url(repository)}/collaborators/{quote(login, safe='')}/permission"
        data = self._request("GET", url).json()
        return str(data.get("role_name") or data.get("permission") or "none")

    def is_team_member(self, team: str, login: str) -> bool:
        """teams/get-membership-for-user-in-org: an active member of `org/team-slug`."""
        org, _, slug = team.partition("/")
        team_url = f"{self.base_url}/orgs/{quote(org, safe='')}/teams/{quote(slug, safe='')}"
        try:
            data = self._request("GET", f"{team_url}/memberships/{quote(login, safe='')}").json()
        except NotFound:
            return False
        return bool(data.get("state") == "active")

    def create_check_run(
        self,
        repository: str,
        *,
        name: str,
        head_sha: str,
        conclusion: str,
        title: str,
        summary: str,
        details_url: str | None = None,
        annotations: list[dict[str, Any]] | None = None,
    ) -> int:
        """checks/create, already completed with `conclusion` (success, neutral, failure, …); its
        annotations in batches of ANNOTATIONS_PER_REQUEST, the first with the create, the others by
        checks/update (GitHub appends each batch to those already there)."""
        batches = _batches(annotations or [], ANNOTATIONS_PER_REQUEST)
        output = {"title": title[:255], "summary": summary[:CHECK_RUN_SUMMARY_LIMIT_CHARS]}
        payload: dict[str, Any] = {
            "name": name,
            "head_sha": head_sha,
            "status": "completed",
            "conclusion": conclusion,
            "output": {**output, "annotations": batches[0]} if batches else output,
        }
        if details_url:
            payload["details_url"] = details_url
        run_id = int(self._request("POST", f"{self._repo_url(repository)}/check-runs", json=payload).json()["id"])
        for batch in batches[1:]:
            self.update_check_run(repository, run_id, output={**output, "annotations": batch})
        return run_id

    def update_check_run(self, repository: str, check_run_id: int, *, output: dict[str, Any]) -> None:
        """checks/update: here, to add annotations (at most ANNOTATIONS_PER_REQUEST) to a check run."""
        if len(output.get("annotations") or []) > ANNOTATIONS_PER_REQUEST:
            raise ValueError(f"at most {ANNOTATIONS_PER_REQUEST} annotations per request")
        url = f"{self._repo_url(repository)}/check-runs/{int(check_run_id)}"
        self._request("PATCH", url, json={"output": output})

    def upsert_comment(self, repository: str, issue_number: int, marker: str, body: str) -> Upsert:
        """Edit the first comment whose body starts with `marker`, else create one. `body` starts with it."""
        for comment in self.list_comments(repository, issue_number):
            if comment.body.startswith(marker):
                return Upsert("updated", self.update_comment(repository, comment.id, body))
        return Upsert("created", self.create_comment(repository, issue_number, body))

    # -- transport -------------------------------------------------------------------------------------

    def _repo_url(self, repository: str) -> str:
        owner, _, name = repository.partition("/")
        if not owner or not name or "/" in name:
            raise GitHubError(f"not an owner/name repository: {repository!r}")
        return f"{self.base_url}/repos/{quote(owner, safe='')}/{quote(name, safe='')}"

    def _request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        if "json" in kwargs:
            kwargs["json"] = secrets.active_secrets().redact_data(kwargs["json"])
        policy = self._retry
        for attempt in range(1, policy.attempts + 1):
            try:
                response = self._session.request(method, url, timeout=self._timeout_s, **kwargs)
            except requests.RequestException as exc:
                status, headers, message = None, {}, f"{type(exc).__name__}: {exc}"
                failure: GitHubError = GitHubError(f"{method} {url} failed: {message}")
            else:
                if response.status_code < 400:
                    return response
                status, headers, message = response.status_code, dict(response.headers), _message(response)
                failure = _error(method, url, response.status_code, message, response.headers)
            headers = {k.lower(): v for k, v in headers.items()}
            wait_s = retry_wait_s(status, headers, message, attempt=attempt, now_s=self._clock(), policy=policy)
            if wait_s is None:
                raise failure
            if wait_s > MAX_WAIT_S:
                raise RateLimited(
                    f"{method} {url}: GitHub asks to wait {wait_s:.0f} s (more than {MAX_WAIT_S:.0f} s)",
                    status=status,
                    hint="the token's rate limit is spent; re-run the job later",
                )
            if attempt == policy.attempts:
                raise failure
            self._sleep(wait_s)
        raise AssertionError("unreachable")  # the loop returns or raises


def _batches(items: list[dict[str, Any]], size: int) -> list[list[dict[str, Any]]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _comment(item: Any) -> Comment:
    return Comment(id=int(item["id"]), body=str(item.get("body") or ""), html_url=str(item.get("html_url") or ""))


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def _message(response: requests.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:300]
    return str(data.get("message", ""))[:300] if isinstance(data, dict) else ""


def _error(method: str, url: str, status: int, message: str, headers: Mapping[str, str]) -> GitHubError:
    text = f"{method} {url} returned {status}: {message or 'no message'}"
    rate_limited = headers.get("x-ratelimit-remaining") == "0" or "rate limit" in message.lower()
    if status in (401, 403) and not rate_limited:
        return PermissionDenied(
            text, status=status, hint="give the workflow `permissions: pull-requests: write` (and `checks: write`)"
        )
    if status in (403, 429):
        return RateLimited(text, status=status, hint="the token's rate limit is spent; re-run the job later")
    if status == 404:
        return NotFound(text, status=status)
    return GitHubError(text, status=status)
