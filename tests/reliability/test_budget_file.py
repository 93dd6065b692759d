"""Property: whatever a budget file holds, loading it ends in a Budget or a ConfigError (exit 2) that
names the file and the line, in a message of bounded length; never another exception, never a hang,
never a non-finite number in the model."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given

from gate.config.budget import Budget
from gate.config.load import parse_budget
from gate.errors import ConfigError, ExitCode
from tests.reliability.strategies import REPRODUCIBLE_THOUSAND, budget_texts

FILE = "green-budget.yml"
MAX_MESSAGE_CHARS = 2_000

# About 10 s for the 1,000 cases, mostly in generating them: the slow tier.
pytestmark = pytest.mark.slow


def numbers_in(value: Any) -> list[float]:
    """Every int and float in the model, however deep."""
    if isinstance(value, bool):
        return []
    if isinstance(value, (int, float)):
        return [float(value)]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [n for f in dataclasses.fields(value) for n in numbers_in(getattr(value, f.name))]
    if isinstance(value, dict):
        return [n for item in value.values() for n in numbers_in(item)]
    if isinstance(value, (list, tuple)):
        return [n for item in value for n in numbers_in(item)]
    return []


@REPRODUCIBLE_THOUSAND
@given(budget_texts())
def test_any_budget_text_loads_or_is_a_config_error_with_file_and_line(text: str) -> None:
    try:
        budget = parse_budget(text, Path(FILE))
    except ConfigError as error:
        assert error.exit_code == ExitCode.USAGE
        assert error.file == FILE
        assert error.line is not None, error.render()
        assert len(error.render()) <= MAX_MESSAGE_CHARS, error.render()[:500]
        return
    assert isinstance(budget, Budget)
    assert all(math.isfinite(n) for n in numbers_in(budget))
    assert all(len(w) <= MAX_MESSAGE_CHARS for w in budget.warnings)
