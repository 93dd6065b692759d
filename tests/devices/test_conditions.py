"""The runner's conditions around one repeat, computed from counters read before and after it."""

from __future__ import annotations

from dataclasses import asdict, replace

import pytest

from gate.devices import conditions
from gate.devices.conditions import GpuConditions, GpuSample, ProbeTiming, RepeatConditions, Snapshot
from gate.devices.pressure import StallTotals
from gate.devices.procstat import CpuTimes

BEFORE = Snapshot(
    at_s=100.0, cpu=CpuTimes(1000.0, 10.0, 5000.0), stall=StallTotals(0, 0), cgroup_stall=StallTotals(0, 0)
)
# 10 s later on 2 CPUs: 20 CPU-s in all, 16 busy (8 the benchmark's), 1 stolen; some task waited 9.2 s
AFTER = Snapshot(
    at_s=110.0,
    cpu=CpuTimes(1016.0, 11.0, 5020.0),
    stall=StallTotals(9_200_000, 500_000),
    cgroup_stall=StallTotals(600_000, 0),
)
PROBES = (ProbeTiming(33.5, 0.025, 0.05), ProbeTiming(33.5, 0.0335, 0.0335))


def window(**kwargs: object) -> RepeatConditions:
    args: dict[str, object] = {
        "benchmark_cpu_s": 8.0,
        "benchmark_wall_s": 9.5,
        "probes": PROBES,
        "load_avg_1m": 3.5,
        "threads_max": 4,
        "cpus": 2,
    }
    args.update(kwargs)
    return conditions.from_window(BEFORE, AFTER, **args)  # type: ignore[arg-type]


def test_every_figure_over_the_window() -> None:
    c = window()
    assert c.window_s == 10.0
    assert c.cpu_pressure_some_pct == pytest.approx(92.0)
    assert c.cpu_pressure_full_pct == pytest.approx(5.0)
    assert c.cgroup_cpu_pressure_some_pct == pytest.approx(6.0)
    assert c.steal_pct == pytest.approx(5.0)
    assert c.others_busy_pct == pytest.approx(50.0)
    assert c.cpu_per_wall == pytest.approx(8.0 / 9.5)
    assert c.load_avg_1m == 3.5
    assert c.speed_before == pytest.approx(1340.0) and c.speed_after == pytest.approx(1000.0)
    assert c.speed_index == pytest.approx(1170.0)
    assert c.probe_cpu_share == pytest.approx(0.0585 / 0.0835)
    assert (c.threads_max, c.cpus) == (4, 2)


def test_four_threads_under_92_percent_pressure_are_suspected_of_spin_waiting() -> None:
    assert window().spin_wait_suspected
    assert not window(threads_pinned=True).spin_wait_suspected
    assert not window(threads_max=1).spin_wait_suspected


def test_a_quiet_machine_raises_no_spin_suspicion() -> None:
    quiet = Snapshot(110.0, AFTER.cpu, StallTotals(int(1e6), 0), None)
    c = conditions.from_window(
        BEFORE, quiet, benchmark_cpu_s=8.0, benchmark_wall_s=9.5, probes=PROBES, load_avg_1m=None, threads_max=8, cpus=2
    )
    assert c.cpu_pressure_some_pct == pytest.approx(10.0) and not c.spin_wait_suspected
    assert c.cgroup_cpu_pressure_some_pct is None  # not readable at the end


def test_unreadable_counters_leave_their_figures_none() -> None:
    blind = Snapshot(100.0, None, None, None)
    c = conditions.from_window(
        blind,
        Snapshot(101.0, None, None, None),
        benchmark_cpu_s=None,
        benchmark_wall_s=1.0,
        probes=(),
        load_avg_1m=None,
        threads_max=None,
        cpus=None,
    )
    assert c.window_s == 1.0
    figures = {
        k: v for k, v in c.to_dict().items() if k not in ("window_s", "threads_pinned", "spin_wait_suspected", "gpus")
    }
    assert set(figures.values()) == {None} and c.to_dict()["gpus"] == []


def test_a_counter_that_went_backwards_gives_none_not_a_negative_share() -> None:
    assert conditions.stall_pct(StallTotals(500, None), StallTotals(100, None), 1.0) is None
    assert conditions.stall_pct(StallTotals(0, None), StallTotals(5_000_000, None), 1.0) == 100.0  # capped


def test_pinning_a_pool_to_one_thread_is_read_from_the_env() -> None:
    assert conditions.pinned({"OPENBLAS_NUM_THREADS": "1"})
    assert conditions.pinned({"OMP_NUM_THREADS": " 1 "})
    assert not conditions.pinned({"OMP_NUM_THREADS": "2"})
    assert not conditions.pinned({})


def test_medians_over_the_repeats_that_read_each_figure() -> None:
    a, b = window(load_avg_1m=1.0), window(load_avg_1m=None)
    c = window(load_avg_1m=5.0, threads_max=6)
    medians = conditions.medians([a, b, c])
    assert medians["load_avg_1m"] == 3.0
    assert medians["threads_max"] == 4.0
    assert medians["cpu_pressure_some_pct"] == pytest.approx(92.0)
    assert "cpus" not in medians and "window_s" not in medians


def test_the_spin_note_names_the_repeats_and_the_fix() -> None:
    note = conditions.spin_note([window(), window(threads_max=1), window()])
    assert note is not None
    assert note.startswith("Repeat(s) 1, 3: 4 threads ran while other tasks waited for a CPU up to 92% of the time")
    assert 'OMP_NUM_THREADS: "1", OPENBLAS_NUM_THREADS: "1"' in note
    assert conditions.spin_note([window(threads_pinned=True)]) is None


def gpu_repeat(reasons: list[frozenset[str]], pids: list[frozenset[int]] | None = None) -> tuple[GpuConditions, ...]:
    samples = [
        GpuSample(
            "GPU-a", 1980.0 - 300 * bool(r), 2619.0, r, 60.0 + i, 700.0, (pids or [frozenset()] * len(reasons))[i]
        )
        for i, r in enumerate(reasons)
    ]
    return conditions.gpu_conditions(samples, frozenset({1, 2}))


CAPPED = frozenset({"power-capped"})
NONE: frozenset[str] = frozenset()


def test_clock_event_names_from_nvmls_bitmask() -> None:
    assert conditions.clock_event_names(0x4 | 0x40) == {"power-capped", "hardware thermal slowdown"}
    assert conditions.clock_event_names(0) == frozenset()
    assert conditions.clock_event_names(0x4000) == {"reason 0x4000"}


def test_a_gpus_conditions_over_a_repeat() -> None:
    (gpu,) = gpu_repeat([NONE, CAPPED, CAPPED, NONE, NONE], [frozenset({1}), frozenset({1, 9})] + [frozenset()] * 3)
    assert (gpu.samples, gpu.sm_clock_mhz_min, gpu.sm_clock_mhz_median) == (5, 1680.0, 1980.0)
    assert (gpu.temperature_c_max, gpu.power_limit_w) == (64.0, 700.0)
    assert gpu.reason_shares == {"power-capped": 0.4}
    assert gpu.tenants == (9,)  # 1 is the benchmark's


def test_a_repeat_throttled_unlike_the_others_is_named_with_its_share() -> None:
    quiet = gpu_repeat([NONE] * 10)
    capped = gpu_repeat([CAPPED] * 4 + [NONE] * 6)
    found = conditions.disturbances([quiet, quiet, capped, quiet, quiet])
    assert found == (None, None, "power-capped 40% of the time", None, None)


def test_a_board_power_capped_throughout_every_repeat_is_its_steady_state() -> None:
    capped = gpu_repeat([CAPPED] * 10)
    assert conditions.disturbances([capped] * 5) == (None,) * 5


def test_a_tenant_disturbs_its_repeat() -> None:
    quiet = gpu_repeat([NONE] * 3)
    tenant = gpu_repeat([NONE] * 3, [frozenset(), frozenset({4242}), frozenset({4242})])
    assert conditions.disturbances([quiet, tenant]) == (None, "another process (pid 4242) on GPU-a")


def test_disturbance_notes_name_the_repeat() -> None:
    quiet = replace(window(), gpus=gpu_repeat([NONE] * 10))
    capped = replace(window(), gpus=gpu_repeat([CAPPED] * 41 + [NONE] * 59))
    notes = conditions.disturbance_notes([quiet, quiet, capped, quiet])
    assert notes == ("repeat 3: power-capped 41% of the time",)
    assert conditions.disturbance_notes([window()]) == ()
    assert capped.to_dict()["gpus"] == [asdict(g) for g in capped.gpus]
