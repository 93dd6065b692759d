"""Secrets never leave the process through the other commands either: `history`, `baseline show`,
`upload` and `wait` run as the real CLI with credentials planted in their environment and in the
data they print (a run's branch, a spool file's name, the carbon API's address); then everything
they wrote (stdout, stderr, the history file, the job's outputs) is searched for them."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from gate import paths
from gate.tracking import spool
from gate.tracking.mlflow_store import MlflowStore
from tests.support.cli import CliResult, busy_project, cli_environment, commit_all, run_cli
from tests.support.mlflow import HW, free_port, record, seed_embedded_store

pytestmark = pytest.mark.slow

GITHUB_TOKEN = f"ghp_planted{uuid.uuid4().hex}"
MLFLOW_PASSWORD = f"mlflow-pw-{uuid.uuid4().hex}"
EM_TOKEN = f"em-token-{uuid.uuid4().hex}"  # under a variable only the command line names
PLANTED = (GITHUB_TOKEN, MLFLOW_PASSWORD, EM_TOKEN)
EXPERIMENT = "leak/busy"


def _env(**extra: str) -> dict[str, str]:
    return {
        **cli_environment(),
        "GITHUB_TOKEN": GITHUB_TOKEN,
        "MLFLOW_TRACKING_PASSWORD": MLFLOW_PASSWORD,
        "MY_EM_TOKEN": EM_TOKEN,
        **extra,
    }


def _assert_clean(*texts: str) -> None:
    for text in texts:
        for secret in PLANTED:
            assert secret not in text
    assert any("***" in text for text in texts), "the planted values were to reach this output, masked"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = busy_project(tmp_path / "project", f"mlflow:\n  experiment: {EXPERIMENT.replace('busy', '{benchmark}')}\n")
    commit_all(root, "start")
    store = MlflowStore(f"sqlite:///{seed_embedded_store(root).resolve()}")
    leaky = record(EXPERIMENT, branch=f"feat/{GITHUB_TOKEN}")
    store.log_record(replace(leaky, params={**leaky.params, "command": f"python busy.py --pw {MLFLOW_PASSWORD}"}))
    store.log_record(record(EXPERIMENT, branch="main", start_time_ms=1_700_000_100_000))
    return root


@pytest.mark.parametrize("output_format", ["table", "csv", "json"])
def test_history_redacts_stdout_and_its_file(project: Path, output_format: str) -> None:
    shown = run_cli("history", "--format", output_format, cwd=project, env=_env())
    assert shown.returncode == 0, shown.stderr
    written = run_cli("history", "--format", output_format, "-o", "out/history.txt", cwd=project, env=_env())
    assert written.returncode == 0, written.stderr
    _assert_clean(shown.stdout + shown.stderr, (project / "out" / "history.txt").read_text(encoding="utf-8"))


def test_baseline_show_redacts_the_branch_it_prints(project: Path) -> None:
    shown = run_cli("baseline", "show", "--branch", f"feat/{GITHUB_TOKEN}", "--hardware", HW, cwd=project, env=_env())
    assert shown.returncode == 0, shown.stderr
    _assert_clean(shown.stdout + shown.stderr)


def test_upload_redacts_spool_file_names_and_problems(project: Path) -> None:
    directory = paths.spool_dir(project)
    directory.mkdir(parents=True)
    spooled = spool.put(directory, record(EXPERIMENT, branch=f"feat/{GITHUB_TOKEN}"), reason="test")
    spooled.rename(directory / f"{GITHUB_TOKEN}.json")
    (directory / f"{MLFLOW_PASSWORD}.json").write_text("{not json", encoding="utf-8")
    done = run_cli("upload", cwd=project, env=_env())
    assert done.returncode == 4, done.stderr  # the unreadable file stays and is reported
    uploaded, summary = done.stdout.splitlines()
    store = f"sqlite:///{paths.mlflow_db(project).resolve()}"  # the embedded store: MLFLOW_TRACKING_URI is unset
    assert re.fullmatch(rf"uploaded \*\*\*\.json to {re.escape(store)} as MLflow run \S+", uploaded), uploaded
    assert summary == f"1 uploaded, 0 already in MLflow, 1 unreadable; MLflow: {store}"
    _assert_clean(done.stdout, done.stderr)


def test_upload_to_an_unreachable_server_keeps_the_uri_password_out(project: Path) -> None:
    directory = paths.spool_dir(project)
    spool.put(directory, record(EXPERIMENT), reason="test")
    uri = f"http://ci:{MLFLOW_PASSWORD}@127.0.0.1:{free_port()}"
    done = run_cli("upload", cwd=project, env=_env(MLFLOW_TRACKING_URI=uri, MLFLOW_HTTP_REQUEST_MAX_RETRIES="0"))
    assert done.returncode == 4, done.stderr  # MLflow unavailable: the gate could not do its work
    assert done.stderr.splitlines()[-1] == (
        f"0 uploaded, 0 already there, 1 still spooled in {directory}; run upload again later"
    )
    _assert_clean(done.stdout + done.stderr)


def test_wait_redacts_the_token_of_the_variable_it_was_told(project: Path) -> None:
    outputs = project / "github-output.txt"
    outputs.touch()
    base_url = f"http://127.0.0.1:{free_port()}/{EM_TOKEN}"
    done: CliResult = run_cli(
        *("wait", "--zone", "DE", "--token-env", "MY_EM_TOKEN", "--max-wait", "1m", "--poll", "1m"),
        cwd=project,
        env=_env(
            GREEN_GATE_ELECTRICITYMAPS_URL=base_url,
            GITHUB_ACTIONS="true",
            GITHUB_OUTPUT=str(outputs),
        ),
    )
    assert done.returncode == 0, done.stderr  # unavailable: proceeds
    _assert_clean(done.stdout + done.stderr + outputs.read_text(encoding="utf-8"))
    assert json.dumps(EM_TOKEN) not in outputs.read_text(encoding="utf-8")
