"""The action's inputs cannot reach outside the workspace, ask for absurd counts, or hand the setup
command the gate's credentials."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from gate import action

TOKEN = "ghs_planted0123456789abcdef"
URI_PASSWORD = "uri-pw-0123456789"


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[tuple[str, ...], Path]] = []

    def cli(self, argv: Sequence[str], cwd: Path, env: Mapping[str, str]) -> int:
        self.calls.append((tuple(argv), cwd))
        return 0


def _run(env: dict[str, str], cwd: Path) -> tuple[int, list[str], Recorder]:
    recorder, lines = Recorder(), list[str]()
    code = action.run(env, cwd=cwd, cli=recorder.cli, shell=lambda *_: 0, err=lines.append)
    return code, lines, recorder


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "workspace"
    (root / "sub").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    os.symlink(tmp_path / "outside", root / "escape")
    os.symlink("/etc/passwd", root / "sub" / "passwd-link")
    return root


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("working_directory", ".."),
        ("working_directory", "/etc"),
        ("working_directory", "escape"),  # a symlink in the workspace pointing out of it
        ("budget", "../../outside/green-budget.yml"),
        ("budget", "/etc/passwd"),
        ("budget", "passwd-link"),  # a symlink in the working directory to /etc/passwd
        ("json_file", "../../outside/result.json"),
        ("json_file", "../escape/result.json"),
        ("report_file", "/tmp/report.md"),
        ("comment_template", "../../outside/comment.md.j2"),
        ("results", "results ../../outside/leg.json"),
        ("results", "/etc/*.json"),  # a glob starts from a folder outside
        ("results", "../escape/**/*.json"),
        ("prometheus_textfile", "/var/lib/node_exporter/textfile/green_gate.prom"),
        ("prometheus_textfile", "../../outside/gauges.prom"),
    ],
)
def test_a_path_input_outside_the_workspace_is_exit_2_before_anything_runs(
    workspace: Path, name: str, value: str
) -> None:
    env = {f"INPUT_{name.upper()}": value}
    if name != "working_directory":
        env["INPUT_WORKING_DIRECTORY"] = "sub"
    code, lines, recorder = _run(env, workspace)
    assert code == 2
    assert recorder.calls == []
    assert lines[-1].startswith("::error title=green-gate::")
    assert f"input '{name}'" in lines[-1] and "outside the workspace" in lines[-1]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("working_directory", "sub"),
        ("budget", "green-budget.yml"),
        ("json_file", "../out/r.json"),
        ("budget", "."),
        ("results", "results, legs/*/green-gate.json"),
        ("results", "*.json"),
        ("prometheus_textfile", "metrics/gauges.prom"),
    ],
)
def test_a_path_input_inside_the_workspace_is_accepted(workspace: Path, name: str, value: str) -> None:
    env = {f"INPUT_{name.upper()}": value}
    if name != "working_directory":
        env["INPUT_WORKING_DIRECTORY"] = "sub"
    code, _, recorder = _run(env, workspace)
    assert code == 0
    assert len(recorder.calls) == 1


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("repeats", "12345678901234567890123456"),
        ("repeats", "0"),
        ("repeats", "1001"),
        ("repeats", "-1"),
        ("repeats", "5.5"),
        ("repeats", "five"),
        ("repeats", "١٢"),  # digits Python's int() reads, but no count the budget could hold
        ("warmup", "101"),
        ("warmup", "1e3"),
    ],
)
def test_counts_beyond_the_budget_schemas_bounds_are_exit_2(tmp_path: Path, name: str, value: str) -> None:
    code, lines, recorder = _run({f"INPUT_{name.upper()}": value}, tmp_path)
    assert code == 2
    assert recorder.calls == []
    assert f"input '{name}'" in lines[-1] and "whole number" in lines[-1]


@pytest.mark.parametrize(("name", "value"), [("repeats", "1"), ("repeats", "1000"), ("warmup", "0"), ("warmup", "100")])
def test_counts_within_bounds_pass_through(tmp_path: Path, name: str, value: str) -> None:
    code, _, recorder = _run({f"INPUT_{name.upper()}": value}, tmp_path)
    assert code == 0
    assert recorder.calls[0][0] == (f"--{name}", value)


def test_the_setup_command_gets_no_credentials(tmp_path: Path) -> None:
    env = {
        "INPUT_SETUP_COMMAND": "env > setup-env.txt",
        "INPUT_GITHUB_TOKEN": TOKEN,
        "GITHUB_TOKEN": TOKEN,
        "MLFLOW_TRACKING_PASSWORD": URI_PASSWORD + "x",
        "INPUT_MLFLOW_TRACKING_URI": f"http://ci:{URI_PASSWORD}@mlflow.example:5000",
        "PATH": os.environ.get("PATH", ""),
    }
    recorder = Recorder()
    code = action.run(env, cwd=tmp_path, cli=recorder.cli, shell=action.run_shell, err=lambda _: None)
    assert code == 0
    seen = (tmp_path / "setup-env.txt").read_text(encoding="utf-8")
    assert TOKEN not in seen and URI_PASSWORD not in seen
    assert "MLFLOW_TRACKING_URI=http://mlflow.example:5000" in seen  # the address stays, without user-info


def test_a_working_directory_the_file_system_refuses_is_exit_2_quoting_it_cut(workspace: Path) -> None:
    name_too_long = "d" * 5000  # inside the workspace, but longer than any file name may be
    code, lines, recorder = _run({"INPUT_WORKING_DIRECTORY": name_too_long}, workspace)
    assert code == 2 and recorder.calls == []
    assert lines[-1].startswith("::error title=green-gate::")
    assert name_too_long not in lines[-1] and "d" * 200 + "…" in lines[-1]
