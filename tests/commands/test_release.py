"""Release-manager commands through the real CLI against a real `mlflow server`."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import uuid
from pathlib import Path

import pytest

from gate.tracking.mlflow_store import MlflowStore
from tests.support.cli import run_cli
from tests.support.mlflow import HW, MlflowServer, record

pytestmark = pytest.mark.slow


def git_repo(path: Path, commits: int) -> list[str]:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t"}
    env["GIT_COMMITTER_EMAIL"] = "t@example.com"
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    shas = []
    for i in range(commits):
        git_env = {**env, "PATH": "/usr/bin:/bin"}
        subprocess.run(["git", "commit", "-q", "--allow-empty", "-m", f"c{i}"], cwd=path, check=True, env=git_env)
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=path, capture_output=True, text=True, check=True)
        shas.append(head.stdout.strip())
    return shas


def test_show_pin_unpin_and_history(tmp_path: Path, mlflow_server: MlflowServer, cli_env: dict[str, str]) -> None:
    project = tmp_path / "repo"
    shas = git_repo(project, 3)
    experiment = f"cli-{uuid.uuid4().hex[:8]}/bench"
    (project / "green-budget.yml").write_text(
        "version: 1\nbenchmarks:\n  - {name: bench, command: python b.py}\n"
        f"mlflow:\n  experiment: {experiment.split('/')[0]}/{{benchmark}}\n"
    )
    store = MlflowStore(mlflow_server.url)
    now = 1_800_000_000_000  # after the commits: runs start after their commit exists
    ids = [store.log_record(record(experiment, commit=sha, start_time_ms=now + i))[0] for i, sha in enumerate(shas)]
    pr_run = record(experiment, commit="f" * 40, branch="feature/x", pr=9, eligible=False, start_time_ms=now + 9)
    store.log_record(pr_run)
    env = {**cli_env, "MLFLOW_TRACKING_URI": mlflow_server.url}
    show_args = ("baseline", "show", "--branch", "main", "--hardware", HW)

    shown = run_cli(*show_args, cwd=project, env=env)
    assert shown.returncode == 0, shown.stderr
    assert f"baseline run:    {ids[2]}" in shown.stdout
    assert "rule:            latest: latest run on `main` that passed its budget" in shown.stdout

    pinned = run_cli("baseline", "pin", ids[0], "--note", "v1.4 release", cwd=project, env={**env, "USER": "rm"})
    assert pinned.returncode == 0, pinned.stderr
    assert f"pinned run {ids[0]} as the baseline for `main`" in pinned.stdout
    shown = run_cli(*show_args, cwd=project, env=env)
    assert f"baseline run:    {ids[0]}" in shown.stdout
    assert "rule:            pin: pinned for `main` with `green-gate baseline pin` by rm" in shown.stdout
    assert "(v1.4 release)" in shown.stdout

    unpinned = run_cli("baseline", "unpin", "--branch", "main", cwd=project, env=env)
    assert unpinned.returncode == 0 and f"unpinned run {ids[0]}" in unpinned.stdout
    assert f"baseline run:    {ids[2]}" in run_cli(*show_args, cwd=project, env=env).stdout
    missing = run_cli("baseline", "pin", "0" * 32, cwd=project, env=env)
    assert missing.returncode == 2 and "does not exist" in missing.stderr and "Traceback" not in missing.stderr

    table = run_cli("history", cwd=project, env=env)
    assert table.returncode == 0, table.stderr
    assert table.stdout.splitlines()[0].split()[:4] == ["time", "(UTC)", "commit", "branch"]
    assert [line.split()[2] for line in table.stdout.splitlines()[2:]] == ["fffffff", *(s[:7] for s in reversed(shas))]

    ranged = run_cli("history", "--commits", f"{shas[0]}..main", "--format", "csv", cwd=project, env=env)
    assert ranged.returncode == 0, ranged.stderr
    assert [row["commit"] for row in csv.DictReader(io.StringIO(ranged.stdout))] == [shas[2], shas[1]]
    as_json = run_cli("history", "--branch", "feature/x", "--format", "json", cwd=project, env=env)
    assert [r["pr_number"] for r in json.loads(as_json.stdout)] == [9]
    bad = run_cli("history", "--commits", "nope..main", cwd=project, env=env)
    assert bad.returncode == 2 and "not a revision range" in bad.stderr
