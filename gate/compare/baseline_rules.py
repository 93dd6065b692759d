"""Which run is the baseline, and why: the rules as a pure function of plain inputs.

Order, first match wins:
1. `--baseline-run-id` on the command line;
2. `baseline.run_id` in green-budget.yml (after the matching `branches:` override);
3. a release manager's pin for the baseline branch (`green-gate baseline pin RUN_ID`);
4. the latest run on the baseline branch, on hardware with the same fingerprint, that finished within
   budget and was compared (tag `green_gate.baseline_eligible = true`). Only runs of the baseline
   branch itself get that tag; pull-request runs and runs of other branches never do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from gate.tracking.schema import Pin

Source = Literal["command line", "budget file", "pin", "latest"]


@dataclass(frozen=True)
class BaselineChoice:
    branch: str  # the branch whose runs are baselines
    run_id: str | None  # a pinned run; None: search the latest eligible run
    source: Source
    reason: str
    ignored_pin: Pin | None = None  # a release manager's pin that a higher rule overrode


def baseline_branch(
    budget_branch: str | None,
    base_branch: str | None,
    default_branch: str | None,
    branch: str | None,
    *,
    cli_branch: str | None = None,
) -> str:
    """`--base-branch`, else the budget's choice (after branch overrides), else the PR's base, else the
    repository's default branch; only where none of them can be told (no git, no CI), this branch,
    else main."""
    return cli_branch or budget_branch or base_branch or default_branch or branch or "main"


def may_be_baseline(branch: str | None, baseline_branch: str) -> bool:
    """Whether a run of `branch` may become a baseline: only a run of the branch that checks of it
    compare against. A run of a feature branch outside a PR (whose baseline branch is the default
    branch) stays a run, unless the budget makes that branch its own baseline branch."""
    return branch is not None and branch == baseline_branch


def choose(
    *,
    branch: str,
    cli_run_id: str | None,
    budget_run_id: str | None,
    pin: Pin | None,
) -> BaselineChoice:
    if cli_run_id:
        return BaselineChoice(branch, cli_run_id, "command line", "pinned by --baseline-run-id", ignored_pin=pin)
    if budget_run_id:
        return BaselineChoice(
            branch, budget_run_id, "budget file", "pinned by baseline.run_id in the budget file", ignored_pin=pin
        )
    if pin is not None:
        return BaselineChoice(branch, pin.run_id, "pin", describe_pin(branch, pin))
    return BaselineChoice(
        branch,
        None,
        "latest",
        f"latest run on `{branch}` that passed its budget, on hardware with the same fingerprint",
    )


def describe_pin(branch: str, pin: Pin) -> str:
    text = f"pinned for `{branch}` with `green-gate baseline pin`"
    if pin.pinned_by:
        text += f" by {pin.pinned_by}"
    if pin.pinned_at:
        text += f" at {pin.pinned_at}"
    if pin.note:
        text += f" ({pin.note})"
    return text


def energy_method_differences(baseline_method: str | None, current_method: str) -> tuple[str, ...]:
    """Why a baseline's energy figure is not comparable with this run's: another method or scope set.

    A run without the tag was logged by a gate that charged CPU and RAM machine-wide; only a GPU-gated
    total (which that gate measured as today) stays comparable with it.
    """
    if baseline_method is None:
        if all(part.startswith("gpu:") for part in current_method.split("+") if part):
            return ()
        return (f"energy method: not recorded (an older green-gate, CPU and RAM machine-wide) vs {current_method}",)
    if baseline_method != current_method:
        return (f"energy method: {baseline_method} vs {current_method}",)
    return ()
