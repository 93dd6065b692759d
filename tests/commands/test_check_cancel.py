"""A cancelled check (SIGTERM from the CI runner, Ctrl-C, a lost terminal): the real CLI, signalled
while its benchmark runs, ends the benchmark's processes, removes its temporary files and keeps what
was measured, with the reason, in the result file."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.cli import start_cli
from tests.support.documents import validate_result

pytestmark = pytest.mark.slow

# The first execution finishes at once; the second starts a child that sleeps, writes both pids and
# waits for it: the gate is signalled then, with one repeat measured.
BENCH = """\
import json, os, subprocess
from pathlib import Path
runs = Path("runs.txt")
count = int(runs.read_text()) + 1 if runs.exists() else 1
runs.write_text(str(count))
if count > 1:
    child = subprocess.Popen(["sleep", "120"])
    Path("pids.tmp").write_text(f"{os.getpid()} {child.pid}")
    os.replace("pids.tmp", "pids.txt")
    child.wait()
json.dump({"predictions": 1000}, open(os.environ["GREEN_GATE_METRICS"], "w"))
"""

BUDGET = """\
version: 1
benchmarks:
  - name: sleepy
    command: python bench.py
    repeats: 3
    warmup: 0
    timeout_s: 300
limits:
  energy_per_prediction_j: {warn: +2%, fail: +5%}
carbon:
  intensity_g_per_kwh: 100
"""


def _alive(pid: int) -> bool:
    """Whether `pid` still runs; a zombie nobody has reaped yet has ended."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _wait_for(path: Path, proc: subprocess.Popen[str], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        if proc.poll() is not None:
            pytest.fail(f"the gate ended (exit {proc.returncode}) before the second repeat: {proc.communicate()[1]}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"no second repeat after {timeout_s} s")
        time.sleep(0.05)


@pytest.mark.parametrize(
    ("signum", "exit_code", "name"),
    [(signal.SIGTERM, 143, "SIGTERM"), (signal.SIGINT, 130, "SIGINT"), (signal.SIGHUP, 129, "SIGHUP")],
)
def test_signal_ends_the_benchmark_and_keeps_the_measured_repeat(
    tmp_path: Path, cli_env: dict[str, str], signum: signal.Signals, exit_code: int, name: str
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "green-budget.yml").write_text(BUDGET)
    (project / "bench.py").write_text(BENCH)
    tmp = tmp_path / "tmp"  # where the gate's temporary metrics folder is made
    tmp.mkdir()
    proc = start_cli("check", "--no-record", cwd=project, env={**cli_env, "TMPDIR": str(tmp)})
    _wait_for(project / "pids.txt", proc, timeout_s=120)
    bench_pid, child_pid = (int(p) for p in (project / "pids.txt").read_text().split())
    assert _alive(bench_pid) and _alive(child_pid)

    sent = time.monotonic()
    proc.send_signal(signum)
    try:
        _, stderr = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail(f"the gate did not end within 30 s of {name}")
    took_s = time.monotonic() - sent

    assert proc.returncode == exit_code, stderr
    assert took_s < 5, f"{took_s:.1f} s from {name} to exit"
    assert "Traceback" not in stderr
    assert f"cancelled by {name}" in stderr
    assert not _alive(bench_pid) and not _alive(child_pid)
    assert list(tmp.glob("green-gate-*")) == []
    (result,) = (project / ".green-gate" / "results").glob("*.json")  # no temporary file beside it
    doc = json.loads(result.read_text())
    assert doc["verdict"] == "error" and doc["exit_code"] == exit_code
    assert doc["complete"] is False  # stopped before its end: not the check's final result
    validate_result(doc)
    assert doc["error"]["title"] == "cancelled" and f"cancelled by {name}" in doc["error"]["message"]
    (bench,) = doc["benchmarks"]
    assert len(bench["per_repeat"]["energy_j"]) == 1  # the first repeat's figures
    assert bench["metrics"]["energy_j"] > 0


# The second execution starts a grandchild in a session of its own, out of the benchmark's process
# group, which writes its pid and sleeps; the benchmark then waits too.
ESCAPING_BENCH = """\
import json, os, subprocess, sys, time
from pathlib import Path
runs = Path("runs.txt")
count = int(runs.read_text()) + 1 if runs.exists() else 1
runs.write_text(str(count))
if count > 1:
    grandchild = (
        "import os, time\\n"
        "open('pid.tmp', 'w').write(str(os.getpid())); os.replace('pid.tmp', 'pids.txt')\\n"
        "time.sleep(600)\\n"
    )
    subprocess.Popen(["setsid", sys.executable, "-c", grandchild])
    time.sleep(600)
json.dump({"predictions": 1000}, open(os.environ["GREEN_GATE_METRICS"], "w"))
"""


def test_sigterm_also_ends_a_grandchild_that_left_the_group(tmp_path: Path, cli_env: dict[str, str]) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "green-budget.yml").write_text(BUDGET)
    (project / "bench.py").write_text(ESCAPING_BENCH)
    proc = start_cli("check", "--no-record", cwd=project, env=cli_env)
    _wait_for(project / "pids.txt", proc, timeout_s=120)
    grandchild = int((project / "pids.txt").read_text())
    assert _alive(grandchild)
    # It leads a process group of its own: killing the benchmark's group does not reach it.
    assert Path(f"/proc/{grandchild}/stat").read_text().rsplit(")", 1)[1].split()[2] == str(grandchild)

    proc.send_signal(signal.SIGTERM)
    try:
        _, stderr = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("the gate did not end within 30 s of SIGTERM")
    assert proc.returncode == 143, stderr
    assert "cancelled by SIGTERM" in stderr
    assert not _alive(grandchild)
