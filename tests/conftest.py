"""Shared fixtures: a real `mlflow server` on 127.0.0.1, and a way to run the real CLI."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_DIR = REPO / "examples" / "digits"
SERVER_START_TIMEOUT_S = 90


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class MlflowServer:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path


def _mlflow_executable() -> str:
    candidate = Path(sys.executable).with_name("mlflow")
    if candidate.exists():
        return str(candidate)
    found = shutil.which("mlflow")
    if not found:
        pytest.fail("the `mlflow` command is missing: install the test extra (pip install -e '.[test]')")
    return found


def start_mlflow_server(workdir: Path) -> MlflowServer:
    port = free_port()
    log_path = workdir / "server.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        [
            _mlflow_executable(),
            "server",
            "--backend-store-uri",
            f"sqlite:///{workdir / 'mlflow.db'}",
            "--default-artifact-root",
            str(workdir / "artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"mlflow server exited early:\n{log_path.read_text(errors='replace')[-3000:]}")
        try:
            if requests.get(f"{url}/health", timeout=1).status_code == 200:
                return MlflowServer(url, process, log_path)
        except requests.RequestException:
            pass
        time.sleep(0.3)
    stop_mlflow_server(MlflowServer(url, process, log_path))
    pytest.fail(f"mlflow server did not answer /health within {SERVER_START_TIMEOUT_S} s")


def stop_mlflow_server(server: MlflowServer) -> None:
    if server.process.poll() is None:
        os.killpg(server.process.pid, 15)
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.process.pid, 9)
            server.process.wait()


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    server = start_mlflow_server(tmp_path_factory.mktemp("mlflow-server"))
    yield server
    stop_mlflow_server(server)


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout_s: float = 300) -> CliResult:
    """Run the real `green-gate` CLI in a child process, as a user or CI would."""
    child_env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "MLFLOW_", "GREEN_GATE_"))}
    child_env.update(env or {})
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


@pytest.fixture
def cli_env() -> dict[str, str]:
    """Environment for CLI runs outside GitHub Actions, as in an activated venv: `python` is ours."""
    bin_dir = str(Path(sys.executable).parent)
    return {"PYTHONPATH": str(REPO), "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}


@pytest.fixture(scope="session")
def _em_server() -> Iterator[Any]:
    from tests.em_server import serve

    with serve() as fake:
        yield fake


@pytest.fixture
def em_api(_em_server: Any) -> Any:
    """A local Electricity Maps API (tests/em_server.py), its script reset for each test."""
    _em_server.reset()
    return _em_server


@pytest.fixture(params=["", "/api/v3"], ids=["github.com", "enterprise"])
def github(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A contract-checking GitHub API on 127.0.0.1; `enterprise` serves under /api/v3 like GHES.

    Fails the test if any request or response broke GitHub's OpenAPI description.
    """
    from tests.github_server import serve

    for gh in serve(prefix=request.param):
        yield gh
        assert gh.violations == [], "contract violations:\n" + "\n".join(gh.violations)
