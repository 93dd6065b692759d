"""`green-gate comment` and the sticky comment's text, against the contract-checking GitHub server,
with the real webhook payloads (tests/data/events/) as GITHUB_EVENT_PATH."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from gate.commands.comment import CommentOptions, run
from gate.compare.model import Baseline
from gate.compare.verdict import evaluate
from gate.github.publish import render_body
from gate.output.comment import fit, marker_of
from gate.output.report import render, trend_chart
from gate.output.result import write_json
from tests.fakes.github_server import EVENTS, FakeGitHub
from tests.helpers import summary
from tests.support.documents import INTENSITY, RULES, document, outcome
from tests.support.github import HEAD_SHA, REPO, fork_event
from tests.support.golden import check_golden


def fail_document() -> dict[str, Any]:
    current = summary(
        [91.9, 99.2, 99.0], predictions=107880, quality={"accuracy": 0.9689}, intensity=INTENSITY, power_w=21.8
    )
    base = Baseline(
        run_id="bd84bbff" + "0" * 24,
        metrics={"energy_per_prediction_j": 0.0007673, "energy_j": 82.77, "energy_kwh": 2.299e-05},
        commit="4b1e0c2aa",
        branch="main",
        start_time_ms=0,
        url="http://mlflow/#/experiments/1/runs/bd84bbff",
    )
    result = outcome(summary=current, baseline=base, decision=evaluate(current, base, RULES))
    history = tuple(
        {"run_id": f"r{i}", "commit": sha, "start_time_ms": i, "metrics": {"energy_per_prediction_j": value}}
        for i, (sha, value) in enumerate([("1a2b3c4d", 0.0007702), ("5e6f7a8b", 0.0007655), ("4b1e0c2a", 0.0007673)])
    )
    result = replace(result, history=history)
    doc: dict[str, Any] = json.loads(json.dumps(document(result, "fail")))  # a copy: tests change it freely
    doc["context"] = {**doc["context"], "commit": HEAD_SHA, "pr_number": 2, "repository": REPO}
    doc["context"]["run_url"] = "https://github.com/Codertocat/Hello-World/actions/runs/42"
    return doc


def actions_env(tmp_path: Path, gh: FakeGitHub, event: dict[str, Any] | Path, name: str) -> dict[str, str]:
    event_path = event if isinstance(event, Path) else tmp_path / "event.json"
    if not isinstance(event, Path):
        event_path.write_text(json.dumps(event))
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_TOKEN": "ghs_secret",
        "GITHUB_API_URL": gh.api_url,
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_EVENT_NAME": name,
        "GITHUB_EVENT_PATH": str(event_path),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
    }


def saved(tmp_path: Path, doc: dict[str, Any]) -> Path:
    path = tmp_path / "green-gate.json"
    write_json(path, doc)
    return path


def test_pr_comment_golden() -> None:
    check_golden("pr_comment_fail.md", render_body(fail_document(), None))


def test_second_run_edits_the_first_comment(tmp_path: Path, github: FakeGitHub) -> None:
    env = actions_env(tmp_path, github, EVENTS / "pull_request.opened.json", "pull_request")
    path = saved(tmp_path, fail_document())
    logs: list[str] = []
    assert run(CommentOptions(path), env=env, log=logs.append) == 0
    first_id = github.comments[2][0]["id"]
    env = actions_env(tmp_path, github, EVENTS / "pull_request.synchronize.json", "pull_request")
    assert run(CommentOptions(path), env=env, log=logs.append) == 0
    assert [c["id"] for c in github.comments[2]] == [first_id]  # one comment, edited in place
    assert logs[0].startswith("PR comment: created") and logs[1].startswith("PR comment: updated")
    assert not (tmp_path / "summary.md").exists()


def test_fork_pr_degrades_to_the_job_summary(tmp_path: Path, github: FakeGitHub, capsys: Any) -> None:
    env = actions_env(tmp_path, github, fork_event(), "pull_request")
    assert run(CommentOptions(saved(tmp_path, fail_document())), env=env, log=lambda m: None) == 0
    assert github.log == []  # a fork's token is read-only: nothing is even tried
    text = (tmp_path / "summary.md").read_text()
    assert "did not comment on PR #2" in text and "forker/Hello-World" in text
    assert "## ❌ green-gate: energy budget exceeded" in text
    err = capsys.readouterr().err
    assert "::add-mask::ghs_secret" in err and "::notice title=green-gate%3A no PR comment::" in err


def test_read_only_token_degrades_too(tmp_path: Path, github: FakeGitHub) -> None:
    github.read_only = True
    env = actions_env(tmp_path, github, EVENTS / "pull_request.opened.json", "pull_request")
    assert run(CommentOptions(saved(tmp_path, fail_document())), env=env, log=lambda m: None) == 0
    assert "the token may not comment (403" in (tmp_path / "summary.md").read_text()


def test_workflow_run_posts_a_result_about_the_prs_head(tmp_path: Path, github: FakeGitHub) -> None:
    github.add_pull(2, HEAD_SHA)
    event = {"action": "completed", "workflow_run": {"head_sha": HEAD_SHA, "event": "pull_request"}}
    env = actions_env(tmp_path, github, event, "workflow_run")
    assert run(CommentOptions(saved(tmp_path, fail_document()), check_run=True), env=env, log=lambda m: None) == 0
    assert len(github.comments[2]) == 1
    assert github.check_runs[0]["head_sha"] == HEAD_SHA and github.check_runs[0]["conclusion"] == "failure"


def test_workflow_run_without_a_token_names_the_missing_permission(tmp_path: Path, github: FakeGitHub) -> None:
    github.add_pull(2, HEAD_SHA)
    event = {"action": "completed", "workflow_run": {"head_sha": HEAD_SHA, "event": "pull_request"}}
    env = {k: v for k, v in actions_env(tmp_path, github, event, "workflow_run").items() if k != "GITHUB_TOKEN"}
    logs: list[str] = []
    assert run(CommentOptions(saved(tmp_path, fail_document())), env=env, log=logs.append) == 0
    summary_text = (tmp_path / "summary.md").read_text()
    assert "pull-requests: write" in summary_text and "GITHUB_TOKEN: ${{ github.token }}" in summary_text
    assert "post it from a `workflow_run` job" not in summary_text and "pull-requests: write" in logs[-1]


def test_workflow_run_refuses_a_result_for_another_commit(tmp_path: Path, github: FakeGitHub) -> None:
    github.add_pull(2, "f" * 40)  # the PR moved on, or the artifact lies about its PR
    event = {"action": "completed", "workflow_run": {"head_sha": HEAD_SHA}}
    env = actions_env(tmp_path, github, event, "workflow_run")
    logs: list[str] = []
    assert run(CommentOptions(saved(tmp_path, fail_document())), env=env, log=logs.append) == 0
    assert 2 not in github.comments and "they must all agree" in logs[-1]


def test_github_down_is_exit_4_for_the_comment_command(tmp_path: Path) -> None:
    env = {
        "GITHUB_TOKEN": "t",
        "GITHUB_API_URL": "http://127.0.0.1:9",  # nothing listens on the discard port
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
    }
    from gate.github import publish
    from gate.github.api import GitHubApi
    from gate.retry import RetryPolicy

    api = GitHubApi(
        "t", base_url=env["GITHUB_API_URL"], sleep=lambda s: None, retry=RetryPolicy(attempts=2, backoff_s=1.0)
    )
    result = publish.post(fail_document(), env, template_path=None, check_run=False, log=lambda m: None, api=api)
    assert result.status == "failed" and "could not comment on PR #2" in (tmp_path / "summary.md").read_text()


def test_a_result_file_that_is_not_one_exits_2(tmp_path: Path) -> None:
    doc = fail_document()
    doc["benchmarks"][0]["metrics"]["energy_j"] = "lots"
    logs: list[str] = []
    assert run(CommentOptions(saved(tmp_path, doc)), env={}, log=logs.append) == 2
    assert "benchmarks/0/metrics/energy_j" in logs[0]


@pytest.mark.parametrize(
    ("template", "line", "message"),
    [
        ("## {{ result.verdict }}\n{% if %}\n", 2, "template syntax error"),
        ("ok\n\n{{ result.no_such_key }}\n", 3, "UndefinedError"),
        ("{{ result.__class__.__mro__ }}\n", 1, "SecurityError"),
    ],
)
def test_user_template_errors_name_file_and_line(tmp_path: Path, template: str, line: int, message: str) -> None:
    path = tmp_path / "comment.md.j2"
    path.write_text(template)
    logs: list[str] = []
    assert run(CommentOptions(saved(tmp_path, fail_document()), template_path=path), env={}, log=logs.append) == 2
    assert f"{path}:{line}: " in logs[0] and message in logs[0]


def test_user_template_gets_the_documented_context(tmp_path: Path) -> None:
    path = tmp_path / "mine.md.j2"
    path.write_text("{{ headline[result.verdict] }}: {% for b in result.benchmarks %}{{ b.name | md }}{% endfor %}\n")
    body = render_body(fail_document(), path)
    assert body.split("\n")[1] == "❌ green-gate: energy budget exceeded: digits-svc-inference"


def test_untrusted_text_stays_inert() -> None:
    doc = fail_document()
    evil = "x --> <img src=x> @octocat [a](http://e) ` | #1"
    doc["context"]["branch"] = evil
    doc["hardware"]["description"] = evil
    bench = doc["benchmarks"][0]
    bench["name"] = evil
    bench["command"] = evil
    bench["notes"] = [evil]
    bench["baseline"]["url"] = "javascript:alert(1)"
    bench["error"] = evil
    bench["output_tail"] = ["```", "--> @octocat"]
    body = render_body(doc, None)
    assert marker_of(body).count("-->") == 1 and body.count("<!--") == 1
    assert "````text\n```\n--> @octocat\n````" in body  # the output fence outgrows the backticks inside it
    prose = re.sub(r"`[^`\n]*`", "", body.replace("````text\n```\n--> @octocat\n````", ""))  # code shows literally
    assert "@octocat" not in prose and "@\u200boctocat" in prose
    assert "<img" not in prose and "[a](http://e)" not in prose and "javascript:" not in body
    assert "\\| #\u200b1" in prose  # no new table cell, no issue reference


def test_a_huge_comment_is_cut_with_a_pointer() -> None:
    doc = fail_document()
    doc["benchmarks"][0]["output_tail"] = [f"line {i} " + "x" * 200 for i in range(400)]
    body = render_body(doc, None)
    assert len(body) <= 65536
    assert body.rstrip().endswith("[job summary](https://github.com/Codertocat/Hello-World/actions/runs/42).")
    assert body.count("```") % 2 == 0 and body.count("<details>") == body.count("</details>")


def test_fit_closes_what_it_cut_open() -> None:
    text = (
        "head\n<details><summary>s</summary>\n\n```text\n"
        + "\n".join("y" * 10 for _ in range(50))
        + "\n```\n</details>\n"
    )
    cut = fit(text, 200, "POINTER")
    assert len(cut) <= 200 and cut.endswith("```\n</details>\n\n\nPOINTER\n")
    assert fit("short", 200, "POINTER") == "short"


def test_trend_chart_only_with_history() -> None:
    doc = fail_document()
    bench = doc["benchmarks"][0]
    chart = trend_chart(bench)
    assert 'x-axis ["1a2b3c4", "5e6f7a8", "4b1e0c2", "this run"]' in chart
    assert 'line "runs" [770.2, 765.5, 767.3, 895.8]' in chart
    bench["history"] = []
    assert trend_chart(bench) == "" and "mermaid" not in render(doc, "pr_comment.md.j2")
