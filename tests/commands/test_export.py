"""`green-gate export` through the real CLI, on the result a real `check` wrote."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from tests.support.cli import busy_project, run_cli
from tests.support.mlflow import seed_embedded_store

SCHEMAS = Path(__file__).resolve().parents[1] / "data" / "export"


@pytest.mark.slow
def test_export_writes_each_format_from_the_newest_local_result(tmp_path: Path, cli_env: dict[str, str]) -> None:
    project = busy_project(tmp_path, repeats=2)
    seed_embedded_store(project)
    assert run_cli("check", "--json", "result.json", cwd=project, env=cli_env).returncode == 0
    for fmt, schema in (("bmf", "bmf.schema.json"), ("gab", "gab-custom.schema.json")):
        done = run_cli("export", "--format", fmt, "-o", f"{fmt}.json", cwd=project, env=cli_env)
        assert done.returncode == 0, done.stderr
        exported = json.loads((project / f"{fmt}.json").read_text())
        jsonschema.validate(exported, json.loads((SCHEMAS / schema).read_text()))
    bmf = json.loads((project / "bmf.json").read_text())
    energy = json.loads((project / "result.json").read_text())["benchmarks"][0]["metrics"]["energy_per_prediction_j"]
    assert bmf["busy"]["energy-per-prediction"]["value"] == energy
    on_stdout = run_cli("export", "--format", "bmf", "--result", "result.json", cwd=project, env=cli_env)
    assert json.loads(on_stdout.stdout) == bmf


def test_export_without_a_result_or_of_a_foreign_file_exits_2(tmp_path: Path, cli_env: dict[str, str]) -> None:
    none = run_cli("export", "--format", "gab", cwd=tmp_path, env=cli_env)
    assert none.returncode == 2 and "no result to export" in none.stderr
    (tmp_path / "other.json").write_text('{"benchmarks": 3}')
    foreign = run_cli("export", "--format", "gab", "--result", "other.json", cwd=tmp_path, env=cli_env)
    assert foreign.returncode == 2 and "not a green-gate result" in foreign.stderr
