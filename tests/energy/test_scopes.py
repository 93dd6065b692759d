"""The budget's `energy:` block and the scope policy it feeds."""

from __future__ import annotations

from pathlib import Path

import pytest

from gate.config.budget import EnergySpec
from gate.config.load import parse_budget
from gate.energy.model import EnergyReading, RepeatResult, ScopeEnergy
from gate.energy.scopes import ScopedMeter, active_energy_j, apply_scopes, gated_scopes
from gate.energy.summary import summarise
from gate.errors import ConfigError

HEAD = "version: 1\nbenchmarks:\n  - name: b\n    command: python -c pass\n"


def test_default_energy_block() -> None:
    assert parse_budget(HEAD, Path("b.yml")).energy == EnergySpec()


def test_energy_block_is_loaded() -> None:
    text = (
        HEAD + "energy:\n  scopes: [gpu, cpu]\n  basis: active\n  idle_s: 5\n  phases: [inference]\n  sample_hz: 200\n"
    )
    spec = parse_budget(text, Path("b.yml")).energy
    assert spec == EnergySpec(("gpu", "cpu"), "active", 5.0, ("inference",), 200.0, line=5)


@pytest.mark.parametrize("mode", ["process", "machine"])
def test_energy_cpu_mode_is_loaded(mode: str) -> None:
    assert parse_budget(HEAD + f"energy:\n  cpu: {mode}\n", Path("b.yml")).energy.cpu == mode


def test_energy_cpu_defaults_to_the_process_tree() -> None:
    assert EnergySpec().cpu == "process"


@pytest.mark.parametrize(
    ("block", "message", "line"),
    [
        ("energy:\n  scopes: [gpu, disk]\n", "'disk' is not one of: gpu, cpu, ram", 6),
        ("energy:\n  scopes: []\n", "energy.scopes", 6),
        ("energy:\n  basis: idle\n", "'idle' is not one of: total, active", 6),
        ("energy:\n  scopes: [cpu]\n  cpu: tree\n", "'tree' is not one of: process, machine", 7),
        ("energy:\n  idle_s: 120\n", "out of range", 6),
        ("energy:\n  basis: active\n  idle_s: 0\n", "needs idle power", 7),
    ],
)
def test_bad_energy_blocks_are_config_errors_with_lines(block: str, message: str, line: int) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_budget(HEAD + block, Path("b.yml"))
    assert message in caught.value.message
    assert caught.value.line == line


def test_misspelt_energy_key_is_an_error_and_warns_when_lenient() -> None:
    with pytest.raises(ConfigError, match="did you mean 'scopes'"):
        parse_budget(HEAD + "energy:\n  scope: [gpu]\n", Path("b.yml"))
    budget = parse_budget(HEAD + "energy:\n  scope: [gpu]\n", Path("b.yml"), lenient=True)
    assert budget.warnings == ("b.yml:6: unknown key 'energy.scope' is ignored; did you mean 'scopes'?",)


def test_default_gates_on_the_gpu_when_one_is_measured() -> None:
    assert gated_scopes(["gpu", "cpu", "ram"], None) == {"gpu"}
    assert gated_scopes(["gpu", "cpu", "ram"], ("gpu", "cpu", "ram")) == {"gpu", "cpu", "ram"}


def test_ram_is_reported_but_not_gated_unless_the_budget_names_it() -> None:
    assert gated_scopes(["cpu", "ram"], None) == {"cpu"}
    assert gated_scopes(["cpu", "ram"], ("cpu", "ram")) == {"cpu", "ram"}
    assert gated_scopes(["ram"], None) == {"ram"}  # nothing better measured: the only figure there is


def test_scoped_meter_without_energy_scopes_leaves_ram_out_of_the_total() -> None:
    class CpuRamMeter:
        def start(self) -> None:
            pass

        def stop(self) -> EnergyReading:
            return EnergyReading(
                10.0, (ScopeEnergy("cpu", 30.0, "estimated", "cpu"), ScopeEnergy("ram", 40.0, "estimated", "ram"))
            )

    meter = ScopedMeter(CpuRamMeter(), None)
    meter.start()
    reading = meter.stop()
    assert reading.energy_j == 30.0
    assert [(s.scope, s.gated) for s in reading.scopes] == [("cpu", True), ("ram", False)]


def test_asking_for_a_scope_that_is_not_measured_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="asks for gpu, which this machine does not measure"):
        gated_scopes(["cpu", "ram"], ("gpu",))


def reading(gpu_j: float, cpu_j: float) -> EnergyReading:
    return EnergyReading(
        10.0,
        (
            ScopeEnergy("gpu", gpu_j, "measured", "nvml"),
            ScopeEnergy("cpu", cpu_j, "estimated", "TDP x load"),
        ),
    )


def test_an_estimate_cannot_mask_a_gpu_change() -> None:
    before = apply_scopes(reading(1000.0, 4000.0), gated_scopes(["gpu", "cpu"], None))
    after = apply_scopes(reading(1100.0, 4000.0), gated_scopes(["gpu", "cpu"], None))
    assert after.energy_j / before.energy_j == pytest.approx(1.10)  # +10%, not +2% diluted by the estimate
    summary = summarise([RepeatResult(0, after, 10, {})], None)
    assert summary.metrics["energy_j"] == 1100.0
    assert summary.provenance == "measured"  # the estimate is reported, not part of the total
    assert [(s.scope, s.gated) for s in summary.scopes] == [("gpu", True), ("cpu", False)]


def test_active_energy_is_above_idle_and_never_negative() -> None:
    assert active_energy_j(1000.0, 75.0, 4.0) == 700.0
    assert active_energy_j(100.0, 75.0, 4.0) == 0.0


class FixedMeter:
    def start(self) -> None:
        pass

    def stop(self) -> EnergyReading:
        return reading(10.0, 30.0)


def test_scoped_meter_applies_the_budget_choice() -> None:
    meter = ScopedMeter(FixedMeter(), ("cpu",))
    meter.start()
    assert meter.stop().energy_j == 30.0


def test_report_marks_scopes_that_are_reported_but_not_gated() -> None:
    from gate.output.report import render
    from tests.helpers import summary as make_summary

    base = make_summary([100.0])
    document = {
        "verdict": "pass",
        "error": None,
        "notes": [],
        "hardware": {"description": "x", "fingerprint": "f"},
        "context": {"commit": None, "branch": None},
        "gate_version": "0",
        "benchmarks": [
            {
                "name": "b",
                "kind": "inference",
                "verdict": "pass",
                "baseline": None,
                "error": None,
                "repeats": 1,
                "warmup": 0,
                "baseline_branch": "main",
                "metrics": base.metrics,
                "quality": {},
                "checks": [],
                "notes": [],
                "output_tail": [],
                "intensity": None,
                "scopes": [
                    {"scope": "gpu", "energy_j": 90.0, "provenance": "measured", "method": "nvml", "gated": True},
                    {"scope": "cpu", "energy_j": 10.0, "provenance": "estimated", "method": "TDP", "gated": False},
                ],
            }
        ],
    }
    text = render(document)
    assert "gpu 90 J (measured: nvml); cpu 10 J (estimated: TDP; reported, not gated)." in text
