"""The pyperf hook green-gate ships: each pyperf benchmark a phase, when the gate runs the script."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from gate.energy.phases import attribute, parse_phases
from gate.phase import PHASES_ENV
from gate.pyperf_hook import PhaseHook

REPO = Path(__file__).resolve().parents[1]
# As `--hook green_gate` finds it when green-gate is installed; here through pyperf's own custom-hook
# parameter, which takes the same entry point.
SCRIPT = """\
import importlib.metadata
import pyperf

hook = importlib.metadata.EntryPoint(name="green_gate", value="gate.pyperf_hook:PhaseHook", group="pyperf.hook")
runner = pyperf.Runner(values=2, processes=2, warmups=1, loops=64, hooks=[hook])
runner.timeit("sum_1k", stmt="sum(range(1000))")
runner.timeit("sorted_1k", stmt="sorted(data)", setup="data = list(range(1000, 0, -1))")
"""


@pytest.mark.slow
def test_each_pyperf_benchmark_is_a_phase_counting_its_calls(tmp_path: Path) -> None:
    (tmp_path / "bench.py").write_text(SCRIPT)
    marks = tmp_path / "phases.jsonl"
    done = subprocess.run(
        [
            sys.executable,
            "bench.py",
            "--quiet",
            "--hook",
            "green_gate",
            "--inherit-environ",
            f"{PHASES_ENV},PYTHONPATH",
            "-o",
            "out.json",
        ],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), PHASES_ENV: str(marks)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    windows = parse_phases(marks.read_text())
    # 2 worker processes × (1 warm-up + 2 values) per benchmark, each value 64 loops; no calibration run
    assert [w.name for w in windows] == ["sum_1k"] * 6 + ["sorted_1k"] * 6
    assert all(w.items == 64 and w.cpu_s is not None for w in windows)
    run = attribute(windows, windows[0].t0_s, windows[-1].t1_s)
    assert [(p.name, p.items) for p in run.by_phase] == [("sum_1k", 6 * 64), ("sorted_1k", 6 * 64)]


def test_without_the_gate_or_while_calibrating_it_marks_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marks = tmp_path / "phases.jsonl"
    hook = PhaseHook()
    with hook:
        pass
    hook.teardown({"name": "b"})  # no GREEN_GATE_PHASES: nothing to write to
    monkeypatch.setenv(PHASES_ENV, str(marks))
    monkeypatch.setattr(sys, "argv", ["bench.py", "--worker", "--calibrate-loops"])
    with hook:
        pass
    hook.teardown({"name": "b"})
    assert not marks.exists()
    monkeypatch.setattr(sys, "argv", ["bench.py", "--worker", "--loops", "8"])
    with hook:
        pass
    hook.teardown({"name": "b", "inner_loops": 10})
    (window,) = parse_phases(marks.read_text())
    assert (window.name, window.items) == ("b", 80)


def test_the_hook_is_registered_with_pyperf_when_the_package_is_installed() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert project["project"]["entry-points"]["pyperf.hook"] == {"green_gate": "gate.pyperf_hook:PhaseHook"}
