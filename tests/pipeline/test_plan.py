"""The check's plan: which comparison mode wins when the command line and the budget both name one."""

from __future__ import annotations

from pathlib import Path

from gate.config.load import parse_budget
from gate.pipeline.plan import with_comparison_mode

BUDGET = "version: 1\nbenchmarks:\n  - name: b\n    command: x\n"


def test_the_command_line_mode_overrides_the_budget_s_own_and_says_where() -> None:
    budget = parse_budget(BUDGET + "comparison:\n  mode: paired\n", Path("green-budget.yml"))
    overridden, warning = with_comparison_mode(budget, "history")
    assert overridden.comparison.mode == "history"
    assert warning is not None
    assert "overrides comparison.mode: paired in green-budget.yml:6" in warning


def test_no_warning_when_the_budget_leaves_the_mode_to_its_default_or_agrees() -> None:
    default = parse_budget(BUDGET, Path("green-budget.yml"))
    assert with_comparison_mode(default, "paired")[1] is None
    assert with_comparison_mode(default, "paired")[0].comparison.mode == "paired"
    agreeing = parse_budget(BUDGET + "comparison:\n  mode: auto\n", Path("green-budget.yml"))
    assert with_comparison_mode(agreeing, "auto") == (agreeing, None)


def test_repeats_on_the_command_line_turn_adaptive_repeats_off() -> None:
    from gate.pipeline.plan import CheckOptions, _override

    (spec,) = parse_budget(BUDGET + "    repeats: {min: 3, max: 12}\n", Path("green-budget.yml")).benchmarks
    assert _override(spec, CheckOptions(Path("b.yml"))) == spec
    fixed = _override(spec, CheckOptions(Path("b.yml"), repeats=4))
    assert (fixed.repeats, fixed.repeats_max) == (4, None)
