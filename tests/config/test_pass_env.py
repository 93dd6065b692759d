"""`pass_env`: the credentials the gate withholds from the benchmark that this benchmark still gets."""

from __future__ import annotations

from pathlib import Path

import pytest

from gate.config.load import parse_budget
from gate.errors import ConfigError, ExitCode

BUDGET = """\
version: 1
benchmarks:
  - name: bench
    command: python bench.py
    pass_env: {value}
"""


def test_pass_env_names_reach_the_model() -> None:
    budget = parse_budget(BUDGET.format(value="[GH_TOKEN, HF_TOKEN]"), Path("green-budget.yml"))
    assert budget.warnings == ()
    assert budget.benchmarks[0].pass_env == ("GH_TOKEN", "HF_TOKEN")


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("GH_TOKEN", "list"),
        ("['GH TOKEN']", "GH TOKEN"),
        ("[GH_TOKEN, GH_TOKEN]", "non-unique"),
        ("['$GH_TOKEN']", "$GH_TOKEN"),
    ],
)
def test_a_bad_pass_env_is_refused_at_its_line(value: str, says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_budget(BUDGET.format(value=value), Path("green-budget.yml"))
    error = caught.value
    assert error.exit_code == ExitCode.USAGE
    assert "green-budget.yml:5" in error.render() and "pass_env" in error.render()
    assert says in error.render()
