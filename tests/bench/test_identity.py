"""The container action's route: a root gate runs the benchmark as another user (GREEN_GATE_RUN_AS),
whose processes are then all the benchmark's and all end with it."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gate.bench import identity, subreaper
from gate.bench.process import execute

# A user no process on the machine runs as: every process of it is the test's.
UID = GID = 54321

as_root = pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="switching users needs root")


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A folder the other user may write in (pytest's tmp_path is root's alone)."""
    path = Path(tempfile.mkdtemp(prefix="gg-identity-"))
    path.chmod(0o777)
    yield path
    for child in path.iterdir():
        child.unlink()
    path.rmdir()


def test_only_a_root_gate_switches_and_never_to_root() -> None:
    assert identity.run_as({identity.RUN_AS_ENV: "0:0"}) is None
    assert identity.run_as({identity.RUN_AS_ENV: "x:1"}) is None
    assert identity.run_as({}) is None
    if os.geteuid() != 0:
        assert identity.run_as({identity.RUN_AS_ENV: "1000:1000"}) is None


@pytest.mark.slow  # the daemon ignores SIGTERM: it ends at the SIGKILL after the grace
@as_root
def test_the_benchmark_runs_as_the_user_and_all_its_processes_end(
    shared_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(identity.RUN_AS_ENV, f"{UID}:{GID}")
    monkeypatch.setenv("GG_PLANTED", "planted-in-the-gate")
    command = (
        "id -u > uid.txt; "
        "cat /proc/$PPID/environ > gate-environ.txt 2>/dev/null || echo refused > gate-environ.txt; "
        # Leaves the group and the environment, ignores SIGTERM: only the user's sweep and SIGKILL end it.
        # Its sleep outlasts the grace before SIGKILL (5 s) even on a loaded runner, so a daemon the
        # sweep missed is still running at the check below rather than racing it.
        "setsid -f env -i sh -c 'trap \"\" TERM; sleep 30; touch forged.txt'; "
        'echo \'{"predictions": 5}\' > "$GREEN_GATE_METRICS"'
    )
    logged: list[str] = []
    done = execute(None, command, cwd=shared_dir, env={}, timeout_s=30, echo=lambda _l: None, log=logged.append)
    assert done.returncode == 0 and done.metrics_text is not None and '"predictions": 5' in done.metrics_text
    assert (shared_dir / "uid.txt").read_text().strip() == str(UID)
    assert (shared_dir / "gate-environ.txt").read_text().strip() == "refused"  # root's process is out of reach
    assert logged and logged[0].startswith("ended ")
    left = [p for p in identity.processes_of(identity.RunAs(UID, GID)) if subreaper.running(p)]
    assert left == []  # every process of the user has ended (a zombie waits for its parent to reap it)
    time.sleep(1)
    assert not (shared_dir / "forged.txt").exists()
