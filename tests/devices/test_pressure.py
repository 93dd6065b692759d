"""CPU pressure (PSI), the cgroup's own, and the load average, read from files in their kernel formats."""

from __future__ import annotations

from pathlib import Path

from gate.devices.pressure import (
    StallTotals,
    cgroup_cpu_pressure_path,
    cgroup_cpu_stall_totals,
    cpu_stall_totals,
    load_average_1m,
    stall_totals_from,
)

PSI = "some avg10=8.74 avg60=3.28 avg300=1.07 total=4647984\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=1200\n"


def test_the_totals_are_the_cumulative_microseconds_of_some_and_full() -> None:
    assert stall_totals_from(PSI) == StallTotals(some_us=4647984, full_us=1200)


def test_a_kernel_without_a_full_line_for_cpu_gives_some_only() -> None:
    assert stall_totals_from("some avg10=0.00 avg60=0.00 avg300=0.00 total=17\n") == StallTotals(17, None)


def test_malformed_or_missing_pressure_gives_none(tmp_path: Path) -> None:
    assert stall_totals_from("some avg10=1 total=abc\n") is None
    assert stall_totals_from("") is None
    assert cpu_stall_totals(tmp_path / "missing") is None


def test_the_cgroup_v2_path_comes_from_the_unified_line() -> None:
    text = "1:cpu:/\n0::/system.slice/runner.service\n"
    assert cgroup_cpu_pressure_path(text, Path("/cg")) == Path("/cg/system.slice/runner.service/cpu.pressure")
    assert cgroup_cpu_pressure_path("0::/\n", Path("/cg")) == Path("/cg/cpu.pressure")
    assert cgroup_cpu_pressure_path("4:memory:/x\n", Path("/cg")) is None  # cgroup v1 only


def test_the_cgroup_counters_are_read_from_its_cpu_pressure_file(tmp_path: Path) -> None:
    (tmp_path / "job").mkdir()
    (tmp_path / "job" / "cpu.pressure").write_text(PSI)
    cgroup = tmp_path / "cgroup"
    cgroup.write_text("0::/job\n")
    assert cgroup_cpu_stall_totals(cgroup, tmp_path) == StallTotals(4647984, 1200)
    assert cgroup_cpu_stall_totals(tmp_path / "missing", tmp_path) is None


def test_the_load_average_is_the_first_field(tmp_path: Path) -> None:
    path = tmp_path / "loadavg"
    path.write_text("3.27 1.20 0.45 3/141 8596\n")
    assert load_average_1m(path) == 3.27
    path.write_text("")
    assert load_average_1m(path) is None
    assert load_average_1m(tmp_path / "missing") is None
