"""The whole check pipeline in-process, on real git and the embedded MLflow store, with a meter
whose readings are set by the benchmark: the result JSON and the report are golden files.

Energy is what the benchmark writes to work.energy (times a fixed jitter per repeat), so a
regression is exact and every figure is reproducible; hardware, ids, SHAs, paths and times are
normalised. UPDATE_GOLDEN=1 rewrites the files (tests.support.golden).
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from gate.commands import check
from gate.energy.model import EnergyReading, PhaseEnergy, ScopeEnergy
from tests.support.documents import validate_result
from tests.support.golden import check_golden
from tests.support.mlflow import seed_embedded_store

pytestmark = pytest.mark.slow  # real git, the embedded MLflow store and 30 benchmark processes

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "pipeline"
JITTER = (1.0, 1.01, 0.99, 1.005, 0.995, 1.002, 0.998)

BENCH = """import json, os, pathlib
work = float(pathlib.Path("work.txt").read_text().strip())
pathlib.Path("work.energy").write_text(str(work))
if pathlib.Path("fail").exists():
    print("boom")
    raise SystemExit(3)
json.dump({"predictions": 1000, "accuracy": 0.97}, open(os.environ["GREEN_GATE_METRICS"], "w"))
"""

BUDGET = """version: 1
benchmarks:
  - name: b
    command: python bench.py
    repeats: {repeats}
    warmup: 0
limits:
  energy_per_prediction_j: {{warn: +2%, fail: +5%}}
budgets:
  energy_kwh: {{warn: 0.5, fail: 1.0}}
quality:
  accuracy: {{min: 0.95}}
carbon:
  intensity_g_per_kwh: 400
comparison:
  mode: {mode}
policy:
  missing_baseline: pass
"""


class WorkMeter:
    """Energy = the work the benchmark wrote to work.energy, times a repeatable jitter."""

    def __init__(self, work_file: Path) -> None:
        self.work_file = work_file
        self.readings = 0

    def start(self) -> None:
        self.work_file.unlink(missing_ok=True)

    def stop(self) -> EnergyReading:
        self.readings += 1
        work = float(self.work_file.read_text()) if self.work_file.exists() else 1.0
        energy_j = work * JITTER[self.readings % len(JITTER)]
        return EnergyReading(
            duration_s=2.0,
            scopes=(
                ScopeEnergy("cpu", energy_j * 0.4, "estimated", "TDP x load"),
                ScopeEnergy("ram", energy_j * 0.6, "estimated", "RAM model"),
            ),
        )


class PrefillDecodeMeter(WorkMeter):
    """As WorkMeter, on a GPU whose run was marked prefill (1024 tokens, 40% of the GPU energy in
    0.5 s) then decode (64 tokens, 60% in 1.5 s): the NVML engine's reading, set by the work."""

    def stop(self) -> EnergyReading:
        reading = super().stop()
        gpu_j = reading.energy_j
        return replace(
            reading,
            scopes=(ScopeEnergy("gpu", gpu_j, "measured", "1 GPU: nvml counter"),),
            items=1088,
            phases=(
                PhaseEnergy("prefill", 0.5, 1024, gpu_j * 0.4, 0.25),
                PhaseEnergy("decode", 1.5, 64, gpu_j * 0.6, 0.75),
            ),
        )


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


class Project:
    def __init__(
        self, root: Path, mode: str, env: dict[str, str], repeats: str = "5", meter: type[WorkMeter] = WorkMeter
    ) -> None:
        self.root, self.env, self.step, self.meter = root, env, 0, meter
        root.mkdir()
        git(root, "init", "-q", "-b", "main")
        git(root, "config", "user.email", "test@example.invalid")
        git(root, "config", "user.name", "test")
        (root / "bench.py").write_text(BENCH)
        (root / "green-budget.yml").write_text(BUDGET.format(mode=mode, repeats=repeats))
        (root / "work.txt").write_text("1.0\n")
        (root / ".gitignore").write_text(".green-gate/\nfail\n*.json\n*.md\nwork.energy\n")
        git(root, "add", ".")
        git(root, "commit", "-qm", "base")
        seed_embedded_store(root)

    def check(
        self, branch: str, work: float, *, fail: bool = False, record: bool = True
    ) -> tuple[int, dict[str, Any], str]:
        """Commit `work` on `branch` (from main) and check it; back on main afterwards."""
        root, self.step = self.root, self.step + 1
        if branch != "main":
            git(root, "checkout", "-q", "-B", branch)
        (root / "work.txt").write_text(f"{work}\n")
        (root / "fail").unlink(missing_ok=True)
        if fail:
            (root / "fail").touch()
        git(root, "commit", "-qam", f"step {self.step}", "--allow-empty")
        opts = check.CheckOptions(
            budget_path=root / "green-budget.yml",
            json_path=root / f"{self.step}.json",
            report_path=root / f"{self.step}.md",
            branch=branch,
            base_branch=None if branch == "main" else "main",  # a push to main, or a PR into it
            record=record,
        )
        with contextlib.redirect_stdout(io.StringIO()):
            code = check.run(opts, env=self.env, cwd=root, meter=self.meter(root / "work.energy"), log=lambda _: None)
        if branch != "main":
            git(root, "checkout", "-q", "main")
        document = json.loads((root / f"{self.step}.json").read_text())
        validate_result(document)  # a real run's result declares every field it has
        return code, _normalised(document, root), _normalised_text((root / f"{self.step}.md").read_text(), root)


def _normalised_text(text: str, root: Path) -> str:
    text = text.replace(str(root), "PROJECT")
    shas = subprocess.run(["git", "rev-list", "--all"], cwd=root, capture_output=True, text=True, check=True)
    for sha in shas.stdout.split():
        text = re.sub(rf"\b{sha[:7]}[0-9a-f]{{0,33}}\b", "SHA", text)
    text = re.sub(r"MLflow run `[0-9a-f]{8}`", "MLflow run `RUN_ID`", text)  # the report's short id
    text = re.sub(r"\[[0-9a-f]{12}\]", "[HARDWARE_ID]", text)  # the machine's fingerprint
    return re.sub(r"\b[0-9a-f]{32}\b", "RUN_ID", text)


def _normalised(value: Any, root: Path) -> Any:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            machine = ("created_at", "start_time_ms", "hardware", "hardware_id")  # this machine's, not the code's
            if key in machine or (key == "description" and isinstance(item, str)):
                out[key] = "X"
            else:
                out[key] = _normalised(item, root)
        return out
    if isinstance(value, list):
        return [_normalised(v, root) for v in value]
    if isinstance(value, str):
        return _normalised_text(value, root)
    return value


def check_pipeline_golden(name: str, code: int, document: dict[str, Any], report: str) -> None:
    text = json.dumps({"exit_code": code, "result": document}, indent=2) + "\n"
    report = re.sub(r"(?m)^.*(AMD|Intel|CPU).*\n", "", report)  # the machine's description
    check_golden(f"{name}.json", text, GOLDEN)
    check_golden(f"{name}.md", report, GOLDEN)


def test_history_mode_records_a_baseline_then_judges_changes(tmp_path: Path, clean_env: dict[str, str]) -> None:
    project = Project(tmp_path / "history", "history", clean_env)
    assert project.check("main", 1.0)[0] == 0
    assert project.check("unchanged", 1.0)[0] == 0
    check_pipeline_golden("history_fail", *project.check("regressed", 1.5))
    check_pipeline_golden("history_warn", *project.check("slightly", 1.03))
    code, document, _ = project.check("main", 1.0, record=False)
    assert code == 0 and document["benchmarks"][0]["mlflow_run_id"] is None


def test_paired_mode_measures_the_base_in_the_same_job(tmp_path: Path, clean_env: dict[str, str]) -> None:
    project = Project(tmp_path / "paired", "paired", clean_env)
    check_pipeline_golden("paired_fail", *project.check("regressed", 1.5))
    assert project.check("unchanged", 1.0)[0] == 0


def test_auto_mode_pairs_when_history_cannot_settle_it(tmp_path: Path, clean_env: dict[str, str]) -> None:
    project = Project(tmp_path / "auto", "auto", clean_env)
    code, first, _ = project.check("main", 1.0)  # no history, and the base is this very commit
    assert code == 0 and first["benchmarks"][0]["baseline"] is None
    assert "Paired comparison not run" in first["benchmarks"][0]["notes"][-1]
    check_pipeline_golden("auto_paired_warn", *project.check("slightly", 1.03))  # straddles +2%: paired
    # -10%: history settles it, no pairing. (Unchanged code would pair: its interval, widened by the
    # job-to-job prior of 1%, straddles the +2% warn limit.)
    code, settled, _ = project.check("cheaper", 0.9)
    assert code == 0 and settled["benchmarks"][0]["baseline"]["paired"] is False


def test_a_failing_benchmark_is_exit_3_with_its_output(tmp_path: Path, clean_env: dict[str, str]) -> None:
    project = Project(tmp_path / "error", "history", clean_env)
    check_pipeline_golden("benchmark_failed", *project.check("main", 1.0, fail=True))


def test_adaptive_repeats_run_max_without_a_baseline_then_stop_once_decided(
    tmp_path: Path, clean_env: dict[str, str]
) -> None:
    project = Project(tmp_path / "adaptive", "history", clean_env, repeats="{min: 3, max: 12}")
    code, first, _ = project.check("main", 1.0)  # nothing to decide against: max, a precise baseline
    bench = first["benchmarks"][0]
    assert code == 0 and bench["adaptive"] == {
        "min": 3,
        "max": 12,
        "repeats_run": 12,
        "stopped": "no baseline",
        "paired": False,
    }
    assert bench["repeats"] == 12 and len(bench["per_repeat"]["energy_j"]) == 12
    # +50%: decided at the minimum; +3% against limits of +2% and +5%: undecided up to max.
    check_pipeline_golden("adaptive_fail", *project.check("regressed", 1.5))
    check_pipeline_golden("adaptive_max", *project.check("slightly", 1.03))


def test_adaptive_pairs_stop_once_decided(tmp_path: Path, clean_env: dict[str, str]) -> None:
    project = Project(tmp_path / "adaptive-paired", "paired", clean_env, repeats="{min: 3, max: 12}")
    check_pipeline_golden("paired_adaptive_fail", *project.check("regressed", 1.5))  # +50%: 3 pairs decide it


def test_prefill_and_decode_each_report_j_per_token_and_reach_mlflow(tmp_path: Path, clean_env: dict[str, str]) -> None:
    project = Project(tmp_path / "phases", "history", clean_env, meter=PrefillDecodeMeter)
    assert project.check("main", 1.0)[0] == 0
    code, document, report = project.check("decode-slower", 1.03)
    (bench,) = document["benchmarks"]
    prefill, decode = bench["phases"]
    assert (prefill["name"], prefill["items"], decode["name"], decode["items"]) == ("prefill", 1024, "decode", 64)
    assert decode["energy_per_item_j"] / prefill["energy_per_item_j"] == pytest.approx(24.0)  # 0.6/64 vs 0.4/1024
    # The baseline came back from MLflow with its own per-phase figures.
    assert bench["baseline"]["metrics"]["phase.decode.energy_per_item_j"] == pytest.approx(
        decode["energy_per_item_j"] / 1.03, rel=0.02
    )
    check_pipeline_golden("history_phases", code, document, report)
