"""Running the benchmark as another user: the container action's route, where the gate runs as root.

In the action's container the gate (root) holds the credentials; the benchmark and the
`setup_command` run as the workspace's owner (GREEN_GATE_RUN_AS, set by gate.action), so a root
process's `/proc/<pid>/environ`, memory and open files are out of their reach. In that container
every process of that user is the benchmark's: ending the benchmark ends them all, whatever group,
session or environment they have.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import psutil

RUN_AS_ENV = "GREEN_GATE_RUN_AS"  # "uid:gid"; honoured only by a root gate, and never uid 0


@dataclass(frozen=True)
class RunAs:
    uid: int
    gid: int


def run_as(env: Mapping[str, str] | None = None) -> RunAs | None:
    value = (os.environ if env is None else env).get(RUN_AS_ENV, "")
    uid, sep, gid = value.partition(":")
    if not sep or not uid.isdigit() or not gid.isdigit() or int(uid) == 0:
        return None
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None
    return RunAs(int(uid), int(gid))


def hand_over(path: Path, who: RunAs) -> None:
    """`path` and everything below it (links themselves, not their targets) to `who`."""
    os.lchown(path, who.uid, who.gid)
    for folder, dirs, files in os.walk(path):
        for name in (*dirs, *files):
            try:
                os.lchown(os.path.join(folder, name), who.uid, who.gid)
            except OSError:
                continue


def processes_of(who: RunAs) -> list[psutil.Process]:
    """Every process running as `who` now (real or effective user)."""
    found = []
    for process in psutil.process_iter(["uids"]):
        uids = process.info.get("uids")
        if uids is not None and who.uid in (uids.real, uids.effective):
            found.append(process)
    return found
