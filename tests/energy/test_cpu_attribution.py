import pytest

from gate.energy.cpu_attribution import DEFAULT_W_PER_THREAD, estimated, measured, w_per_thread


def test_power_per_thread_is_tdp_over_threads() -> None:
    assert w_per_thread(120.0, 16) == pytest.approx(7.5)


@pytest.mark.parametrize(("tdp_w", "threads"), [(None, 8), (65.0, None), (0.0, 8), (65.0, 0)])
def test_unknown_model_gets_the_documented_default(tdp_w: float | None, threads: int | None) -> None:
    assert w_per_thread(tdp_w, threads) == DEFAULT_W_PER_THREAD


def test_estimate_is_cpu_seconds_times_power_and_says_so() -> None:
    reading = estimated(4.0, 7.5)
    assert reading.energy_j == pytest.approx(30.0)
    assert reading.method == "estimated: process CPU time × 7.50 W per thread"


def test_a_sleeping_benchmark_is_charged_nothing() -> None:
    assert estimated(0.0, 7.5).energy_j == 0.0


def test_measured_charges_the_tree_its_share_of_package_energy() -> None:
    reading = measured(package_j=100.0, tree_cpu_s=3.0, machine_cpu_s=12.0)
    assert reading.energy_j == pytest.approx(25.0)
    assert reading.method == "measured: RAPL × CPU-time share"


@pytest.mark.parametrize(("tree_cpu_s", "machine_cpu_s", "expected_j"), [(5.0, 0.0, 0.0), (20.0, 10.0, 100.0)])
def test_measured_share_is_bounded(tree_cpu_s: float, machine_cpu_s: float, expected_j: float) -> None:
    assert measured(100.0, tree_cpu_s, machine_cpu_s).energy_j == pytest.approx(expected_j)
