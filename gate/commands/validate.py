"""`green-gate validate`: check a budget file without running anything."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from gate.config.budget import Budget
from gate.config.load import load_budget
from gate.errors import ConfigError, ExitCode


def run(path: Path, *, out: Callable[[str], None], err: Callable[[str], None], lenient: bool = False) -> int:
    try:
        budget = load_budget(path, lenient=lenient)
        _no_placeholder(budget)
    except ConfigError as exc:
        err(f"error: {exc.render()}")
        return int(exc.exit_code)
    for warning in budget.warnings:
        err(f"warning: {warning}")
    names = ", ".join(b.name for b in budget.benchmarks)
    out(f"{path}: valid (version 1; benchmarks: {names})")
    return int(ExitCode.OK)


def _no_placeholder(budget: Budget) -> None:
    """`init`'s placeholder command, left as written where there is no such script, is not a benchmark:
    the file is not ready, though every key in it is valid."""
    from gate.commands.init import PLACEHOLDER_COMMAND, PLACEHOLDER_SCRIPT

    for index, spec in enumerate(budget.benchmarks):
        if spec.shell_command != PLACEHOLDER_COMMAND or (spec.working_directory / PLACEHOLDER_SCRIPT).exists():
            continue
        raise ConfigError(
            f"benchmark {spec.name!r} still runs `green-gate init`'s placeholder `{PLACEHOLDER_COMMAND}`, and "
            f"there is no {PLACEHOLDER_SCRIPT} in {spec.working_directory}",
            hint="set `command:` to the command that runs your benchmark (e.g. python -m mypkg.bench), or add "
            f"{PLACEHOLDER_SCRIPT} beside the budget file",
            file=str(budget.path),
            line=budget.line_of("benchmarks", index, "command"),
        )
