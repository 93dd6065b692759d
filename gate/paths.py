"""The gate's working files under `.green-gate/` in the directory a command runs in, named once.

Everything the gate writes for itself lives under one folder, so a workflow caches or uploads it
(and a `.gitignore` leaves it out) with one line.
"""

from __future__ import annotations

from pathlib import Path

STATE_DIR = Path(".green-gate")


def state_dir(cwd: Path) -> Path:
    return cwd / STATE_DIR


def report_file(cwd: Path) -> Path:
    """The Markdown report of the last check."""
    return state_dir(cwd) / "report.md"


def results_dir(cwd: Path) -> Path:
    """One machine-readable result per check."""
    return state_dir(cwd) / "results"


def mlflow_db(cwd: Path) -> Path:
    """The embedded MLflow store, used when no MLFLOW_TRACKING_URI is set."""
    return state_dir(cwd) / "mlflow.db"


def spool_dir(cwd: Path) -> Path:
    """Run records MLflow could not take, until `green-gate upload` logs them."""
    return state_dir(cwd) / "spool"


def cache_dir(cwd: Path, name: str) -> Path:
    """A cache of one outside source (e.g. `electricitymaps`)."""
    return state_dir(cwd) / "cache" / name
