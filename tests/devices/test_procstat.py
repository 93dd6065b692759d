"""The machine's busy CPU time from /proc/stat."""

from __future__ import annotations

from pathlib import Path

import pytest

from gate.devices.procstat import busy_s_from, machine_busy_s

STAT = "cpu  1000 50 300 9000 200 10 40 77 500 0\ncpu0 500 25 150 4500 100 5 20 0 250 0\nintr 1 2 3\n"


def test_busy_time_is_user_nice_system_irq_softirq_of_all_cpus() -> None:
    # idle, iowait and steal are not work done here; guest is already in user
    assert busy_s_from(STAT, 100.0) == pytest.approx((1000 + 50 + 300 + 10 + 40) / 100)


def test_text_without_a_cpu_line_gives_none() -> None:
    assert busy_s_from("intr 1 2\n", 100.0) is None
    assert busy_s_from("cpu a b c\n", 100.0) is None


def test_an_unreadable_file_gives_none(tmp_path: Path) -> None:
    assert machine_busy_s(tmp_path / "missing") is None


def test_the_counter_reads_a_file_in_the_proc_stat_format(tmp_path: Path) -> None:
    path = tmp_path / "stat"
    path.write_text(STAT)
    busy = machine_busy_s(path)
    assert busy is not None and busy > 0


def test_cpu_times_split_busy_steal_and_all_time() -> None:
    from gate.devices.procstat import cpu_times_from

    times = cpu_times_from(STAT, 100.0)
    assert times is not None
    assert times.busy_s == pytest.approx((1000 + 50 + 300 + 10 + 40) / 100)
    assert times.steal_s == pytest.approx(0.77)
    # guest (already in user) is left out of the total
    assert times.total_s == pytest.approx((1000 + 50 + 300 + 9000 + 200 + 10 + 40 + 77) / 100)


def test_cpu_times_of_an_old_kernel_without_steal_count_it_as_zero() -> None:
    from gate.devices.procstat import cpu_times_from

    times = cpu_times_from("cpu  100 0 50 800 0 0 0\n", 100.0)
    assert times is not None and times.steal_s == 0.0 and times.total_s == pytest.approx(9.5)
    assert cpu_times_from("cpu x\n", 100.0) is None


def test_cpu_times_read_from_the_file_or_none(tmp_path: Path) -> None:
    from gate.devices.procstat import machine_cpu_times

    path = tmp_path / "stat"
    path.write_text(STAT)
    assert machine_cpu_times(path) is not None
    assert machine_cpu_times(tmp_path / "missing") is None
