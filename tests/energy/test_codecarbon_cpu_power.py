"""Power per logical CPU from codecarbon's own CPU power table (the real table and matcher), for the
CPU model the machine names."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from gate.energy import codecarbon as energy_codecarbon
from gate.energy.cpu_attribution import DEFAULT_W_PER_THREAD

# /proc/cpuinfo as x86 Linux writes it: `processor` (a number) before `model name`.
X86_CPUINFO = "processor\t: 0\nvendor_id\t: {vendor}\ncpu family\t: 25\nmodel\t\t: 1\nmodel name\t: {model}\n\n"
# As ARM Linux writes it: no `model name`; py-cpuinfo then reads other fields (codecarbon decides).
ARM_CPUINFO = "processor\t: 0\nBogoMIPS\t: 50.00\nCPU implementer\t: 0x41\nCPU part\t: 0xd0c\n\n"


@pytest.fixture
def machine(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    import codecarbon.core.util as util

    monkeypatch.setattr(util, "count_physical_cpus", lambda: 1)
    return monkeypatch


def cpuinfo(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cpuinfo"
    path.write_text(text)
    return path


def test_a_model_in_the_table_is_charged_its_tdp_over_its_threads(machine: pytest.MonkeyPatch, tmp_path: Path) -> None:
    machine.setattr(os, "cpu_count", lambda: 128)
    path = cpuinfo(tmp_path, X86_CPUINFO.format(vendor="AuthenticAMD", model="AMD EPYC 7763 64-Core Processor") * 2)
    power = energy_codecarbon.cpu_power(path)
    assert power.w_per_thread == pytest.approx(280.0 / 128)
    assert power.source == "AMD EPYC 7763 64-Core Processor, TDP 280 W / 128 threads"


def test_a_model_not_in_the_table_gets_the_default_not_codecarbons_guess(
    machine: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = cpuinfo(tmp_path, X86_CPUINFO.format(vendor="GenuineIntel", model="Intel(R) Xeon(R) Processor"))
    power = energy_codecarbon.cpu_power(path)
    assert power.w_per_thread == DEFAULT_W_PER_THREAD
    assert power.source.startswith("default: Intel(R) Xeon(R) Processor")


@pytest.mark.parametrize("text", [ARM_CPUINFO, "cpu\t\t: POWER9 (raw)\nmodel name\t: ignored\n", None])
def test_without_a_model_name_line_first_codecarbons_detection_decides(
    machine: pytest.MonkeyPatch, tmp_path: Path, text: str | None
) -> None:
    import codecarbon.core.util as util

    machine.setattr(util, "detect_cpu_model", lambda: "AMD EPYC 7763 64-Core Processor")
    path = cpuinfo(tmp_path, text) if text is not None else tmp_path / "no-cpuinfo"
    assert energy_codecarbon.cpu_model_name(path) == "AMD EPYC 7763 64-Core Processor"


@pytest.mark.skipif(not energy_codecarbon.PROC_CPUINFO.is_file(), reason="no /proc/cpuinfo on this system")
def test_this_machines_model_is_the_one_py_cpuinfo_reads() -> None:
    from codecarbon.core.util import detect_cpu_model

    assert energy_codecarbon.cpu_model_name() == (detect_cpu_model() or None)


def test_the_table_lookup_answers_as_codecarbons_own_registry_lookup() -> None:
    """Read with the csv module and matched by codecarbon's matcher: the same TDP (or none, or the same
    error on a malformed row) as codecarbon's pandas path, for names in the table and near it."""
    import csv

    from codecarbon.core.cpu import TDP
    from codecarbon.input import DataSource

    with open(DataSource().cpu_power_path, newline="", encoding="utf-8") as handle:  # type: ignore[no-untyped-call]
        names = [row["Name"] for row in csv.DictReader(handle)]
    models = [
        *names[:: max(len(names) // 60, 1)],
        "Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz",
        "Intel(R) Core(TM) i7-8700 CPU @ 3.20GHz",
        "AMD EPYC 7763 64-Core Processor",
        "Intel(R) Xeon(R) Processor",
        "Apple M1",
    ]

    def answer(lookup: Callable[[str], float | None], model: str) -> float | str | None:
        try:
            return lookup(model)
        except ValueError:
            return "malformed TDP"

    def ours(model: str) -> float | None:
        return energy_codecarbon._registry_tdp_w(TDP.__new__(TDP), model)

    def theirs(model: str) -> float | None:
        return TDP.__new__(TDP)._get_cpu_power_from_registry(model)

    for model in models:
        assert answer(ours, model) == answer(theirs, model), model
    assert any(isinstance(answer(ours, m), float) for m in models)
