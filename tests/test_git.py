"""Running git: answers, never exceptions, whatever git does."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from gate import git


def test_output_of_a_command_that_succeeds(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", "-b", "trunk", str(tmp_path)], check=True)
    assert git.output(tmp_path, "symbolic-ref", "--short", "HEAD") == "trunk"
    result = git.run(tmp_path, "symbolic-ref", "--short", "HEAD")
    assert result == git.GitResult(True, "trunk", "")


def test_a_failing_command_is_a_result_with_gits_message(tmp_path: Path) -> None:
    result = git.run(tmp_path, "rev-parse", "HEAD")  # not a repository
    assert not result.ok and "not a git repository" in result.stderr
    assert git.output(tmp_path, "rev-parse", "HEAD") is None


def test_empty_output_is_none(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    assert git.run(tmp_path, "tag", "--list").ok
    assert git.output(tmp_path, "tag", "--list") is None


def test_missing_git_and_timeouts_do_not_raise(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert git.run(tmp_path, "--version", timeout_s=1e-6) == git.GitResult(False, "", "timed out after 1e-06 s")
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    result = git.run(tmp_path, "--version")
    assert not result.ok and result.stderr.startswith("cannot run git: ")
    assert git.output(tmp_path, "--version") is None
