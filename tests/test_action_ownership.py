"""The container runs as root: what it writes in the workspace goes back to the workspace's owner.

Run as root (as the container is, and as .ci/run is here): a workspace owned by another uid, files
written by this process, and the check that they changed hands, and that nothing else did.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from gate import action

ROOT = Path(__file__).resolve().parent.parent
OWNER = (4242, 4343)  # the runner's user and group, as the workspace's owner

as_root = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0,
    reason="needs root: only root can write files for another uid to hand back (the container's case)",
)


def owned(path: Path) -> tuple[int, int]:
    info = os.lstat(path)
    return info.st_uid, info.st_gid


def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "workspace"
    (ws / "bench").mkdir(parents=True)
    os.chown(ws, *OWNER)
    os.chown(ws / "bench", *OWNER)
    return ws


@as_root
def test_hand_back_gives_the_owner_what_was_written_since_and_nothing_else(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    before = ws / "root-owned-before.txt"  # e.g. left by an earlier step: not this run's business
    before.write_text("old", encoding="utf-8")
    outside = tmp_path / "outside.txt"  # a link's target outside the workspace must not change
    outside.write_text("x", encoding="utf-8")
    time.sleep(0.05)
    since_s = time.time()
    time.sleep(0.05)
    results = ws / "bench" / ".green-gate" / "results"
    results.mkdir(parents=True)
    written = [results / "check-1.json", ws / "bench" / ".green-gate" / "report.md", ws / "result.json"]
    for path in written:
        path.write_text("{}", encoding="utf-8")
    link = ws / "bench" / "link-out"
    link.symlink_to(outside)

    changed = action.hand_back(ws, since_s=since_s)

    assert changed == 6  # .green-gate/, results/, the three files, the link
    for path in [*written, results, results.parent, link]:
        assert owned(path) == OWNER, path
    assert owned(before) == (0, 0)
    assert owned(outside) == (0, 0)
    assert owned(ws) == OWNER


@as_root
def test_hand_back_does_nothing_in_a_workspace_root_owns(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (ws / ".green-gate").mkdir(parents=True)
    assert action.hand_back(ws, since_s=0.0) == 0
    assert owned(ws / ".green-gate") == (0, 0)


def fake_cli(outcome: int | BaseException) -> action.Cli:
    """A CLI that writes what `green-gate check` writes, then returns or raises `outcome`."""

    def cli(_argv: Sequence[str], cwd: Path, _env: Mapping[str, str]) -> int:
        (cwd / ".green-gate" / "results").mkdir(parents=True)
        (cwd / ".green-gate" / "results" / "check.json").write_text("{}", encoding="utf-8")
        (cwd / ".green-gate" / "report.md").write_text("# report", encoding="utf-8")
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    return cli


@as_root
@pytest.mark.parametrize("outcome", [0, 1, SystemExit(143)], ids=["pass", "fail", "cancelled"])
def test_the_entrypoint_hands_back_whatever_way_the_check_ends(tmp_path: Path, outcome: int | SystemExit) -> None:
    ws = workspace(tmp_path)
    lines: list[str] = []
    env = {"INPUT_WORKING_DIRECTORY": "bench"}
    if isinstance(outcome, SystemExit):
        with pytest.raises(SystemExit):
            action.run(env, cwd=ws, cli=fake_cli(outcome), err=lines.append)
    else:
        assert action.run(env, cwd=ws, cli=fake_cli(outcome), err=lines.append) == outcome
    for path in (ws / "bench" / ".green-gate").rglob("*"):
        assert owned(path) == OWNER, path
    assert owned(ws / "bench" / ".green-gate") == OWNER
    assert f"green-gate: 4 path(s) written in the workspace handed back to {OWNER[0]}:{OWNER[1]}" in lines


@as_root
def test_sigterm_during_the_setup_command_still_hands_back(tmp_path: Path) -> None:
    """The job cancelled while the setup command runs: exit 143, and its files are the owner's."""
    ws = workspace(tmp_path)
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(ROOT),
        "INPUT_WORKING_DIRECTORY": "bench",
        "INPUT_SETUP_COMMAND": "mkdir -p out && echo made > out/file && exec sleep 60",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "gate.action"], cwd=ws, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    made = ws / "bench" / "out" / "file"
    deadline = time.monotonic() + 30
    while not (made.exists() and made.read_text(encoding="utf-8")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert made.exists(), "the setup command did not start"
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 143, stderr.decode()
    # The setup command ran as the workspace's owner: what it wrote is the owner's from the start.
    assert owned(made) == OWNER
    assert owned(made.parent) == OWNER
    assert b"setup_command run as the workspace's owner, 4242:4343" in stderr
