"""The GitHub client against a contract-checking local server (see tests/github_server.py)."""

from __future__ import annotations

import pytest

from gate.github.api import GitHubApi, PermissionDenied, RateLimited, retry_wait_s
from gate.output.comment import marker
from gate.retry import RetryPolicy
from tests.fakes.github_server import FakeGitHub, Fault

REPO = "Codertocat/Hello-World"
MARK = marker("k1")


def client(gh: FakeGitHub, sleeps: list[float] | None = None, clock: float = 1_700_000_000.0) -> GitHubApi:
    record = sleeps if sleeps is not None else []
    return GitHubApi("ghs_test", base_url=gh.api_url, sleep=record.append, clock=lambda: clock)


def test_first_run_creates_second_run_edits_the_same_comment(github: FakeGitHub) -> None:
    api = client(github)
    first = api.upsert_comment(REPO, 2, MARK, f"{MARK}\nfirst")
    second = api.upsert_comment(REPO, 2, MARK, f"{MARK}\nsecond")
    assert (first.action, second.action) == ("created", "updated")
    assert second.comment.id == first.comment.id
    assert [c["body"] for c in github.comments[2]] == [f"{MARK}\nsecond"]


def test_finds_the_marker_on_a_later_page(github: FakeGitHub) -> None:
    github.page_size = 2
    for i in range(5):
        github.add_comment(2, f"review comment {i}")
    sticky = github.add_comment(2, f"{MARK}\nold", login="github-actions[bot]")
    github.add_comment(2, "newer comment")
    result = client(github).upsert_comment(REPO, 2, MARK, f"{MARK}\nnew")
    assert result.action == "updated" and result.comment.id == sticky["id"]
    pages = [line for line in github.log if line.startswith("GET") and "/comments" in line]
    assert len(pages) == 3  # followed `next` twice, then edited the comment it found
    assert len(github.comments[2]) == 7


def test_another_benchmark_sets_marker_is_not_reused(github: FakeGitHub) -> None:
    github.add_comment(2, f"{marker('other')}\nanother budget file's comment")
    result = client(github).upsert_comment(REPO, 2, MARK, f"{MARK}\nmine")
    assert result.action == "created" and len(github.comments[2]) == 2


def test_retries_a_5xx_then_succeeds(github: FakeGitHub) -> None:
    sleeps: list[float] = []
    github.faults = [Fault(502), Fault(503)]
    result = client(github, sleeps).upsert_comment(REPO, 2, MARK, f"{MARK}\nx")
    assert result.action == "created"
    assert sleeps == [1.0, 2.0]  # exponential backoff


def test_secondary_rate_limit_honours_retry_after(github: FakeGitHub) -> None:
    sleeps: list[float] = []
    limited = {"message": "You have exceeded a secondary rate limit.", "documentation_url": "https://docs.github.com"}
    github.add_comment(2, "a comment")
    github.faults = [Fault(403, {"Retry-After": "7"}, limited)]
    result = client(github, sleeps).upsert_comment(REPO, 2, MARK, f"{MARK}\nx")
    assert result.action == "created" and sleeps == [7.0]


def test_primary_rate_limit_waits_for_the_reset(github: FakeGitHub) -> None:
    sleeps: list[float] = []
    now = 1_700_000_000.0
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(now) + 30)}
    github.faults = [Fault(403, headers, {"message": "API rate limit exceeded"})]
    client(github, sleeps, clock=now).upsert_comment(REPO, 2, MARK, f"{MARK}\nx")
    assert sleeps == [31.0]


def test_a_wait_longer_than_the_cap_fails_fast(github: FakeGitHub) -> None:
    github.faults = [Fault(429, {"Retry-After": "3600"}, {"message": "slow down"})]
    with pytest.raises(RateLimited, match="3600"):
        client(github).upsert_comment(REPO, 2, MARK, f"{MARK}\nx")


def test_read_only_token_is_a_permission_error(github: FakeGitHub) -> None:
    github.read_only = True
    with pytest.raises(PermissionDenied) as caught:
        client(github).upsert_comment(REPO, 2, MARK, f"{MARK}\nx")
    assert caught.value.status == 403 and "pull-requests: write" in (caught.value.hint or "")


def test_check_run_is_created_completed(github: FakeGitHub) -> None:
    run_id = client(github).create_check_run(
        REPO, name="green-gate", head_sha="c" * 40, conclusion="failure", title="t", summary="s"
    )
    assert run_id == 1
    assert github.check_runs[0]["status"] == "completed" and github.check_runs[0]["conclusion"] == "failure"


def test_gives_up_after_max_attempts() -> None:
    policy = RetryPolicy(attempts=2, backoff_s=1.0)
    assert retry_wait_s(500, {}, "", attempt=1, now_s=0, policy=policy) == 1.0
    assert retry_wait_s(404, {}, "", attempt=1, now_s=0, policy=policy) is None
    assert retry_wait_s(403, {}, "Resource not accessible", attempt=1, now_s=0, policy=policy) is None
    assert retry_wait_s(None, {}, "ConnectionError", attempt=3, now_s=0, policy=policy) == 4.0


def test_contract_server_tolerates_only_githubs_own_example_errors(github: FakeGitHub) -> None:
    github.add_pull(2, "a" * 40)  # GitHub's example: requested_teams[0] lacks `type` (tolerated)
    assert client(github).get_pull(REPO, 2)["head"]["sha"] == "a" * 40
    assert github.violations == []
    github.pulls[2]["requested_reviewers"] = "not a list"
    client(github).get_pull(REPO, 2)
    assert len(github.violations) == 1 and "requested_reviewers" in github.violations[0]
    github.violations.clear()  # seen; the fixture asserts none are left
