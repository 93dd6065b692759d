"""How long README's command 1 takes on this machine: a fresh venv, the install, the first check.

It runs what a newcomer types, from a clone of this repository, in a throw-away folder:

    python3 -m venv .venv && . .venv/bin/activate && pip install '.[example]' \
        && green-gate check --budget examples/digits/green-budget.yml

and prints the seconds each part took (venv, install, first check) and their sum. `--no-cache`
installs without pip's cache (`--no-cache-dir`), as on a machine that never installed these
packages; with the cache a repeat is faster than a newcomer's first try. It needs the package index
(PyPI) and leaves nothing behind but what pip caches.

    python benchmarks/first_check.py --no-cache
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def timed(step: str, command: list[str], cwd: Path, env: dict[str, str]) -> float:
    started = time.monotonic()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    if done.returncode not in (0, 1):  # a check may warn or fail on a busy machine; it still ran
        sys.stderr.write(done.stdout[-4000:] + done.stderr[-4000:])
        raise SystemExit(f"{step} failed with exit {done.returncode}")
    print(f"{step:<12} {seconds:7.1f} s", flush=True)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-cache", action="store_true", help="install without pip's cache")
    parser.add_argument("--python", default=sys.executable, help="the interpreter to make the venv with")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="green-gate-first-check-") as tmp:
        clone = Path(tmp) / "green-gate"
        shutil.copytree(REPO, clone, ignore=shutil.ignore_patterns(".git", ".venv", ".green-gate", "__pycache__"))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "GITHUB_", "GREEN_GATE_"))}
        env.pop("PYTHONPATH", None)
        venv = clone / ".venv"
        total = timed("venv", [args.python, "-m", "venv", str(venv)], clone, env)
        pip = [str(venv / "bin" / "pip"), "install", *(["--no-cache-dir"] if args.no_cache else []), ".[example]"]
        total += timed("install", pip, clone, env)
        env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        check = [str(venv / "bin" / "green-gate"), "check", "--budget", "examples/digits/green-budget.yml"]
        total += timed("first check", check, clone, env)
        print(f"{'total':<12} {total:7.1f} s  ({os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
