"""An output that cannot be written (a missing or unwritable folder, a full disk): exit 4 naming the
file, the reason and the fix, and the result document on stderr as one JSON line so that nothing
measured is lost."""

from __future__ import annotations

import errno
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from gate.commands import check
from gate.energy.model import EnergyReading, ScopeEnergy
from gate.errors import OutputError
from gate.output import result

# The check runs open the embedded MLflow store for the baseline: slow.

BENCH = """import json, os, pathlib
if pathlib.Path("fail").exists():
    raise SystemExit(3)
json.dump({"predictions": 1000}, open(os.environ["GREEN_GATE_METRICS"], "w"))
"""

BUDGET = """version: 1
benchmarks:
  - name: b
    command: python bench.py
    repeats: 2
    warmup: 0
limits:
  energy_per_prediction_j: {warn: +2%, fail: +5%}
carbon:
  intensity_g_per_kwh: 400
policy:
  missing_baseline: pass
"""


class FixedMeter:
    def start(self) -> None:
        pass

    def stop(self) -> EnergyReading:
        return EnergyReading(1.0, (ScopeEnergy("cpu", 10.0, "estimated", "test"),))


def _project(tmp_path: Path) -> Path:
    (tmp_path / "bench.py").write_text(BENCH)
    (tmp_path / "green-budget.yml").write_text(BUDGET)
    (tmp_path / "afile").write_text("a regular file: no path under it can be written, even by root\n")
    return tmp_path


def _check(root: Path, capsys: pytest.CaptureFixture[str], **options: Any) -> tuple[int, str]:
    opts = check.CheckOptions(
        budget_path=root / "green-budget.yml", branch="main", commit="a" * 40, record=False, **options
    )
    code = check.run(opts, env={}, cwd=root, meter=FixedMeter(), log=lambda m: print(m, file=sys.stderr))
    return code, capsys.readouterr().err


def _rescued(stderr: str) -> dict[str, Any]:
    (line,) = [line for line in stderr.splitlines() if line.startswith("{")]
    document: dict[str, Any] = json.loads(line)
    return document


@pytest.mark.slow
@pytest.mark.parametrize("option", ["json_path", "report_path"])
def test_unwritable_output_exits_4_and_prints_the_result(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str
) -> None:
    root = _project(tmp_path)
    target = root / "afile" / "out"
    code, stderr = _check(root, capsys, **{option: target})
    assert code == 4
    assert f"error: cannot write {target}: part of its folder path is a file, not a folder" in stderr
    assert "fix: free disk space, or make the folder writable, or give another path" in stderr
    document = _rescued(stderr)
    assert document["verdict"] == "pass"
    assert document["benchmarks"][0]["per_repeat"]["energy_j"] == [10.0, 10.0]
    (saved,) = (root / ".green-gate" / "results").glob("*.json")  # the other outputs are still written
    written = json.loads(saved.read_text())
    assert written["benchmarks"] == document["benchmarks"]
    # Neither the file that was written nor the rescued copy says 0 while the process exits 4.
    assert written["exit_code"] == document["exit_code"] == 4 and written["complete"] is True
    assert written["notes"][-1].startswith(f"exit code 4, not 0: cannot write {target}")


@pytest.mark.slow
def test_unwritable_result_folder_on_a_failed_benchmark_exits_4_and_prints_the_result(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _project(tmp_path)
    (root / ".green-gate").mkdir()
    (root / ".green-gate" / "results").write_text("a file where the results folder should be\n")
    (root / "fail").touch()
    code, stderr = _check(root, capsys)
    assert code == 4
    assert "warning: cannot write" in stderr  # the partial saves: the check went on
    document = _rescued(stderr)
    assert document["verdict"] == "error" and document["exit_code"] == 4  # what the process exits with
    assert document["notes"][-1].startswith("exit code 4, not 3: cannot write")
    assert "exited with status 3" in document["benchmarks"][0]["error"]


@pytest.mark.slow
def test_unwritable_json_on_a_bad_budget_keeps_its_exit_code_and_prints_the_result(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _project(tmp_path)
    budget = root / "green-budget.yml"
    budget.write_text(budget.read_text().replace("repeats: 2", "repeats: lots"))
    target = root / "afile" / "x.json"
    code, stderr = _check(root, capsys, json_path=target)
    assert code == 2
    assert f"cannot write {target}: part of its folder path is a file, not a folder" in stderr
    document = _rescued(stderr)
    assert document["verdict"] == "error" and document["exit_code"] == 2
    assert "repeats" in document["error"]["message"]


def test_full_disk_names_the_file_and_leaves_no_temporary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(*_args: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("gate.output.result.os.replace", full)
    with pytest.raises(OutputError) as info:
        result.write_json(tmp_path / "r.json", {"verdict": "pass"})
    assert info.value.render() == (
        f"cannot write {tmp_path / 'r.json'}: No space left on device\n"
        "  fix: free disk space, or make the folder writable, or give another path (--json, --report-file)"
    )
    assert info.value.exit_code == 4
    assert list(tmp_path.iterdir()) == []
