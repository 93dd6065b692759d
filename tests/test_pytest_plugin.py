"""The pytest plugin green-gate ships: each pytest-benchmark case a phase, when the gate runs it."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from gate.energy.phases import attribute, parse_phases
from gate.phase import PHASES_ENV
from tests.support.tools import write_tools

REPO = Path(__file__).resolve().parents[1]
CASES = ("test_small", "test_medium", "test_large", "test_sort", "test_join")

pytestmark = pytest.mark.slow


def _suite(folder: Path, env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    write_tools(folder)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "gate.pytest_plugin", *extra],
        cwd=folder,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), **env},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_each_benchmark_case_is_a_phase_counting_its_timed_calls(tmp_path: Path) -> None:
    marks = tmp_path / "phases.jsonl"
    done = _suite(tmp_path, {PHASES_ENV: str(marks)}, "test_suite.py")
    assert done.returncode == 0, done.stdout + done.stderr
    windows = parse_phases(marks.read_text())
    assert tuple(w.name for w in windows) == CASES
    assert all(w.items == 40 for w in windows)  # 40 rounds × 1 iteration each
    assert all(w.cpu_s is not None and w.cpu_s > 0 for w in windows)
    run = attribute(windows, windows[0].t0_s - 1, windows[-1].t1_s + 1)
    large = next(p for p in run.by_phase if p.name == "test_large")
    small = next(p for p in run.by_phase if p.name == "test_small")
    assert large.cpu_s is not None and small.cpu_s is not None and large.cpu_s > 2 * small.cpu_s  # 3× the work


def test_without_the_gate_the_plugin_marks_nothing(tmp_path: Path) -> None:
    done = _suite(tmp_path, {}, "test_suite.py")
    assert done.returncode == 0, done.stdout + done.stderr
    assert not list(tmp_path.glob("*.jsonl"))


def test_a_failing_case_ends_its_phase_as_failed_and_the_suite_fails(tmp_path: Path) -> None:
    marks = tmp_path / "phases.jsonl"
    write_tools(tmp_path)
    (tmp_path / "test_broken.py").write_text("def test_broken(benchmark):\n    benchmark(lambda: 1 / 0)\n")
    done = _suite(tmp_path, {PHASES_ENV: str(marks)}, "test_broken.py")
    assert done.returncode == 1
    (start, end) = (json.loads(line) for line in marks.read_text().splitlines())
    assert (start["event"], end["event"], end["phase"], end["ok"]) == ("start", "end", "test_broken", False)


def test_the_plugin_is_registered_with_pytest_when_the_package_is_installed() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    # Its name is its module's: `-p gate.pytest_plugin` (as the tests load it) is then the same plugin,
    # not a second registration pytest refuses.
    assert project["project"]["entry-points"]["pytest11"] == {"gate.pytest_plugin": "gate.pytest_plugin"}
