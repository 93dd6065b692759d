"""The README's budget reference is a budget the gate accepts, without warnings."""

from __future__ import annotations

import re
from pathlib import Path

from gate.config.load import parse_budget

README = Path(__file__).resolve().parent.parent / "README.md"


def test_budget_reference_in_readme_is_valid() -> None:
    blocks = re.findall(r"```yaml\n(version: 1 .*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    assert blocks, "README.md has no ```yaml block starting with 'version: 1'"
    for block in blocks:
        budget = parse_budget(block, Path("README.md"))
        assert budget.warnings == ()
        assert budget.benchmarks
