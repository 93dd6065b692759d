"""Paired mode: the schedule, when auto mode pairs, and the base worktree in a real git repository."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from gate.bench.paired import PairedError, auto_reason, base_spec, base_worktree, resolve_base_commit, schedule
from gate.compare.model import Baseline, Check, Decision
from gate.config.budget import ComparisonSpec, Level, Rules, load_budget

RULES = Rules(limits_pct={"energy_per_prediction_j": Level(warn=2.0, fail=5.0)})
BASE = Baseline("a" * 32, {"energy_per_prediction_j": 1.0}, "c0ffee0", "main", 0, per_repeat={"x": (1.0, 1.0)})


def test_schedule_alternates_the_order_of_each_pair() -> None:
    assert schedule(4) == [("base", "candidate"), ("candidate", "base"), ("base", "candidate"), ("candidate", "base")]


def relative(status: str, interval: tuple[float, float] | None, method: str) -> Decision:
    check = Check("energy_per_prediction_j", "relative", status, 1.0, 1.0, 0.0, interval_pct=interval, method=method)  # type: ignore[arg-type]
    return Decision(status, (check,))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("baseline", "decision", "differences", "reason"),
    [
        (None, None, (), "no baseline run in history"),
        (BASE, relative("pass", None, "point"), (), "the baseline run has no per-repeat values"),
        (
            BASE,
            relative("pass", (-1.0, 1.0), "welch-log"),
            ("GPU count: 2 vs 1",),
            "the baseline ran on other hardware (GPU count: 2 vs 1)",
        ),
        (
            BASE,
            relative("warn", (3.0, 7.0), "welch-log"),
            (),
            "energy_per_prediction_j: the interval [+3.0%, +7.0%] straddles the +5% limit",
        ),
        (BASE, relative("pass", (-1.0, 1.5), "welch-log"), (), None),  # settled: within every limit
        (BASE, relative("fail", (6.0, 9.0), "welch-log"), (), None),  # settled: beyond the fail limit
    ],
)
def test_auto_mode_pairs_only_when_history_is_inconclusive(
    baseline: Baseline | None, decision: Decision | None, differences: tuple[str, ...], reason: str | None
) -> None:
    assert auto_reason(baseline, decision, RULES, differences) == reason
    assert auto_reason(baseline, decision, Rules(), differences) is None  # nothing relative to decide


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
    assert "none of origin/release/9, release/9 is a commit in this clone" in info.value.message
    assert info.value.hint and "fetch-depth: 0" in info.value.hint
