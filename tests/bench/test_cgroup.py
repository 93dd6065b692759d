"""Finding the cgroup v2 tree and the gate's place in it; no cgroup where the tree cannot be written."""

from __future__ import annotations

import contextlib
import subprocess
from pathlib import Path

import pytest

from gate.bench import cgroup

MOUNTINFO = """\
25 30 0:23 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
33 25 0:28 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
34 33 0:29 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate
35 33 0:30 / /sys/fs/cgroup/cpu rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,cpu
"""


def test_the_cgroup2_mount_and_the_gates_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "mountinfo").write_text(MOUNTINFO)
    (tmp_path / "cgroup").write_text("4:memory:/x\n0::/system.slice/runner.service\n")
    monkeypatch.setattr(cgroup, "MOUNTINFO", tmp_path / "mountinfo")
    monkeypatch.setattr(cgroup, "OWN_CGROUP", tmp_path / "cgroup")
    assert cgroup._cgroup2_root() == Path("/sys/fs/cgroup/unified")
    assert cgroup._own_path() == "/system.slice/runner.service"


def test_cgroup_v1_only_means_no_cgroup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "mountinfo").write_text(MOUNTINFO.replace("cgroup2 cgroup2", "tmpfs tmpfs"))
    monkeypatch.setattr(cgroup, "MOUNTINFO", tmp_path / "mountinfo")
    assert cgroup.create() is None


def test_a_tree_that_cannot_be_written_means_no_cgroup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tree = tmp_path / "tree"
    (tree / "runner").mkdir(parents=True)
    (tmp_path / "mountinfo").write_text(f"34 33 0:29 / {tree} rw,relatime shared:10 - cgroup2 cgroup2 rw\n")
    (tmp_path / "cgroup").write_text("0::/runner\n")
    monkeypatch.setattr(cgroup, "MOUNTINFO", tmp_path / "mountinfo")
    monkeypatch.setattr(cgroup, "OWN_CGROUP", tmp_path / "cgroup")
    # A plain folder has no cgroup.procs: mkdir works, but nothing could be moved into it.
    assert cgroup.create() is None and list((tree / "runner").iterdir()) == []


def test_the_wrapper_joins_then_runs_the_command() -> None:
    box = cgroup.Cgroup(Path("/sys/fs/cgroup/x"))
    assert box.wrap(["python", "b.py"]) == [
        "/bin/sh",
        "-c",
        cgroup.JOIN,
        "/sys/fs/cgroup/x/cgroup.procs",
        "python",
        "b.py",
    ]


def test_a_killed_gates_cgroup_is_ended_at_the_next_execution() -> None:
    probe = cgroup.create()
    if probe is None:
        pytest.skip("no writable cgroup v2 tree on this machine")
    probe.remove(1)
    stale = probe.path.parent / "green-gate-9999999-1"  # above any pid Linux hands out (at most 2^22)
    stale.mkdir()
    left = subprocess.Popen(["sleep", "60"])
    try:
        (stale / "cgroup.procs").write_text(str(left.pid))
        box = cgroup.create()
        assert box is not None
        box.remove(1)
        assert left.wait(timeout=10) == -9 and not stale.exists()
    finally:
        left.kill()
        with contextlib.suppress(OSError):
            stale.rmdir()
