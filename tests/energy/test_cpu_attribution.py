"""CPU energy charged to the benchmark's process tree: the arithmetic and the labels."""

from __future__ import annotations

import pytest

from gate.energy.cpu_attribution import (
    DEFAULT_W_PER_THREAD,
    attribute,
    cpu_power,
    estimated,
    machine_wide,
    measured,
    w_per_thread,
)
from gate.energy.model import CpuWindow, EnergyReading, ScopeEnergy


def test_power_per_thread_is_tdp_over_threads() -> None:
    assert w_per_thread(120.0, 16) == pytest.approx(7.5)


@pytest.mark.parametrize(("tdp_w", "threads"), [(None, 8), (65.0, None), (0.0, 8), (65.0, 0)])
def test_unknown_model_gets_the_documented_default(tdp_w: float | None, threads: int | None) -> None:
    assert w_per_thread(tdp_w, threads) == DEFAULT_W_PER_THREAD


def test_a_known_model_is_charged_its_tdp_over_its_threads_and_named() -> None:
    power = cpu_power("AMD EPYC 7763", 280.0, 128)
    assert power.w_per_thread == pytest.approx(2.1875)
    assert power.source == "AMD EPYC 7763, TDP 280 W / 128 threads"


def test_an_unknown_model_gets_the_default_and_says_why() -> None:
    power = cpu_power("Intel(R) Xeon(R) Processor", None, 2)
    assert power.w_per_thread == DEFAULT_W_PER_THREAD
    assert power.source == "default: Intel(R) Xeon(R) Processor not in codecarbon's CPU power table"
    assert cpu_power(None, None, None).source == "default: CPU model unknown not in codecarbon's CPU power table"


def test_a_vm_that_sees_two_threads_of_a_large_part_gets_the_default() -> None:
    power = cpu_power("Intel Xeon Platinum 8375C", 300.0, 2)  # 150 W per thread: a slice of the chip
    assert power.w_per_thread == DEFAULT_W_PER_THREAD
    assert "not plausible" in power.source


def test_estimate_is_cpu_seconds_times_power_and_says_so() -> None:
    reading = estimated(4.0, 7.5)
    assert reading.energy_j == pytest.approx(30.0)
    assert reading.method == "process CPU time × 7.50 W per thread"


def test_a_sleeping_benchmark_is_charged_nothing() -> None:
    assert estimated(0.0, 7.5).energy_j == 0.0


def test_measured_charges_the_tree_its_share_of_package_energy() -> None:
    reading = measured(package_j=100.0, tree_cpu_s=3.0, machine_cpu_s=12.0)
    assert reading.energy_j == pytest.approx(25.0)
    assert reading.method == "RAPL × CPU-time share"


@pytest.mark.parametrize(("tree_cpu_s", "machine_cpu_s", "expected_j"), [(5.0, 0.0, 0.0), (20.0, 10.0, 100.0)])
def test_measured_share_is_bounded(tree_cpu_s: float, machine_cpu_s: float, expected_j: float) -> None:
    assert measured(100.0, tree_cpu_s, machine_cpu_s).energy_j == pytest.approx(expected_j)


def reading(cpu: ScopeEnergy, window: CpuWindow | None, duration_s: float = 10.0) -> EnergyReading:
    ram = ScopeEnergy("ram", 30.0, "estimated", "codecarbon RAM model", gated=False)
    return EnergyReading(duration_s, (cpu, ram), items=7, notes=("n",), cpu_window=window)


MODEL = ScopeEnergy("cpu", 280.0, "estimated", "codecarbon cpu_load model (TDP 65 W x load)")


def test_process_mode_replaces_the_machine_model_with_the_trees_cpu_time() -> None:
    window = CpuWindow(window_s=10.0, machine_cpu_s=None, w_per_thread=8.0, power_source="default: x")
    out = attribute(reading(MODEL, window), tree_cpu_s=2.5)
    cpu, ram = out.scopes
    assert cpu == ScopeEnergy(
        "cpu", 20.0, "estimated", "process CPU time × 8.00 W per thread (default: x)", attribution="process"
    )
    assert ram == reading(MODEL, None).scopes[1]  # RAM is left as it was
    assert (out.items, out.notes, out.cpu_window) == (7, ("n",), None)  # attributed once, not twice
    assert out.energy_j == 20.0


def test_a_machine_busy_with_other_work_does_not_change_the_estimate() -> None:
    quiet = CpuWindow(10.0, 10.0, 8.0, "d")
    busy = CpuWindow(10.0, 20.0, 8.0, "d")  # a neighbour saturates the other CPU
    assert attribute(reading(MODEL, quiet), 2.5).energy_j == attribute(reading(MODEL, busy), 2.5).energy_j


def test_a_sleep_is_charged_no_cpu_energy() -> None:
    window = CpuWindow(20.0, 40.0, 8.0, "d")
    assert attribute(reading(MODEL, window, 20.0), tree_cpu_s=0.0).scopes[0].energy_j == 0.0


def test_the_estimate_does_not_depend_on_how_long_the_window_was() -> None:
    short = attribute(reading(MODEL, CpuWindow(4.0, None, 8.0, "d"), duration_s=4.0), tree_cpu_s=5.0)
    long = attribute(reading(MODEL, CpuWindow(40.0, None, 8.0, "d"), duration_s=40.0), tree_cpu_s=5.0)
    assert short.scopes[0].energy_j == long.scopes[0].energy_j == pytest.approx(40.0)


def test_rapl_package_energy_is_shared_by_cpu_time() -> None:
    rapl = ScopeEnergy("cpu", 400.0, "measured", "RAPL package counters", gated=True)
    out = attribute(reading(rapl, CpuWindow(10.0, 16.0, 8.0, "d")), tree_cpu_s=4.0)
    assert out.scopes[0] == ScopeEnergy(
        "cpu", 100.0, "measured", "RAPL × CPU-time share (4.00 of 16.00 CPU s)", attribution="process"
    )


def test_rapl_without_machine_cpu_time_falls_back_to_the_labelled_estimate() -> None:
    rapl = ScopeEnergy("cpu", 400.0, "measured", "RAPL package counters")
    cpu = attribute(reading(rapl, CpuWindow(10.0, None, 8.0, "d")), tree_cpu_s=4.0).scopes[0]
    assert (cpu.energy_j, cpu.provenance, cpu.attribution) == (32.0, "estimated", "process")


def test_a_reading_without_a_window_is_left_alone() -> None:
    original = reading(MODEL, None)
    assert attribute(original, 3.0) is original


def test_machine_mode_keeps_the_figure_and_says_it_is_the_whole_machine() -> None:
    cpu = machine_wide(reading(MODEL, None)).scopes[0]
    assert cpu.energy_j == 280.0
    assert cpu.method == "machine-wide: codecarbon cpu_load model (TDP 65 W x load)"
    assert cpu.attribution == "machine"


def test_marked_phases_are_charged_their_own_cpu_seconds_not_the_whole_run() -> None:
    from gate.energy.model import PhaseEnergy

    window = CpuWindow(window_s=10.0, machine_cpu_s=None, w_per_thread=8.0, power_source="default: x")
    phases = (PhaseEnergy("a", 1.0, 10, 0.0, 0.25, cpu_s=0.5), PhaseEnergy("b", 3.0, 10, 0.0, 0.75, cpu_s=1.5))
    marked = EnergyReading(4.0, (MODEL,), cpu_window=window, phases=phases, phases_cpu_s=2.0, cpu_over_run=True)
    out = attribute(marked, tree_cpu_s=6.0)  # the tree also spent 4 CPU s outside the phases (start-up)
    (cpu,) = out.scopes
    assert cpu.energy_j == pytest.approx(2.0 * 8.0)
    assert [p.cpu_j for p in out.phases] == pytest.approx([0.5 * 8.0, 1.5 * 8.0])
    assert [out.phase_energy_j(p) for p in out.phases] == pytest.approx([4.0, 12.0])


def test_measured_cpu_over_the_whole_run_is_scaled_to_the_phases_cpu_seconds() -> None:
    rapl = ScopeEnergy("cpu", 100.0, "measured", "RAPL package")
    window = CpuWindow(window_s=10.0, machine_cpu_s=10.0, w_per_thread=8.0, power_source="x")
    marked = EnergyReading(4.0, (rapl,), cpu_window=window, phases_cpu_s=2.0, cpu_over_run=True)
    (cpu,) = attribute(marked, tree_cpu_s=5.0).scopes
    assert cpu.energy_j == pytest.approx(100.0 * 5.0 / 10.0 * 2.0 / 5.0)
    assert "2.00 CPU s inside the phases" in cpu.method
