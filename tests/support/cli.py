"""The real `green-gate` CLI in a child process, as a user or CI runs it, and small projects to run it on."""

from __future__ import annotations

import atexit
import json
import locale
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

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


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout_s: float = 300, fresh: bool = False
) -> CliResult:
    """Run the real `green-gate` CLI in a child process; none of this process's GitHub, MLflow or
    green-gate settings leak into it (but whether runner conditions are read), only `env`.

    In a session with tests marked slow the child is forked from a Python that has MLflow imported
    (cli_forkserver.py): the same program, process, streams, environment and exit status, without
    2 CPU-seconds of imports. `fresh=True` (or GREEN_GATE_TEST_FRESH_CLI=1 for every run) starts a
    new interpreter: for tests about what a process inherits as it starts, e.g. its initial
    environment block."""
    child_env = _child_env(env)
    server = None if fresh or os.environ.get(FRESH_CLI_ENV) == "1" else _forkserver()
    if server is not None and server.can_run(child_env):
        return server.run(args, cwd=cwd, env=child_env, timeout_s=timeout_s)
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


FRESH_CLI_ENV = "GREEN_GATE_TEST_FRESH_CLI"
FORKSERVER = Path(__file__).with_name("cli_forkserver.py")
# Read by an interpreter as it starts (or by the preloaded libraries as they load), so a forked child
# cannot take them from its request: a run whose values differ from the forkserver's starts fresh.
_START_SETTINGS = ("PYTHON", "LANG", "LC_", "TZ", "TMP", "TEMP", "LD_", "MALLOC_", "OMP_", "OPENBLAS_", "MKL_")


class _Forkserver:
    """One cli_forkserver.py per test process: started with the session (tests/conftest.py), ready
    once it has imported MLflow, ended with the session."""

    def __init__(self) -> None:
        self.env = _child_env(cli_environment())
        self._lock = threading.Lock()
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 (the forkserver's stderr, for as long as it runs)
        self._channel, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.process = subprocess.Popen(
            [sys.executable, str(FORKSERVER), str(theirs.fileno())],
            pass_fds=(theirs.fileno(),),
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._log,
        )
        theirs.close()
        self.problem: str | None = None  # None: not ready yet; "": ready

    def ready(self) -> bool:
        """Whether it can fork CLI runs; waits for its imports the first time."""
        with self._lock:
            if self.problem is None:
                self._channel.settimeout(120)
                try:
                    answer = self._receive()
                except (OSError, ValueError) as exc:
                    answer = {"ready": False, "problem": f"no answer: {exc}"}
                self.problem = "" if answer.get("ready") else str(answer.get("problem") or "it exited")
                if self.problem:
                    self._log.seek(0)
                    output = self._log.read().decode(errors="replace")[-2000:]
                    print(f"cli_forkserver.py: {self.problem}; CLI runs start afresh\n{output}", file=sys.stderr)
            return not self.problem

    def _receive(self) -> dict[str, Any]:
        message = self._channel.recv(65536)
        if not message:
            raise ValueError("the forkserver closed its socket")
        answer: dict[str, Any] = json.loads(message)
        return answer

    def can_run(self, env: dict[str, str]) -> bool:
        def start_settings(environment: dict[str, str]) -> dict[str, str]:
            return {k: v for k, v in environment.items() if k.startswith(_START_SETTINGS)}

        return start_settings(env) == start_settings(self.env)

    def run(self, args: tuple[str, ...], *, cwd: Path, env: dict[str, str], timeout_s: float) -> CliResult:
        with self._lock:  # one run at a time: the forkserver answers requests in turn
            out_read, out_write = os.pipe()
            err_read, err_write = os.pipe()
            request = {"args": list(args), "cwd": str(cwd), "env": env}
            try:
                # fd 0 as it is: a child started by subprocess.run() would inherit it.
                socket.send_fds(self._channel, [json.dumps(request).encode()], [0, out_write, err_write])
            finally:
                os.close(out_write)
                os.close(err_write)
            outputs: list[bytes] = [b"", b""]
            readers = [
                threading.Thread(target=_read_all, args=(os.fdopen(fd, "rb"), outputs, i), daemon=True)
                for i, fd in enumerate((out_read, err_read))
            ]
            for reader in readers:
                reader.start()
            self._channel.settimeout(60)
            pid = int(self._receive()["pid"])
            self._channel.settimeout(timeout_s)
            try:
                ended = self._receive()
            except TimeoutError:
                os.kill(pid, signal.SIGKILL)
                self._channel.settimeout(60)
                self._receive()
                for reader in readers:
                    reader.join(timeout=10)
                raise subprocess.TimeoutExpired(["green-gate", *args], timeout_s, outputs[0], outputs[1]) from None
            for reader in readers:
                reader.join()
            _FORKED_CPU_S[0] += float(ended["cpu_s"])
            return CliResult(int(ended["returncode"]), _text(outputs[0]), _text(outputs[1]))

    def close(self) -> None:
        self._channel.close()  # the forkserver exits when its socket closes
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()


def _read_all(stream: IO[bytes], outputs: list[bytes], index: int) -> None:
    with stream:
        outputs[index] = stream.read()


def _text(data: bytes) -> str:
    """As subprocess's text mode decodes a child's output: the locale's encoding, universal newlines."""
    return data.decode(locale.getpreferredencoding(False)).replace("\r\n", "\n").replace("\r", "\n")


_FORKSERVER: list[_Forkserver] = []
_FORKSERVER_LOCK = threading.Lock()
# CPU seconds of the CLI runs forked so far in this process (their forkserver reaps them, not this
# process): benchmarks/suite_cpu.py adds them to the test that ran them.
_FORKED_CPU_S = [0.0]


def forked_cpu_s() -> float:
    return _FORKED_CPU_S[0]


def start_forkserver() -> None:
    """Start this process's forkserver (its imports go on beside the first tests); CLI runs use it
    once it is ready. Without it, each run starts a fresh interpreter."""
    with _FORKSERVER_LOCK:
        if not _FORKSERVER:
            _FORKSERVER.append(_Forkserver())
            atexit.register(stop_forkserver)


def stop_forkserver() -> None:
    with _FORKSERVER_LOCK:
        while _FORKSERVER:
            _FORKSERVER.pop().close()


def _forkserver() -> _Forkserver | None:
    with _FORKSERVER_LOCK:
        server = _FORKSERVER[0] if _FORKSERVER else None
    return server if server is not None and server.ready() else None


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
