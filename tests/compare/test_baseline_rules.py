"""Comparability of a baseline's energy method with this run's."""

from __future__ import annotations

from gate.compare.baseline_rules import energy_method_differences


def test_the_same_method_is_comparable() -> None:
    assert energy_method_differences("cpu:estimated:process", "cpu:estimated:process") == ()


def test_another_cpu_method_or_scope_set_is_not() -> None:
    assert energy_method_differences("cpu:estimated:machine", "cpu:estimated:process") == (
        "energy method: cpu:estimated:machine vs cpu:estimated:process",
    )
    assert energy_method_differences("cpu:estimated:process+ram:estimated", "cpu:estimated:process") != ()


def test_a_run_by_an_older_gate_is_comparable_only_for_a_gpu_total() -> None:
    assert energy_method_differences(None, "gpu:measured") == ()
    (why,) = energy_method_differences(None, "cpu:estimated:process")
    assert why.startswith("energy method: not recorded (an older green-gate, CPU and RAM machine-wide)")
