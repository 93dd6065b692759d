"""A gate killed with SIGKILL runs no cleanup: its benchmark's main process is ended by the kernel
(PR_SET_PDEATHSIG), not left running orphaned. (A process that main process starts is not: see
docs/reliability.md, "Not covered here".)"""

from __future__ import annotations

import shutil
import signal
import time
from pathlib import Path

import pytest

from tests.commands.test_check_cancel import BUDGET, _alive, _wait_for
from tests.support.cli import start_cli

pytestmark = pytest.mark.slow

# The second execution writes its pid (twice, as pids.txt holds for the cancel tests) and sleeps.
SLEEPER = """\
import json, os, time
from pathlib import Path
runs = Path("runs.txt")
count = int(runs.read_text()) + 1 if runs.exists() else 1
runs.write_text(str(count))
if count > 1:
    Path("pids.tmp").write_text(f"{os.getpid()} {os.getpid()}")
    os.replace("pids.tmp", "pids.txt")
    time.sleep(120)
json.dump({"predictions": 1000}, open(os.environ["GREEN_GATE_METRICS"], "w"))
"""


@pytest.mark.skipif(shutil.which("setpriv") is None, reason="util-linux's setpriv is not installed")
def test_the_benchmark_ends_with_a_killed_gate(tmp_path: Path, cli_env: dict[str, str]) -> None:
    project = tmp_path / "project"
    project.mkdir()
    # The command as a list: the gate starts it directly, so the process it tethers is the benchmark.
    (project / "green-budget.yml").write_text(BUDGET.replace("command: python bench.py", "command: [python, bench.py]"))
    (project / "bench.py").write_text(SLEEPER)
    proc = start_cli("check", "--no-record", cwd=project, env=cli_env)
    _wait_for(project / "pids.txt", proc, 60)
    bench_pid = int((project / "pids.txt").read_text().split()[0])
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    deadline = time.monotonic() + 10
    while _alive(bench_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(bench_pid)
