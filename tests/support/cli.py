"""The real `green-gate` CLI in a child process, as a user or CI runs it, and small projects to run it on."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

from gate.bench.conditions import CONDITIONS_ENV

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_DIR = REPO / "examples" / "digits"


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str


def _child_env(env: dict[str, str] | None) -> dict[str, str]:
    # Whether the runner's conditions are read is the test's choice (tests/conftest.py turns them
    # off, the tests about conditions on), so that switch passes to the child as the test set it.
    child_env = {
        k: v
        for k, v in os.environ.items()
        if k == CONDITIONS_ENV or not k.startswith(("GITHUB_", "MLFLOW_", "GREEN_GATE_"))
    }
    child_env.update(env or {})
    return child_env


def start_cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """Start the real CLI as run_cli does, without waiting: for tests that signal it while it runs."""
    return subprocess.Popen(
        [sys.executable, "-m", "gate", *args],
        cwd=cwd,
        env=_child_env(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout_s: float = 300) -> CliResult:
    """Run the real `green-gate` CLI in a child process; none of this process's GitHub, MLflow or
    green-gate settings leak into it (but whether runner conditions are read), only `env`."""
    child_env = _child_env(env)
    proc = subprocess.run(
        [sys.executable, "-m", "gate", *args],
        cwd=cwd,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


def cli_environment() -> dict[str, str]:
    """Environment for CLI runs outside GitHub Actions, as in an activated venv: `python` is ours."""
    bin_dir = str(Path(sys.executable).parent)
    # The runner's conditions vary with this machine's load between a test's runs (tests/conftest.py).
    return {
        "PYTHONPATH": str(REPO),
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        CONDITIONS_ENV: "off",
    }


BUSY_ITERATIONS = 300_000
BUSY = """\
import json, os, sys
n = int(os.environ.get("BUSY_ITERATIONS", "{iterations}"))
total = 0
for i in range(n):
    total += i * i
print(f"busy loop of {{n}} iterations done")
if os.environ.get("BUSY_FAIL"):
    print("about to fail", file=sys.stderr)
    sys.exit(int(os.environ["BUSY_FAIL"]))
json.dump({{"predictions": 1000, "accuracy": 0.99}}, open(os.environ["GREEN_GATE_METRICS"], "w"))
"""


def busy_project(tmp_path: Path, extra: str = "", *, repeats: int = 1, iterations: int = BUSY_ITERATIONS) -> Path:
    """A project whose benchmark `busy` is a pure-Python loop of `iterations` (BUSY_ITERATIONS in the
    environment overrides it) reporting 1000 predictions; `extra` is appended to its budget."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    set_busy_iterations(tmp_path, iterations)
    (tmp_path / "green-budget.yml").write_text(
        "version: 1\n"
        "benchmarks:\n"
        "  - name: busy\n"
        "    command: python busy.py\n"
        f"    repeats: {repeats}\n"
        "    warmup: 0\n"
        "    timeout_s: 60\n"
        "limits:\n"
        "  energy_per_prediction_j: {warn: +2%, fail: +5%}\n"
        "carbon:\n"
        "  intensity_g_per_kwh: 100\n" + extra
    )
    return tmp_path


def set_busy_iterations(project: Path, iterations: int) -> None:
    """The project's busy loop does `iterations` by default (what a commit changing its cost does)."""
    (project / "busy.py").write_text(BUSY.format(iterations=iterations))


def example_project(tmp_path: Path) -> tuple[Path, str]:
    """The bundled example, with its own experiment so tests sharing a server stay apart; and that
    experiment's name for the example's benchmark."""
    project = tmp_path / "digits"
    shutil.copytree(EXAMPLE_DIR, project)
    prefix = f"e2e-{uuid.uuid4().hex[:8]}"
    budget = project / "green-budget.yml"
    budget.write_text(budget.read_text() + f"\nmlflow:\n  experiment: {prefix}/{{benchmark}}\n")
    return project, f"{prefix}/digits-svc-inference"


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def commit_all(repo: Path, message: str) -> str:
    """Commit everything in `repo` (a fresh repository on `main` the first time); returns the SHA."""
    if not (repo / ".git").exists():
        git(repo, "init", "-q", "-b", "main")
        (repo / ".gitignore").write_text(".green-gate/\n*.json\n")  # what the gate and the tests write there
        git(repo, "config", "user.email", "test@example.invalid")
        git(repo, "config", "user.name", "test")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", message)
    return git(repo, "rev-parse", "HEAD")
