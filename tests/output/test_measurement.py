"""The measuring job's artifact: written whole, read back as the same values, and read as untrusted."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

from gate.compare.model import Baseline
from gate.devices.conditions import GpuConditions
from gate.devices.gpu import GpuInfo
from gate.devices.hardware import Hardware
from gate.errors import ConfigError
from gate.output import measurement
from tests.helpers import summary
from tests.output.test_report_conditions import BUSY
from tests.support.documents import INTENSITY

BUDGET = "version: 1\nbenchmarks: []\n"
GPU_CONDITIONS = GpuConditions("GPU-1", 40, 1410.0, 1980.0, 2619.0, 71.0, 700.0, {"power-capped": 0.41}, (4242,))


def artifact() -> measurement.Artifact:
    gpu = GpuInfo("NVIDIA H100", "GPU-1", "550.54", power_limit_w=700.0, mig_mode=False, other_pids=(12,))
    paired = Baseline(
        run_id="paired:abc",
        metrics={"energy_j": 1.0},
        commit="abc",
        branch="main",
        start_time_ms=0,
        per_repeat={"energy_j": (1.0, 1.1)},
        paired=True,
    )
    return measurement.Artifact(
        provenance=measurement.Provenance(
            repository="o/r",
            head_sha="a" * 40,
            run_id="42",
            run_attempt="1",
            event_name="pull_request",
            pr_number=7,
            head_branch="f",
            base_branch="main",
            base_sha="b" * 40,
            budget_file="green-budget.yml",
            budget_sha256=measurement.budget_sha256(BUDGET),
        ),
        budget_text=BUDGET,
        hardware=Hardware("AMD EPYC", 2, ("NVIDIA H100",), (gpu,), ("note",)),
        benchmarks=(
            measurement.MeasuredBenchmark(
                "infer",
                replace(
                    summary([1.0, 2.0, 3.0], quality={"accuracy": 0.9}, intensity=INTENSITY),
                    phase_series={"phase.test_a.energy_j": (0.5, 0.6, 0.7)},
                    conditions=(BUSY, BUSY, replace(BUSY, gpus=(GPU_CONDITIONS,))),
                ),
                notes=("n",),
                baseline=paired,
                base=summary([1.0, 1.1]),
            ),
            measurement.MeasuredBenchmark("broken", None, error="exit 3", output_tail=("Traceback",)),
        ),
        complete=True,
    )


def test_what_is_written_is_read_back(tmp_path: Path) -> None:
    written = artifact()
    path = measurement.write(tmp_path, written)
    assert path == tmp_path / "measurement.json"
    read = measurement.load(tmp_path)
    assert read == written
    assert read.hardware.fingerprint == written.hardware.fingerprint
    assert read.benchmark("infer") is not None and read.benchmark("nope") is None


def test_every_repeat_is_in_the_file(tmp_path: Path) -> None:
    measurement.write(tmp_path, artifact())
    document = json.loads((tmp_path / "measurement.json").read_text())
    assert document["benchmarks"][0]["summary"]["per_repeat"]["energy_j"] == [1.0, 2.0, 3.0]


def edited(tmp_path: Path, change: object) -> Path:
    measurement.write(tmp_path, artifact())
    path = tmp_path / "measurement.json"
    document = json.loads(path.read_text())
    change(document)  # type: ignore[operator]
    path.write_text(json.dumps(document))
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(version=2), "not a green-gate measurement"),
        (lambda d: d.update(extra=1), "not a green-gate measurement"),
        (lambda d: d["benchmarks"][0]["summary"]["per_repeat"].update(energy_j=["x"]), "per_repeat"),
        (lambda d: d["benchmarks"][0]["summary"]["scopes"][0].update(unknown=1), "unexpected keyword"),
        (lambda d: d.update(budget_text="version: 1\nlimits: {}\n"), "does not match its budget_sha256"),
        (lambda d: d["provenance"].update(pr_number=True), "pr_number"),
    ],
)
def test_a_tampered_artifact_is_refused(tmp_path: Path, change: object, message: str) -> None:
    path = edited(tmp_path, change)
    with pytest.raises(ConfigError, match=message):
        measurement.load(path)


def test_not_json_and_missing(tmp_path: Path) -> None:
    (tmp_path / "measurement.json").write_text("{")
    with pytest.raises(ConfigError, match="not JSON"):
        measurement.load(tmp_path)
    with pytest.raises(ConfigError, match="cannot read the measurement"):
        measurement.load(tmp_path / "absent")


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "measurement.json")
    with pytest.raises(ConfigError, match="not a regular file"):
        measurement.load(tmp_path)
