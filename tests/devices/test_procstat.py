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
