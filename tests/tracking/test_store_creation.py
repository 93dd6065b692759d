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

# Waits for the common start instant (after the slow imports), then opens the store and creates
# the experiment, as a check's first MLflow calls do.
OPENER = """\
import sys, time
from gate.tracking.mlflow_store import MlflowStore
uri, start = sys.argv[1], float(sys.argv[2])
time.sleep(max(0.0, start - time.time()))
store = MlflowStore(uri)
print(store.experiment_id("race/bench", create=True))
"""

PROCESSES = 3


def test_processes_opening_a_fresh_store_together_all_get_it(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / '.green-gate' / 'mlflow.db'}"
    start = time.time() + 8  # after every child has imported MLflow, even on a loaded machine
    children = [
        subprocess.Popen(
            [sys.executable, "-c", OPENER, uri, str(start)],
            cwd=tmp_path,
            env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    results = [child.communicate(timeout=180) for child in children]
    assert time.time() > start, "the children met after the start instant, so they raced"
    for child, (_, stderr) in zip(children, results, strict=True):
        assert child.returncode == 0, stderr[-2000:]
    assert len({stdout.strip() for stdout, _ in results}) == 1  # one experiment, the same id for all
