"""The `.green-gate/` layout the docs, the workflows `init` writes and the action's outputs name."""

from __future__ import annotations

from pathlib import Path

from gate import paths


def test_everything_lies_under_one_folder(tmp_path: Path) -> None:
    state = tmp_path / ".green-gate"
    assert paths.state_dir(tmp_path) == state
    assert paths.report_file(tmp_path) == state / "report.md"
    assert paths.results_dir(tmp_path) == state / "results"
    assert paths.mlflow_db(tmp_path) == state / "mlflow.db"
    assert paths.spool_dir(tmp_path) == state / "spool"
    assert paths.cache_dir(tmp_path, "electricitymaps") == state / "cache" / "electricitymaps"
    assert paths.mlflow_db(Path()).as_posix() == ".green-gate/mlflow.db"  # relative, as workflows cache it
