"""Running git: the one place the gate starts a git process.

Callers decide what a failure means (a missing branch is an answer, a missing base commit stops
paired mode), so nothing here raises: every outcome, git absent or hung included, is a GitResult.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

# Long enough for `git worktree add` of a large checkout; a hung git (a credential prompt, a lock)
# must still not hold the job.
GIT_TIMEOUT_S = 120


@dataclass(frozen=True)
class GitResult:
    ok: bool  # exit status 0; False also when git is missing or timed out (stderr then says why)
    stdout: str  # stripped
    stderr: str  # stripped


def run(cwd: Path, *args: str, timeout_s: float = GIT_TIMEOUT_S) -> GitResult:
    """`git ARGS` in `cwd`; never raises."""
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        return GitResult(False, "", f"timed out after {timeout_s:g} s")
    except (OSError, subprocess.SubprocessError) as exc:
        return GitResult(False, "", f"cannot run git: {exc}")
    return GitResult(done.returncode == 0, done.stdout.strip(), done.stderr.strip())


def output(cwd: Path, *args: str) -> str | None:
    """The stdout of `git ARGS` when it succeeds and prints something, else None."""
    result = run(cwd, *args)
    return result.stdout if result.ok and result.stdout else None
