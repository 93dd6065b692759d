"""A Python that has imported MLflow once and forks one `green-gate` process per request from it.

Nearly all of a CLI run's CPU time in the tests is `import mlflow` (the full package the tests
install pulls in pandas, pyarrow and FastAPI: about 2 CPU-seconds a run, ~70% of a `check`).
tests/support/cli.py starts this script once per test process and sends it each CLI run: argv,
working directory, environment and the three standard streams. The forked child takes those and
runs `gate` as `python -m gate` would (`runpy`, `sys.path[0]` the working directory), and exits the
way an interpreter does (atexit handlers, non-daemon threads joined, the exit status). Only MLflow's
modules are imported beforehand, never the gate's: the gate's own imports, and whatever it sets up
before opening its store, run in each child as in a fresh process.

Run as `python cli_forkserver.py FD`, FD a SOCK_SEQPACKET socket: it answers `{"ready": ...}`
once, then per request `{"pid": N}` when the child runs and `{"returncode": R, "cpu_s": S}` when it
has ended. It exits when the socket closes.
"""

from __future__ import annotations

import gc
import json
import os
import runpy
import socket
import sys
import threading
import time
from typing import Any

# What a CLI run that opens a store imports first: MLflow's client and its SQLAlchemy store.
PRELOAD = ("mlflow", "mlflow.tracking", "mlflow.store.tracking.sqlalchemy_store")
MAX_MESSAGE_BYTES = 1 << 20


def _preload() -> str:
    """Import PRELOAD; wait for the threads those imports start (MLflow looks up its telemetry
    settings in one) to end, as forking is safe only from a single thread. Returns what went wrong."""
    try:
        for name in PRELOAD:
            __import__(name)
    except Exception as exc:  # the caller runs each CLI in a fresh interpreter instead
        return f"importing {name} failed: {type(exc).__name__}: {exc}"
    deadline = time.monotonic() + 15
    while threading.active_count() > 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    if threading.active_count() > 1:
        names = ", ".join(t.name for t in threading.enumerate() if t is not threading.current_thread())
        return f"threads still running after the imports: {names}"
    # What Python's documentation advises before forking without exec: the preloaded objects move to a
    # generation the collector leaves alone, so that a child's collections (the last one as it exits
    # among them) do not visit, and copy, every page of them. Without it a `--version` costs 0.8
    # CPU-seconds instead of 0.16.
    gc.collect()
    gc.freeze()
    return ""


def _serve(channel: socket.socket) -> dict[str, Any] | None:
    """Fork one child per request and report on it, until the channel closes (returns None); in a
    forked child, returns that child's request with its streams already in place."""
    while True:
        message, fds, _flags, _address = socket.recv_fds(channel, MAX_MESSAGE_BYTES, 3)
        if not message:
            return None
        request: dict[str, Any] = json.loads(message)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            channel.close()
            for target, fd in enumerate(fds):
                os.dup2(fd, target)
            for fd in fds:
                if fd > 2:
                    os.close(fd)
            return request
        for fd in fds:
            os.close(fd)
        channel.send(json.dumps({"pid": pid}).encode())
        _pid, status, usage = os.wait4(pid, 0)
        ended = {"returncode": os.waitstatus_to_exitcode(status), "cpu_s": usage.ru_utime + usage.ru_stime}
        channel.send(json.dumps(ended).encode())


def _become_cli(request: dict[str, Any]) -> None:
    """Be `python -m gate ARGS` started in request["cwd"] with request["env"]."""
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.path.insert(0, os.getcwd())  # `python -m` puts the working directory first
    sys.argv = ["-m", *request["args"]]  # runpy puts gate/__main__.py in argv[0], as `-m` does
    runpy.run_module("gate", run_name="__main__", alter_sys=True)


def main() -> None:
    # Not this script's folder (tests/support has an `mlflow.py` of its own): nothing but the
    # interpreter's own path while preloading; each child puts its working directory first.
    del sys.path[0]
    channel = socket.socket(fileno=int(sys.argv[1]))
    problem = _preload()
    channel.send(json.dumps({"ready": not problem, "problem": problem}).encode())
    if problem:
        return
    request = _serve(channel)
    if request is not None:
        # In the child: SystemExit from the CLI ends this interpreter with the CLI's status.
        _become_cli(request)


if __name__ == "__main__":
    main()
