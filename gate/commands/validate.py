"""`green-gate validate`: check a budget file without running anything."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from gate.config.load import load_budget
from gate.errors import ConfigError, ExitCode


def run(path: Path, *, out: Callable[[str], None], err: Callable[[str], None]) -> int:
    try:
        budget = load_budget(path)
    except ConfigError as exc:
        err(f"error: {exc.render()}")
        return int(exc.exit_code)
    for warning in budget.warnings:
        err(f"warning: {warning}")
    names = ", ".join(b.name for b in budget.benchmarks)
    out(f"{path}: valid (version 1; benchmarks: {names})")
    return int(ExitCode.OK)
