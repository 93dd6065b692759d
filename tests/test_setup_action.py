"""setup/action.yml, the composite route: its steps' shell run here as the runner runs them.

The runner downloads the action's repository and runs each `run:` with `bash --noprofile --norc -eo
pipefail`, the step's `env:` evaluated, and GITHUB_PATH / GITHUB_OUTPUT pointing at files it reads
afterwards. The test does the same with a copy of this checkout as the downloaded action and a fresh
venv as "the job's Python", offline: pip gets `--no-index --no-build-isolation`, and the venv sees
this interpreter's packages (the dependencies and hatchling) through a .pth file.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

import gate

ROOT = Path(__file__).resolve().parent.parent
SETUP_YML = ROOT / "setup" / "action.yml"
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def metadata() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(SETUP_YML.read_text(encoding="utf-8"))
    return data


def evaluate(value: str, action_path: Path, inputs: dict[str, str]) -> str:
    """The two kinds of expression the steps may use: github.action_path and inputs.NAME."""

    def one(match: re.Match[str]) -> str:
        expression = match.group(1)
        if expression == "github.action_path":
            return str(action_path)
        if expression.startswith("inputs."):
            return inputs[expression.removeprefix("inputs.")]
        raise AssertionError(f"setup/action.yml uses an expression this test cannot evaluate: {expression}")

    return EXPRESSION.sub(one, value)


def run_steps(action_root: Path, inputs: dict[str, str], tmp_path: Path) -> tuple[int, str, Path, Path]:
    """Run every `run:` step like the runner; returns (status, log, GITHUB_PATH file, GITHUB_OUTPUT file)."""
    meta = metadata()
    declared = {name: spec.get("default", "") for name, spec in meta["inputs"].items()}
    values = {**declared, **inputs}
    github_path, github_output = tmp_path / "github_path", tmp_path / "github_output"
    github_path.touch()
    github_output.touch()
    action_path = action_root / "setup"
    log: list[str] = []
    for number, step in enumerate(meta["runs"]["steps"]):
        assert step["shell"] == "bash"
        assert not EXPRESSION.search(step["run"]), "expressions belong in the step's env:, not in its script"
        script = tmp_path / f"step{number}.sh"
        script.write_text(step["run"], encoding="utf-8")
        env = {
            "PATH": os.environ["PATH"],
            "HOME": str(tmp_path),
            "GITHUB_ACTIONS": "true",
            "GITHUB_ACTION_PATH": str(action_path),
            "GITHUB_PATH": str(github_path),
            "GITHUB_OUTPUT": str(github_output),
            **{name: evaluate(str(value), action_path, values) for name, value in step.get("env", {}).items()},
        }
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        log.append(done.stdout + done.stderr)
        if done.returncode != 0:
            return done.returncode, "".join(log), github_path, github_output
    return 0, "".join(log), github_path, github_output


def downloaded_action(tmp_path: Path) -> Path:
    """What the runner downloads for `uses: org/green-gate/setup@REF`: the repository at that ref."""
    root = tmp_path / "_actions" / "green-gate" / "v1"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".green-gate")
    for name in ("pyproject.toml", "README.md"):
        root.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, root / name)
    for name in ("gate", "templates", "setup"):
        shutil.copytree(ROOT / name, root / name, ignore=ignore)
    return root


def job_python(tmp_path: Path) -> Path:
    """A fresh venv standing in for the job's environment, seeing this interpreter's packages."""
    env_dir = tmp_path / "job-env"
    subprocess.run([sys.executable, "-m", "venv", str(env_dir)], check=True, capture_output=True)
    python = env_dir / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # Plain path lines: the dependencies become importable, while .pth files there (this
    # checkout's own editable install) are not processed, so `gate` must come from the install.
    # (sys.path rather than site.getsitepackages(): this interpreter may itself see a parent
    # environment's packages through such a line.)
    parents = [p for p in sys.path if Path(p).name in ("site-packages", "dist-packages") and Path(p).is_dir()]
    (Path(purelib) / "parent-env.pth").write_text("\n".join(parents) + "\n", encoding="utf-8")
    return python


def test_setup_is_a_composite_action_with_the_documented_interface() -> None:
    meta = metadata()
    assert meta["runs"]["using"] == "composite"
    assert set(meta["inputs"]) == {"python", "extras", "pip_args"}
    assert meta["inputs"]["python"]["default"] == "python3"
    assert set(meta["outputs"]) == {"version", "bin"}
    for step in meta["runs"]["steps"]:
        assert step["env"]["GREEN_GATE_SOURCE"] == "${{ github.action_path }}/.."


@pytest.mark.slow
def test_setup_installs_the_cli_at_the_action_ref_and_puts_it_on_path(tmp_path: Path) -> None:
    pytest.importorskip("hatchling", reason="hatchling (in the test extra) builds the package offline")
    action_root = downloaded_action(tmp_path)
    python = job_python(tmp_path)
    status, log, github_path, github_output = run_steps(
        action_root,
        # An extra too: `example`'s scikit-learn is among the packages the venv sees (the test extra).
        {"python": str(python), "extras": " example ", "pip_args": "--no-index --no-build-isolation"},
        tmp_path,
    )
    assert status == 0, log
    assert "_actions/green-gate/v1[example]" in log  # the extra, its blanks dropped

    outputs = dict(line.split("=", 1) for line in github_output.read_text(encoding="utf-8").splitlines())
    assert outputs["version"] == gate.__version__
    bin_dir = Path(outputs["bin"])
    assert bin_dir == python.parent
    assert github_path.read_text(encoding="utf-8").splitlines() == [str(bin_dir)]

    # The next step: `green-gate` from the PATH the runner builds (GITHUB_PATH first).
    path = os.pathsep.join([*github_path.read_text(encoding="utf-8").splitlines(), os.environ["PATH"]])
    command = shutil.which("green-gate", path=path)
    assert command is not None and Path(command).parent == bin_dir
    # Away from this checkout and its PYTHONPATH, which would otherwise provide `gate` themselves.
    clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    version = subprocess.run(
        [command, "--version"], capture_output=True, text=True, check=True, env=clean, cwd=tmp_path
    )
    assert version.stdout.strip() == f"green-gate, version {gate.__version__}"
    where = subprocess.run(
        [str(python), "-c", "import gate; print(gate.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        env=clean,
        cwd=tmp_path,
    )
    assert Path(where.stdout.strip()).is_relative_to(python.parent.parent), "gate must be the installed copy"


def test_setup_refuses_an_interpreter_that_is_not_there(tmp_path: Path) -> None:
    status, log, github_path, github_output = run_steps(
        downloaded_action(tmp_path), {"python": str(tmp_path / "no-such-python")}, tmp_path
    )
    assert status == 2
    assert "::error title=green-gate setup::input 'python' is" in log
    assert "not a command or file" in log
    assert github_path.read_text(encoding="utf-8") == github_output.read_text(encoding="utf-8") == ""


def test_setup_refuses_a_folder_that_is_not_the_action_repository(tmp_path: Path) -> None:
    lone = tmp_path / "lone"
    shutil.copytree(ROOT / "setup", lone / "setup")
    status, log, _, _ = run_steps(lone, {"python": sys.executable}, tmp_path)
    assert status == 2
    assert "is not a green-gate checkout" in log
