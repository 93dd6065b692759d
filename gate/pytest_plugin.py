"""A pytest plugin that makes each pytest-benchmark case a measured phase of its own.

Installed with green-gate (entry point `pytest11`), it does nothing unless the gate runs the
suite: then `GREEN_GATE_PHASES` is set, and each test that uses pytest-benchmark's `benchmark`
fixture runs inside `gate.phase.phase(<test name>, items=<rounds × iterations>)`. The gate then
measures each case's energy apart (its GPU windows, its CPU seconds), reports one row per case and
judges the budget's `cases:` limits on each. Where green-gate is not installed in the suite's
environment, load it with `pytest -p gate.pytest_plugin`.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from typing import Any

import pytest

from gate.phase import PHASES_ENV, phase

BENCHMARK_FIXTURE = "benchmark"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, None]:
    if not os.environ.get(PHASES_ENV) or BENCHMARK_FIXTURE not in getattr(item, "fixturenames", ()):
        yield
        return
    with phase(item.name) as marked:
        outcome = yield
        marked.items = _calls(getattr(item, "funcargs", {}).get(BENCHMARK_FIXTURE))
        outcome.get_result()  # a failed case is a failed phase: its end mark says so


def _calls(fixture: object) -> int | None:
    """The calls the benchmark timed: rounds × iterations (pytest-benchmark's own stats)."""
    metadata = getattr(fixture, "stats", None)
    rounds = getattr(getattr(metadata, "stats", None), "rounds", None)
    iterations = getattr(metadata, "iterations", None)
    if isinstance(rounds, int) and isinstance(iterations, int) and rounds > 0 and iterations > 0:
        return rounds * iterations
    return None
