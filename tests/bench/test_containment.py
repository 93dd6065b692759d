"""Every process the benchmark starts ends with it: a daemon that leaves the process group and clears
its environment (`setsid -f env -i ...`, nothing marks it as the benchmark's) is in the benchmark's
cgroup and ends with it, so it cannot change the step's outputs after the gate wrote them."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from gate.bench import cgroup
from tests.support.cli import busy_project, run_cli

pytestmark = pytest.mark.slow

# The benchmark starts the daemon and exits at once; the daemon waits until the gate has written its
# outputs (at most 30 s), then forges the verdict: alive by then, it would have the last word.
DAEMON = """
import subprocess
subprocess.run(
    "setsid -f env -i sh -c 'i=0; while [ ! -s {target} ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done; "
    "echo verdict=forged >> {target}; echo alive > {witness}'",
    shell=True, check=True,
)
"""


def cgroup_or_skip() -> None:
    box = cgroup.create()
    if box is None:
        pytest.skip("no writable cgroup v2 tree on this machine: the gate falls back to process groups here")
    box.remove(1)


def cgroups() -> set[Path]:
    root = cgroup._cgroup2_root()
    return set(root.glob("**/green-gate-*")) if root is not None else set()


def orphaned(paths: set[Path]) -> set[Path]:
    """The cgroups whose gate has exited (named green-gate-<gate pid>-<n>): a gate of another test
    running beside this one keeps its own until it ends."""
    return {path for path in paths if not Path(f"/proc/{path.name.split('-')[2]}").exists()}


def test_a_detached_daemon_cannot_change_the_outputs(tmp_path: Path, cli_env: dict[str, str]) -> None:
    cgroup_or_skip()
    before = cgroups()
    output, witness = tmp_path / "github-output.txt", tmp_path / "alive.txt"
    project = busy_project(tmp_path / "p", iterations=10_000)
    busy = project / "busy.py"
    busy.write_text(DAEMON.format(target=output, witness=witness) + busy.read_text())
    env = {**cli_env, "GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(output), "GITHUB_REF_NAME": "main"}
    done = run_cli("check", "--no-record", "--json", str(tmp_path / "r.json"), cwd=project, env=env)
    assert done.returncode == 0, done.stderr
    assert re.search(r"ended \d+ process(es)? the benchmark left running", done.stderr)
    written = output.read_text()
    assert "verdict=pass" in written
    time.sleep(1)  # a daemon still alive would have forged within 0.1 s of the outputs
    assert output.read_text() == written and not witness.exists()
    assert json.loads((tmp_path / "r.json").read_text())["verdict"] == "pass"
    assert orphaned(cgroups() - before) == set()  # each benchmark's cgroup is removed after it
