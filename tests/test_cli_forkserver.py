"""The tests' CLI runs forked from a preloaded Python (tests/support/cli_forkserver.py) are the CLI's
runs: what a fresh `python -m gate` returns, prints and writes, they return, print and write."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.cli import (
    FRESH_CLI_ENV,
    CliResult,
    busy_project,
    cli_environment,
    forked_cpu_s,
    run_cli,
    start_forkserver,
)

pytestmark = pytest.mark.slow  # a fresh interpreter per comparison: seconds


@pytest.fixture(autouse=True)
def _forking(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(FRESH_CLI_ENV, raising=False)
    start_forkserver()  # whatever this session holds


def both(*args: str, cwd: Path, env: dict[str, str]) -> tuple[CliResult, CliResult]:
    """The same run forked, then fresh; asserting that the first was forked indeed."""
    before = forked_cpu_s()
    forked = run_cli(*args, cwd=cwd, env=env)
    assert forked_cpu_s() > before, "the run did not go through the forkserver"
    return forked, run_cli(*args, cwd=cwd, env=env, fresh=True)


def test_version_a_refused_budget_and_an_empty_history_read_the_same(tmp_path: Path) -> None:
    env = cli_environment()
    (tmp_path / "green-budget.yml").write_text("version: 1\nbenchmarks:\n  - name: x\n    comand: python -c pass\n")
    for args in (("--version",), ("validate",), ("check", "--no-record"), ("history", "--budget", "missing.yml")):
        forked, fresh = both(*args, cwd=tmp_path, env=env)
        assert forked == fresh, args
    refused = run_cli("validate", cwd=tmp_path, env=env)
    assert refused.returncode == 2 and "error: green-budget.yml:4: unknown key" in refused.stderr, refused.stderr


def test_a_check_takes_its_directory_environment_and_arguments(tmp_path: Path) -> None:
    forked_dir, fresh_dir = busy_project(tmp_path / "forked"), busy_project(tmp_path / "fresh")
    results = {}
    for name, project, fresh in (("forked", forked_dir, False), ("fresh", fresh_dir, True)):
        outputs = project / "github-output.txt"
        env = {**cli_environment(), "GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(outputs), "GITHUB_REF_NAME": "main"}
        done = run_cli("check", "--no-record", "--json", "r.json", cwd=project, env=env, fresh=fresh)
        assert done.returncode == 0, done.stderr
        doc = json.loads((project / "r.json").read_text())
        results[name] = (
            done.stdout.splitlines()[0],
            doc["verdict"],
            doc["context"]["branch"],
            [b["name"] for b in doc["benchmarks"]],
            "verdict=pass" in outputs.read_text(),
            (project / ".green-gate" / "report.md").read_text() == done.stdout,
        )
    assert results["forked"] == results["fresh"]
    assert results["forked"][1:] == ("pass", "main", ["busy"], True, True)


def test_a_run_past_its_timeout_is_killed_and_raises_as_subprocess_run_does(tmp_path: Path) -> None:
    project = busy_project(tmp_path)
    (project / "busy.py").write_text("import time\ntime.sleep(60)\n")
    started = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        run_cli("check", "--no-record", cwd=project, env=cli_environment(), timeout_s=2)
    assert time.monotonic() - started < 30
    # The forkserver answers the next run: the killed one was reaped, not left holding it.
    forked, _fresh = both("--version", cwd=project, env=cli_environment())
    assert forked.returncode == 0


def test_a_run_with_other_interpreter_settings_starts_fresh(tmp_path: Path) -> None:
    both("--version", cwd=tmp_path, env=cli_environment())  # the forkserver answers runs like it
    before = forked_cpu_s()
    env = {**cli_environment(), "PYTHONPATH": os.pathsep.join([cli_environment()["PYTHONPATH"], str(tmp_path)])}
    assert run_cli("--version", cwd=tmp_path, env=env).returncode == 0
    assert forked_cpu_s() == before
