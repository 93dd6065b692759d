"""Paired runs: the schedule, the base commit and its worktree in a real git repository."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from gate.bench.paired import PairedError, base_spec, base_worktree, resolve_base_commit, schedule
from gate.config.budget import ComparisonSpec
from gate.config.load import load_budget


def test_schedule_alternates_the_order_of_each_pair() -> None:
    assert schedule(4) == [("base", "candidate"), ("candidate", "base"), ("base", "candidate"), ("candidate", "base")]


BUDGET = (
    "version: 1\nbenchmarks:\n  - name: b\n    command: python run.py\n    repeats: {repeats}\n"
    "    env: {{SIDE: {side}}}\n"
)


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "bench").mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "test@example.invalid")
    git(root, "config", "user.name", "test")
    (root / "bench" / "work.txt").write_text("base\n")
    (root / "bench" / "green-budget.yml").write_text(BUDGET.format(side="base", repeats=3))
    git(root, "add", ".")
    git(root, "commit", "-qm", "base")
    git(root, "checkout", "-qb", "pr")
    (root / "bench" / "work.txt").write_text("pr\n")
    (root / "bench" / "green-budget.yml").write_text(BUDGET.format(side="pr", repeats=7))
    git(root, "commit", "-qam", "pr")
    return root


def test_base_worktree_runs_the_base_definition_with_this_runs_protocol(repo: Path) -> None:
    sha = resolve_base_commit(repo, ComparisonSpec(), None, "main")
    assert sha == git(repo, "rev-parse", "main")
    budget_path = repo / "bench" / "green-budget.yml"
    (spec,) = load_budget(budget_path).benchmarks
    with base_worktree(repo, sha) as tree:
        assert (tree / "bench" / "work.txt").read_text() == "base\n"
        base, fallback = base_spec(spec, repo, tree, budget_path)
        assert fallback is None
        assert base.env == {"SIDE": "base"} and spec.env == {"SIDE": "pr"}  # the base's own benchmark
        assert base.working_directory == (tree / "bench").resolve()
        assert base.repeats == spec.repeats == 7  # but this run's protocol, so repeats pair up
        (tree / "bench" / "green-budget.yml").unlink()  # a budget the PR adds: nothing to read in the base
        base, fallback = base_spec(spec, repo, tree, budget_path)
        assert base.env == {"SIDE": "pr"} and base.working_directory == tree / "bench"
        assert fallback is not None and "this run's definition ran there" in fallback
    assert not tree.exists()
    assert str(tree) not in git(repo, "worktree", "list")
    assert (repo / "bench" / "work.txt").read_text() == "pr\n"  # the PR checkout is untouched


def test_base_ref_order_and_a_clear_error_when_missing(repo: Path) -> None:
    first = git(repo, "rev-list", "--max-parents=0", "HEAD")
    assert resolve_base_commit(repo, ComparisonSpec(base_ref=first[:8]), "ignored", "main") == first
    assert resolve_base_commit(repo, ComparisonSpec(), first, "nope") == first  # the PR event's base SHA first
    with pytest.raises(PairedError) as info:
        resolve_base_commit(repo, ComparisonSpec(), None, "release/9")
    assert "origin/release/9: not a commit in this clone" in info.value.message
    assert "release/9 (the baseline branch): not a commit in this clone" in info.value.message
    assert info.value.hint and "fetch-depth: 0" in info.value.hint and "--base-branch" in info.value.hint


def test_a_base_that_is_the_candidate_commit_is_an_error_naming_what_was_tried(repo: Path) -> None:
    head = git(repo, "rev-parse", "HEAD")
    with pytest.raises(PairedError) as info:
        resolve_base_commit(repo, ComparisonSpec(), None, "pr", candidate=head, branch_origin="--base-branch")
    message = info.value.message
    assert "paired with itself" in message and head[:12] in message
    assert "origin/pr: not a commit in this clone" in message and "pr (--base-branch)" in message
    assert info.value.hint and "--base-branch main" in info.value.hint and "comparison.base_ref" in info.value.hint
    with pytest.raises(PairedError, match=r"comparison\.base_ref 'HEAD'"):
        resolve_base_commit(repo, ComparisonSpec(base_ref="HEAD"), None, "main", candidate=head)
    assert resolve_base_commit(repo, ComparisonSpec(), None, "main", candidate=head) == git(repo, "rev-parse", "main")


def test_adaptive_pairs_run_min_then_ask_after_each_pair_up_to_max(tmp_path: Path) -> None:
    from dataclasses import replace

    from gate.bench.paired import measure
    from gate.energy.model import RepeatResult
    from tests.bench.test_runner import COUNTING, WallClockMeter, spec

    (tmp_path / "pr").mkdir()
    (tmp_path / "base").mkdir()
    candidate = replace(spec(tmp_path / "pr", COUNTING, repeats=2, warmup=1), repeats_max=4)
    base = replace(spec(tmp_path / "base", COUNTING, repeats=2, warmup=1), repeats_max=4)
    asked: list[tuple[int, int]] = []

    def more(cand: tuple[RepeatResult, ...], base_side: tuple[RepeatResult, ...]) -> bool:
        asked.append((len(cand), len(base_side)))
        return len(cand) < 3

    def run(more_fn: object = None) -> int:
        for side in ("pr", "base"):
            (tmp_path / side / "runs.txt").unlink(missing_ok=True)
        result = measure(
            candidate,
            base,
            WallClockMeter(),
            None,
            base_commit="b" * 40,
            echo=lambda _: None,
            log=lambda _: None,
            more=more_fn,  # type: ignore[arg-type]
        )
        assert len(result.order) % 2 == 0 and result.candidate.repeats == result.base.repeats
        return result.candidate.repeats

    assert run(more) == 3 and asked == [(2, 2), (3, 3)]  # never asked below min, each side one per pair
    assert run() == 4  # no stopping rule: max pairs
    assert (tmp_path / "pr" / "runs.txt").read_text() == "5"  # 1 warm-up + 4, not 4 per pair
