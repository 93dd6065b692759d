"""Power per logical CPU from codecarbon's own CPU power table (the real table and matcher)."""

from __future__ import annotations

import os

import pytest

from gate.energy import codecarbon as energy_codecarbon
from gate.energy.cpu_attribution import DEFAULT_W_PER_THREAD


@pytest.fixture
def machine(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    import codecarbon.core.util as util

    monkeypatch.setattr(util, "count_physical_cpus", lambda: 1)
    return monkeypatch


def test_a_model_in_the_table_is_charged_its_tdp_over_its_threads(machine: pytest.MonkeyPatch) -> None:
    import codecarbon.core.util as util

    machine.setattr(util, "detect_cpu_model", lambda: "AMD EPYC 7763 64-Core Processor")
    machine.setattr(os, "cpu_count", lambda: 128)
    power = energy_codecarbon.cpu_power()
    assert power.w_per_thread == pytest.approx(280.0 / 128)
    assert power.source == "AMD EPYC 7763 64-Core Processor, TDP 280 W / 128 threads"


def test_a_model_not_in_the_table_gets_the_default_not_codecarbons_guess(machine: pytest.MonkeyPatch) -> None:
    import codecarbon.core.util as util

    machine.setattr(util, "detect_cpu_model", lambda: "Intel(R) Xeon(R) Processor")
    power = energy_codecarbon.cpu_power()
    assert power.w_per_thread == DEFAULT_W_PER_THREAD
    assert power.source.startswith("default: Intel(R) Xeon(R) Processor")
