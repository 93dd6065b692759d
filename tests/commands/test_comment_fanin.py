"""`green-gate comment` over a matrix's results: one comment, one check run, one job summary and one
verdict, through the real CLI against the contract-checking GitHub server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gate.github.api import ANNOTATIONS_PER_REQUEST, COMMENT_LIMIT_CHARS
from gate.github.publish import render_body
from gate.output.fanin import Source, merge
from gate.output.result import write_json
from tests.fakes.github_server import EVENTS, FakeGitHub
from tests.support.cli import cli_environment, run_cli
from tests.support.documents import H100, L4, benchmark_set, leg_document, measured, monorepo_documents
from tests.support.github import HEAD_SHA, REPO
from tests.support.golden import check_golden


def matrix(tmp_path: Path) -> Path:
    """Three legs as `actions/download-artifact` lays them out: one folder per artifact. Two run on
    H100s and one on an L4; the L4's benchmark is over its fail limit."""
    legs = [
        leg_document("gpu-h100-a", H100, [measured("resnet50-inference", 80.1, 80.0)]),
        leg_document("gpu-h100-b", H100, [measured("bert-inference", 40.0, 40.2)]),
        leg_document("gpu-l4", L4, [measured("resnet50-inference", 130.0, 120.0)]),
    ]
    root = tmp_path / "results"
    for doc in legs:
        doc["context"] = {**doc["context"], "commit": HEAD_SHA, "pr_number": 2, "repository": REPO}
        write_json(root / f"green-gate-{doc['context']['leg']}" / "green-gate.json", doc)
    return root


def ci_env(tmp_path: Path, gh: FakeGitHub) -> dict[str, str]:
    return {
        **cli_environment(),
        "GITHUB_ACTIONS": "true",
        "GITHUB_TOKEN": "ghs_secret",
        "GITHUB_API_URL": gh.api_url,
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_RUN_ID": "4242",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(EVENTS / "pull_request.opened.json"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "GITHUB_OUTPUT": str(tmp_path / "output.txt"),
    }


def test_a_matrix_is_one_comment_one_check_run_and_exit_1(tmp_path: Path, github: FakeGitHub) -> None:
    root = matrix(tmp_path)
    env = ci_env(tmp_path, github)
    args = ["comment", "--result", str(root), "--expect", "gpu-h100-a,gpu-h100-b,gpu-l4", "--check-run"]
    result = run_cli(*args, cwd=tmp_path, env=env)
    assert result.returncode == 1, result.stderr
    assert not github.violations
    (comment,) = github.comments[2]
    body = comment["body"]
    assert "## ❌ green-gate: energy budget exceeded" in body and "**3 of 3 jobs reported**" in body
    # The same benchmark on two kinds of hardware: two rows, never one averaged figure.
    assert (
        "### ❌ fail · resnet50-inference · gpu-l4" in body and "### ✅ pass · resnet50-inference · gpu-h100-a" in body
    )
    assert "| gpu-l4 | gpu-l4-runner-1 | NVIDIA L4, Intel Xeon Platinum 8481C (8 CPUs) | 1 | ❌ fail |" in body
    (check_run,) = github.check_runs
    assert check_run["conclusion"] == "failure" and check_run["head_sha"] == HEAD_SHA
    assert check_run["details_url"] == "https://github.com/Codertocat/Hello-World/actions/runs/4242"
    (annotation,) = check_run["output"]["annotations"]
    assert annotation["path"] == "green-budget.yml" and annotation["start_line"] == 12
    assert annotation["message"].startswith("resnet50-inference (gpu-l4): energy_per_prediction_j +8.3%")
    summary = (tmp_path / "summary.md").read_text()
    assert summary.count("## ❌ green-gate") == 1 and "resnet50-inference · inference · ❌ fail · gpu-l4" in summary
    assert "verdict=fail" in (tmp_path / "output.txt").read_text()

    # The next push edits the same comment.
    assert run_cli(*args, cwd=tmp_path, env=env).returncode == 1
    assert len(github.comments[2]) == 1 and len(github.check_runs) == 2


def test_a_leg_that_did_not_report_is_named(tmp_path: Path, github: FakeGitHub) -> None:
    root = matrix(tmp_path)
    for path in (root / "green-gate-gpu-l4").iterdir():
        path.unlink()
    env = ci_env(tmp_path, github)
    result = run_cli(
        "comment", "--result", f"{root}/*/green-gate.json", "--expect", "gpu-h100-a,gpu-h100-b,gpu-l4,cpu",
        cwd=tmp_path, env=env,
    )  # fmt: skip
    assert result.returncode == 3, result.stderr  # the matrix did not complete
    body = github.comments[2][0]["body"]
    assert "**2 of 4 jobs reported; gpu-l4, cpu did not**" in body
    assert "| gpu-l4 | — | — | — | 💥 did not report |" in body
    assert (
        "::error title=green-gate%3A a job did not report::2 of 4 jobs reported; gpu-l4, cpu did not" in result.stderr
    )


def test_results_of_different_commits_are_refused(tmp_path: Path) -> None:
    root = matrix(tmp_path)
    other = root / "green-gate-gpu-l4" / "green-gate.json"
    doc = json.loads(other.read_text())
    doc["context"]["commit"] = "f" * 40
    other.write_text(json.dumps(doc))
    result = run_cli("comment", "--result", str(root), cwd=tmp_path, env=cli_environment())
    assert result.returncode == 2 and "the results are about different commits" in result.stderr


def test_a_named_file_that_is_missing_is_a_usage_error(tmp_path: Path) -> None:
    root = matrix(tmp_path)
    result = run_cli("comment", "--result", str(root), "--result", "nope.json", cwd=tmp_path, env=cli_environment())
    assert result.returncode == 2 and "nope.json: no such result file" in result.stderr


def _merged(count: int) -> dict[str, Any]:
    docs = monorepo_documents(count)
    expected = [d["context"]["leg"] for d in docs]
    return merge([Source(f"{leg}.json", d) for leg, d in zip(expected, docs, strict=True)], expected)


@pytest.mark.parametrize("count", [1, 20, 200])
def test_comment_golden_at_size(count: int) -> None:
    body = render_body(_merged(count), None, report_url="https://github.com/acme/models/actions/runs/99")
    assert len(body) <= COMMENT_LIMIT_CHARS
    check_golden(f"pr_comment_fanin_{count}.md", body)


def test_many_benchmarks_lead_with_what_failed_then_a_collapsed_table() -> None:
    body = render_body(_merged(200), None)
    assert body.index("### ❌ fail") < body.index("### ⚠️ warn") < body.index("more benchmarks")
    assert "### ✅" not in body  # what passed is a row of the collapsed table
    assert "<details><summary>180 more benchmarks" in body
    assert body.count("| svc-") == 180  # each of the rest a row: none dropped, none shown twice


def test_a_comment_over_the_limit_points_to_the_full_report() -> None:
    doc = _merged(200)
    for bench in doc["benchmarks"]:
        bench["name"] = bench["name"] + "-" + "x" * 400
    body = render_body(doc, None, report_url="https://github.com/acme/models/actions/runs/99")
    assert len(body) <= COMMENT_LIMIT_CHARS
    assert body.rstrip().endswith("[job summary](https://github.com/acme/models/actions/runs/99).")
    assert body.count("<details>") == body.count("</details>")


def test_annotations_go_50_per_request(tmp_path: Path, github: FakeGitHub) -> None:
    outcomes = [measured(f"svc-{i:03d}", 108.0, 100.0) for i in range(120)]  # 120 failed rules
    doc = leg_document("gpu-h100", H100, outcomes)
    doc["context"] = {**doc["context"], "commit": HEAD_SHA, "pr_number": 2, "repository": REPO}
    write_json(tmp_path / "r" / "a.json", doc)
    write_json(
        tmp_path / "r" / "b.json",
        leg_document("gpu-l4", L4, benchmark_set(1)) | {"context": doc["context"] | {"leg": "gpu-l4"}},
    )
    result = run_cli(
        "comment", "--result", str(tmp_path / "r"), "--check-run", cwd=tmp_path, env=ci_env(tmp_path, github)
    )
    assert result.returncode == 1, result.stderr
    assert not github.violations
    posts = [line for line in github.log if "/check-runs" in line]
    assert [line.split()[0] for line in posts] == ["POST", "PATCH", "PATCH"]  # 50 + 50 + 20
    annotations = github.check_run_annotations(1)
    assert len(annotations) == 120 and ANNOTATIONS_PER_REQUEST == 50
    assert len({a["message"] for a in annotations}) == 120


def test_what_this_job_holds_never_leaves_in_a_merged_comment(tmp_path: Path, github: FakeGitHub) -> None:
    from gate.commands.comment import CommentOptions, run

    root = matrix(tmp_path)
    leg = root / "green-gate-gpu-l4" / "green-gate.json"
    doc = json.loads(leg.read_text())
    doc["benchmarks"][0]["notes"] = ["token ghs_secret_0123456789 seen"]  # a leg that leaked it
    leg.write_text(json.dumps(doc))
    env = {k: v for k, v in ci_env(tmp_path, github).items() if k not in ("PATH", "PYTHONPATH")}
    env["GITHUB_TOKEN"] = "ghs_secret_0123456789"
    assert run(CommentOptions(results=(str(root),), check_run=True), env=env, log=lambda m: None) == 1
    body = github.comments[2][0]["body"]
    assert "ghs_secret_0123456789" not in body and "token *** seen" in body.replace("\\*", "*")
    assert "ghs_secret_0123456789" not in (tmp_path / "summary.md").read_text()
    assert "ghs_secret_0123456789" not in json.dumps(github.check_runs)


def test_no_result_at_all_names_the_expected_jobs(tmp_path: Path) -> None:
    (tmp_path / "results").mkdir()
    result = run_cli("comment", "--result", "results", "--expect", "gpu-h100,cpu", cwd=tmp_path, env=cli_environment())
    assert result.returncode == 2
    assert "none of the 2 expected jobs reported (gpu-h100, cpu): no result file found in results" in result.stderr


def test_annotations_name_the_budget_file_in_the_repository() -> None:
    from gate.github.publish import check_annotations

    doc = _merged(20)
    doc["budget_file"] = "/home/runner/work/models/models/ci/green-budget.yml"
    (first, *_) = check_annotations(doc, "/home/runner/work/models/models")
    assert first["path"] == "ci/green-budget.yml" and first["annotation_level"] == "failure"
    assert first["start_line"] == 12  # the line of the limit that failed
    assert check_annotations(doc, None) == []  # an absolute path GitHub could not place
    before = len(check_annotations(doc, "/home/runner/work/models/models"))
    failed = next(c for b in doc["benchmarks"] for c in b["checks"] if c["status"] == "fail")
    failed["waived"] = "waived by @lead: known regression"
    assert len(check_annotations(doc, "/home/runner/work/models/models")) == before - 1  # a waived rule is not flagged
