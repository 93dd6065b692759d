"""The action's entrypoint: inputs -> `green-gate check` argv, and action.yml kept in step with it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from click.testing import CliRunner

from gate import action, cli
from gate.cli import check as check_command

ROOT = Path(__file__).resolve().parent.parent
ACTION_YML = ROOT / "action.yml"


def plan_of(inputs: Mapping[str, str]) -> action.Plan:
    env = {f"INPUT_{k.upper()}": v for k, v in inputs.items()}
    return action.plan(lambda name: action.read_input(env, name))


def action_metadata() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(ACTION_YML.read_text(encoding="utf-8"))
    return data


# --- reading inputs ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "name", "expected"),
    [
        ({"INPUT_BUDGET": "b.yml"}, "budget", "b.yml"),
        ({"INPUT_BASE_BRANCH": "main"}, "base_branch", "main"),
        ({"INPUT_BASE-BRANCH": "main"}, "base_branch", "main"),  # the runner keeps hyphens
        ({"INPUT_BASE_BRANCH": "main"}, "base-branch", "main"),
        ({"INPUT_BUDGET": "  b.yml \n"}, "budget", "b.yml"),
        ({"INPUT_BUDGET": ""}, "budget", None),  # empty means "use the default"
        ({"INPUT_BUDGET": "   "}, "budget", None),
        ({}, "budget", None),
        ({"input_budget": "b.yml"}, "budget", None),  # the runner upper-cases; so do we
    ],
)
def test_read_input(env: dict[str, str], name: str, expected: str | None) -> None:
    assert action.read_input(env, name) == expected


# --- the mapping -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("inputs", "argv"),
    [
        ({}, ()),
        ({"budget": "green-budget.yml"}, ("--budget", "green-budget.yml")),
        ({"benchmarks": "a, b\nc"}, ("--benchmark", "a", "--benchmark", "b", "--benchmark", "c")),
        ({"json_file": "out.json", "report_file": "r.md"}, ("--json", "out.json", "--report-file", "r.md")),
        (
            {"branch": "feat", "base_branch": "main", "commit": "abc", "baseline_run_id": "f" * 32},
            ("--branch", "feat", "--base-branch", "main", "--commit", "abc", "--baseline-run-id", "f" * 32),
        ),
        ({"repeats": "7", "warmup": "0"}, ("--repeats", "7", "--warmup", "0")),
        ({"record": "true"}, ()),
        ({"record": "False"}, ("--no-record",)),
        ({"record": "no"}, ("--no-record",)),
        ({"mlflow_tracking_uri": "http://127.0.0.1:5000"}, ()),
        ({"working_directory": "examples/digits", "setup_command": "pip install x", "gpus": "0"}, ()),
        ({"mode": "paired"}, ("--comparison-mode", "paired")),
        ({"mode": ""}, ()),  # empty: the budget's comparison.mode
        ({"budget": "", "branch": "", "record": ""}, ()),  # empty inputs: the CLI's defaults
    ],
)
def test_plan_argv(inputs: dict[str, str], argv: tuple[str, ...]) -> None:
    assert plan_of(inputs).argv == argv


def test_plan_env_and_masks() -> None:
    the_plan = plan_of({"github_token": "ghs_secret", "mlflow_tracking_uri": "https://user:pa55@mlflow.example.org/x"})
    assert the_plan.env == {
        "GITHUB_TOKEN": "ghs_secret",
        "MLFLOW_TRACKING_URI": "https://user:pa55@mlflow.example.org/x",
    }
    assert the_plan.masks == ("ghs_secret", "user:pa55")
    assert "ghs_secret" not in the_plan.command_line()
    assert the_plan.command_line() == "GITHUB_TOKEN=... MLFLOW_TRACKING_URI=... green-gate check"


def test_plan_entrypoint_inputs() -> None:
    the_plan = plan_of({"working_directory": "sub dir", "setup_command": "pip install -r r.txt", "gpus": "0"})
    assert (the_plan.working_directory, the_plan.setup_command, the_plan.gpus) == (
        "sub dir",
        "pip install -r r.txt",
        "0",
    )
    defaults = plan_of({})
    assert (defaults.working_directory, defaults.setup_command, defaults.gpus) == (".", None, "all")


def test_command_line_quotes_like_a_shell() -> None:
    assert plan_of({"budget": "my budget.yml"}).command_line() == "green-gate check --budget 'my budget.yml'"


@pytest.mark.parametrize("value", ["ab", "pair", "history,paired"])
def test_mode_other_than_a_comparison_mode_is_refused(value: str) -> None:
    with pytest.raises(action.ActionInputError, match=r"not a comparison mode.*one of history, paired, auto"):
        plan_of({"mode": value})


@pytest.mark.parametrize("value", ["history", "paired", "auto", "Auto"])
def test_mode_reaches_the_check_as_comparison_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    recorder, lines = Recorder(), list[str]()
    assert action.run({"INPUT_MODE": value}, cwd=tmp_path, cli=recorder.cli, err=lines.append) == 0
    argv = recorder.calls[0][0]
    assert argv == ("--comparison-mode", value)
    assert lines[-1].endswith(f"green-gate check --comparison-mode {value}")
    # The same argv through the real command line: the check gets it as CheckOptions.comparison_mode.
    from gate.commands import check as check_module

    seen: list[Any] = []

    def check(options: Any, **_: Any) -> int:
        seen.append(options)
        return 0

    monkeypatch.setattr(check_module, "run", check)
    result = CliRunner().invoke(cli.main, ["check", *argv])
    assert result.exit_code == 0, result.output
    assert [options.comparison_mode for options in seen] == [value.lower()]


@pytest.mark.parametrize("name", ["record", "comment", "check_run"])
def test_non_boolean_is_refused(name: str) -> None:
    with pytest.raises(action.ActionInputError, match=f"input '{name}' is 'maybe'.*true or false"):
        plan_of({name: "maybe"})


def test_comment_and_check_run_switch_on_their_options() -> None:
    assert "--comment" not in plan_of({"comment": "false"}).argv
    assert plan_of({"comment": "true", "check_run": "true"}).argv[-2:] == ("--comment", "--check-run")
    assert plan_of({"comment_template": "ci/comment.md.j2"}).argv == ("--comment-template", "ci/comment.md.j2")


def test_action_yml_declares_exactly_the_table_with_its_defaults() -> None:
    inputs = action_metadata()["inputs"]
    assert list(inputs) == [spec.name for spec in action.INPUTS]
    for spec in action.INPUTS:
        declared = inputs[spec.name]
        assert str(declared["default"]) == spec.default, spec.name
        assert declared["required"] is False
        assert len(declared["description"]) > 20, spec.name


def test_input_names_use_underscores() -> None:
    for spec in action.INPUTS:
        assert spec.name.replace("_", "").isalnum() and spec.name.islower(), spec.name


def _check_options() -> dict[str, click.Option]:
    return {
        opt: param
        for param in check_command.params
        if isinstance(param, click.Option)
        for opt in param.opts
        if opt.startswith("--")
    }


def test_every_cli_target_is_a_check_option_with_the_same_default() -> None:
    options = _check_options()
    for spec in action.INPUTS:
        if spec.target in ("option", "options", "off_switch"):
            assert spec.to in options, f"{spec.name} -> {spec.to} is not an option of green-gate check"
        if spec.target == "option" and spec.default:
            assert options[spec.to].default == spec.default, spec.name
        if spec.target == "off_switch":
            assert options[spec.to].is_flag and spec.default == "true"


def test_every_check_option_is_reachable_from_an_input() -> None:
    mapped = {spec.to for spec in action.INPUTS}
    params = {param.name: param for param in check_command.params if isinstance(param, click.Option)}
    unmapped = [name for name, param in params.items() if not set(param.opts) & mapped and name != "help"]
    assert unmapped == []


def test_action_yml_structure() -> None:
    meta = action_metadata()
    assert meta["runs"] == {
        "using": "docker",
        "image": "Dockerfile",
        "env": {"NVIDIA_VISIBLE_DEVICES": "${{ inputs.gpus }}"},
    }
    assert set(meta["outputs"]) == {
        "verdict",
        "energy_per_prediction_j",
        "unit",
        "change_pct",
        "report_path",
        "result_path",
    }
    assert all(out["description"] for out in meta["outputs"].values())
    assert meta["branding"] == {"icon": "battery-charging", "color": "green"}
    assert meta["name"] and meta["description"]


def test_dockerfile_runs_this_module_from_the_lock() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert 'ENTRYPOINT ["python", "-m", "gate.action"]' in text
    assert text.count("ENTRYPOINT") == 1
    assert "--requirement requirements/runtime.lock" in text
    for env in ("PYTHONUNBUFFERED=1", "PYTHONDONTWRITEBYTECODE=1", "PIP_NO_CACHE_DIR=1"):
        assert env in text


# --- running -----------------------------------------------------------------------------------


class Recorder:
    def __init__(self, code: int = 0) -> None:
        self.code = code
        self.calls: list[tuple[tuple[str, ...], Path, dict[str, str]]] = []

    def cli(self, argv: Sequence[str], cwd: Path, env: Mapping[str, str]) -> int:
        self.calls.append((tuple(argv), cwd, dict(env)))
        return self.code


def test_run_calls_the_cli_in_the_working_directory(tmp_path: Path) -> None:
    (tmp_path / "bench").mkdir()
    recorder, lines = Recorder(1), list[str]()
    env = {"INPUT_WORKING_DIRECTORY": "bench", "INPUT_BUDGET": "b.yml", "INPUT_GITHUB_TOKEN": "tok123"}
    code = action.run(env, cwd=tmp_path, cli=recorder.cli, err=lines.append)
    assert code == 1  # the CLI's exit code is the action's
    assert recorder.calls == [(("--budget", "b.yml"), tmp_path / "bench", {"GITHUB_TOKEN": "tok123"})]
    assert lines[0] == "::add-mask::tok123"  # masked before anything else is logged
    assert lines[-1].endswith("green-gate check --budget b.yml")


def test_run_setup_command_runs_first_with_the_env(tmp_path: Path) -> None:
    recorder, seen = Recorder(), []

    def shell(command: str, cwd: Path, env: Mapping[str, str]) -> int:
        seen.append((command, cwd, env.get("MLFLOW_TRACKING_URI")))
        assert recorder.calls == []
        return 0

    env = {"INPUT_SETUP_COMMAND": "pip install x", "INPUT_MLFLOW_TRACKING_URI": "http://m"}
    assert action.run(env, cwd=tmp_path, cli=recorder.cli, shell=shell, err=lambda _: None) == 0
    assert seen == [("pip install x", tmp_path, "http://m")]
    assert len(recorder.calls) == 1


def test_run_setup_failure_stops_with_exit_3(tmp_path: Path) -> None:
    recorder, lines = Recorder(), list[str]()
    summary = tmp_path / "summary.md"
    env = {"INPUT_SETUP_COMMAND": "exit 7", "GITHUB_STEP_SUMMARY": str(summary)}
    code = action.run(env, cwd=tmp_path, cli=recorder.cli, shell=action.run_shell, err=lines.append)
    assert code == 3
    assert recorder.calls == []
    assert "setup_command exited with status 7" in summary.read_text(encoding="utf-8")
    assert lines[-1].startswith("::error title=green-gate::the setup_command exited with status 7")


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"INPUT_MODE": "ab"}, "input 'mode' is 'ab'"),
        ({"INPUT_RECORD": "sometimes"}, "input 'record' is 'sometimes'"),
        ({"INPUT_WORKING_DIRECTORY": "missing"}, "input 'working_directory' is 'missing'"),
    ],
)
def test_run_bad_inputs_exit_2_with_summary(tmp_path: Path, env: dict[str, str], expected: str) -> None:
    recorder, lines = Recorder(), list[str]()
    summary = tmp_path / "summary.md"
    code = action.run({**env, "GITHUB_STEP_SUMMARY": str(summary)}, cwd=tmp_path, cli=recorder.cli, err=lines.append)
    assert code == 2
    assert recorder.calls == []
    assert expected in summary.read_text(encoding="utf-8")
    assert lines[-1].startswith("::error title=green-gate::") and "\n" not in lines[-1]


def test_run_warns_when_gpus_input_cannot_apply(tmp_path: Path) -> None:
    recorder, lines = Recorder(), list[str]()
    action.run({"INPUT_GPUS": "1", "NVIDIA_VISIBLE_DEVICES": "all"}, cwd=tmp_path, cli=recorder.cli, err=lines.append)
    assert any(line.startswith("::warning") and "input 'gpus' is '1'" in line for line in lines)
    lines.clear()
    action.run({"INPUT_GPUS": "1", "NVIDIA_VISIBLE_DEVICES": "1"}, cwd=tmp_path, cli=recorder.cli, err=lines.append)
    assert not any(line.startswith("::warning") for line in lines)


def _entrypoint(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("INPUT_", "GITHUB_", "MLFLOW_"))}
    return subprocess.run(
        [sys.executable, "-m", "gate.action"],
        cwd=cwd,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_entrypoint_process_refuses_an_invalid_budget(tmp_path: Path) -> None:
    (tmp_path / "green-budget.yml").write_text("version: 1\nbenchmarks: []\n", encoding="utf-8")
    done = _entrypoint({"INPUT_BUDGET": "green-budget.yml"}, tmp_path)
    assert done.returncode == 2, done.stderr
    assert "green-gate check --budget green-budget.yml" in done.stderr


@pytest.mark.slow
def test_entrypoint_process_end_to_end(tmp_path: Path) -> None:
    """The image's command on a tiny real benchmark: report, outputs and exit code as in Actions."""
    bench = tmp_path / "bench.py"
    bench.write_text(
        "import json, os, time\n"
        "t = time.time()\n"
        "while time.time() - t < 0.2: pass\n"
        "json.dump({'predictions': 100}, open(os.environ['GREEN_GATE_METRICS'], 'w'))\n",
        encoding="utf-8",
    )
    (tmp_path / "green-budget.yml").write_text(
        f"version: 1\nbenchmarks:\n  - name: tiny\n    command: [{json.dumps(sys.executable)}, bench.py]\n"
        "    repeats: 1\n    warmup: 0\nlimits:\n  energy_per_prediction_j: {fail: +50%}\n",
        encoding="utf-8",
    )
    outputs, summary = tmp_path / "out.txt", tmp_path / "summary.md"
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(outputs),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_REF_NAME": "main",
        "GITHUB_SHA": "0" * 40,
        "INPUT_BUDGET": "green-budget.yml",
        "INPUT_RECORD": "true",
        "INPUT_MODE": "history",
    }
    done = _entrypoint(env, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    written = dict(line.split("=", 1) for line in outputs.read_text(encoding="utf-8").splitlines())
    assert written["verdict"] == "pass"
    assert float(written["energy_per_prediction_j"]) > 0
    assert Path(written["report_path"]).is_file()
    assert summary.read_text(encoding="utf-8").strip()
