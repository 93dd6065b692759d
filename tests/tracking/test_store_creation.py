"""Two gates at once on a fresh embedded store (the default without MLFLOW_TRACKING_URI): both create
and migrate the same sqlite file. Without a lock one of them lost the migration race ("table
latest_metrics already exists", "Online migration expected to match one row") and reported MLflow as
unavailable; with it both get the store. Real processes, started together at one instant."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.cli import REPO

pytestmark = pytest.mark.slow

# Says it is ready once its slow imports are done, then waits for the start instant the test hands
# out when every child is ready; then opens the store and creates the experiment, as a check's first
# MLflow calls do. It prints how late it was for that instant, then the experiment's id.
OPENER = """\
import sys, time
from pathlib import Path
from gate.tracking.mlflow_store import MlflowStore
uri, ready, go = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
ready.touch()
while not go.exists():
    time.sleep(0.005)
start = float(go.read_text())
late_s = time.time() - start
time.sleep(max(0.0, -late_s))
store = MlflowStore(uri)
print(late_s)
print(store.experiment_id("race/bench", create=True))
"""

PROCESSES = 3
START_AHEAD_S = 0.5  # seconds between handing out the instant and the instant: polled every 5 ms


def test_processes_opening_a_fresh_store_together_all_get_it(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / '.green-gate' / 'mlflow.db'}"
    go = tmp_path / "go"
    ready = [tmp_path / f"ready-{i}" for i in range(PROCESSES)]
    children = [
        subprocess.Popen(
            [sys.executable, "-c", OPENER, uri, str(flag), str(go)],
            cwd=tmp_path,
            env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for flag in ready
    ]
    # A start instant once every child has imported MLflow (not a fixed guess at how long that takes),
    # far enough ahead for each to see it while it still lies ahead.
    deadline = time.monotonic() + 180
    while not all(flag.exists() for flag in ready):
        assert all(child.poll() is None for child in children), [child.communicate()[1][-2000:] for child in children]
        assert time.monotonic() < deadline, "the children did not finish their imports"
        time.sleep(0.01)
    (tmp_path / "go.tmp").write_text(repr(time.time() + START_AHEAD_S))
    (tmp_path / "go.tmp").rename(go)  # whole: no child reads a half-written instant
    results = [child.communicate(timeout=180) for child in children]
    for child, (_, stderr) in zip(children, results, strict=True):
        assert child.returncode == 0, stderr[-2000:]
    late_s = [float(stdout.split()[0]) for stdout, _ in results]
    assert max(late_s) < 0, f"a child saw the start instant only after it had passed ({late_s} s): no race"
    assert len({stdout.split()[1] for stdout, _ in results}) == 1  # one experiment, the same id for all
