"""Which run is the baseline (branch, pins, order) and whether its energy method compares with this run's."""

from __future__ import annotations

import dataclasses

import pytest

from gate.compare.baseline_rules import (
    BaselineChoice,
    baseline_branch,
    choose,
    energy_method_differences,
    may_be_baseline,
)
from gate.tracking.schema import Pin


def test_the_same_method_is_comparable() -> None:
    assert energy_method_differences("cpu:estimated:process", "cpu:estimated:process") == ()


def test_another_cpu_method_or_scope_set_is_not() -> None:
    assert energy_method_differences("cpu:estimated:machine", "cpu:estimated:process") == (
        "energy method: cpu:estimated:machine vs cpu:estimated:process",
    )
    assert energy_method_differences("cpu:estimated:process+ram:estimated", "cpu:estimated:process") == (
        "energy method: cpu:estimated:process+ram:estimated vs cpu:estimated:process",
    )


def test_a_run_by_an_older_gate_is_comparable_only_for_a_gpu_total() -> None:
    assert energy_method_differences(None, "gpu:measured") == ()
    (why,) = energy_method_differences(None, "cpu:estimated:process")
    assert why == "energy method: not recorded (an older green-gate, CPU and RAM machine-wide) vs cpu:estimated:process"


def test_a_mixed_baseline_method_of_an_older_gate_is_not_comparable() -> None:
    # Every part of the total must be a GPU's for a run without the tag to stay comparable.
    (why,) = energy_method_differences(None, "gpu:measured+cpu:estimated:process")
    assert why == (
        "energy method: not recorded (an older green-gate, CPU and RAM machine-wide) "
        "vs gpu:measured+cpu:estimated:process"
    )
    assert energy_method_differences(None, "gpu:measured+gpu:measured") == ()
    assert energy_method_differences(None, "gpu:measured+") == ()  # an empty part names no scope


def test_a_recorded_method_must_match_exactly() -> None:
    assert energy_method_differences("gpu:measured", "gpu:measured") == ()
    assert energy_method_differences("gpu:measured", "gpu:measured+cpu:estimated:process") == (
        "energy method: gpu:measured vs gpu:measured+cpu:estimated:process",
    )


# --- which branch's runs are baselines, and which run --------------------------------------------


@pytest.mark.parametrize(
    ("cli_branch", "budget_branch", "base_branch", "default_branch", "branch", "expected"),
    [
        ("hotfix", "release", "develop", "trunk", "feature/x", "hotfix"),  # --base-branch wins
        (None, "release", "develop", "trunk", "feature/x", "release"),  # else the budget's choice
        (None, None, "develop", "trunk", "feature/x", "develop"),  # else the pull request's base
        (None, None, None, "trunk", "feature/x", "trunk"),  # else the repository's default branch
        (None, None, None, None, "feature/x", "feature/x"),  # only where nothing tells, the branch checked
        (None, None, None, None, None, "main"),  # no branch known at all
        ("", "", "", "", "", "main"),
    ],
)
def test_baseline_branch_order(
    cli_branch: str | None,
    budget_branch: str | None,
    base_branch: str | None,
    default_branch: str | None,
    branch: str | None,
    expected: str,
) -> None:
    assert baseline_branch(budget_branch, base_branch, default_branch, branch, cli_branch=cli_branch) == expected


PIN = Pin(run_id="p" * 32, pinned_by="octocat", pinned_at="2026-01-02T03:04:05Z", note="after the driver update")


def test_the_command_line_run_wins_and_names_the_pin_it_overrode() -> None:
    choice = choose(branch="main", cli_run_id="c" * 32, budget_run_id="b" * 32, pin=PIN)
    assert choice == BaselineChoice("main", "c" * 32, "command line", "pinned by --baseline-run-id", ignored_pin=PIN)


def test_the_budget_files_run_comes_next() -> None:
    choice = choose(branch="main", cli_run_id=None, budget_run_id="b" * 32, pin=PIN)
    assert choice == BaselineChoice(
        "main", "b" * 32, "budget file", "pinned by baseline.run_id in the budget file", ignored_pin=PIN
    )


def test_a_pin_comes_next_and_says_who_pinned_it_when_and_why() -> None:
    choice = choose(branch="release/1", cli_run_id="", budget_run_id="", pin=PIN)
    assert choice == BaselineChoice(
        "release/1",
        "p" * 32,
        "pin",
        "pinned for `release/1` with `green-gate baseline pin` by octocat at 2026-01-02T03:04:05Z "
        "(after the driver update)",
    )
    bare = choose(branch="main", cli_run_id=None, budget_run_id=None, pin=Pin(run_id="q" * 32))
    assert (bare.run_id, bare.reason) == ("q" * 32, "pinned for `main` with `green-gate baseline pin`")


def test_without_any_pin_the_latest_eligible_run_is_searched() -> None:
    choice = choose(branch="develop", cli_run_id=None, budget_run_id=None, pin=None)
    assert choice == BaselineChoice(
        "develop",
        None,
        "latest",
        "latest run on `develop` that passed its budget, on hardware with the same fingerprint",
    )


def test_a_choice_is_a_frozen_value() -> None:
    choice = choose(branch="main", cli_run_id=None, budget_run_id=None, pin=None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        choice.branch = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("branch", "baseline", "eligible"),
    [
        ("main", "main", True),  # a run of the branch checks compare against
        ("feature/more-trees", "main", False),  # a feature branch outside a PR stays a run
        ("release/1.4", "release/1.4", True),  # a budget that makes a branch its own baseline branch
        (None, "main", False),  # no branch known: never a baseline
    ],
)
def test_only_a_run_of_the_baseline_branch_may_become_a_baseline(
    branch: str | None, baseline: str, eligible: bool
) -> None:
    assert may_be_baseline(branch, baseline) is eligible
