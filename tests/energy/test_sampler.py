"""The sampler on a fake reader: what it records, how it treats errors, and that it runs as a thread."""

from __future__ import annotations

import time

import pytest

from gate.devices.gpu import GpuInfo, GpuLostError, GpuPermissionError, GpuReadError
from gate.devices.nvml import NvmlReader
from gate.energy.sampler import MAX_CONSECUTIVE_FAILURES, Sampler, SamplerConfig
from gate.energy.timeline import METHOD_COMBINED, METHOD_POWER, window_energy
from tests.fakes.nvml import Board, FakeDriver, SimClock, h100, steps
from tests.fakes.traces import PowerProfile, Trace, TraceReader


def drive(sampler: Sampler, reader: TraceReader, duration_s: float, power_hz: float) -> None:
    end = reader.now_s + duration_s
    while reader.now_s < end:
        sampler.step()
        reader.now_s += 1 / power_hz


def test_records_counter_at_its_rate_and_power_at_its_rate() -> None:
    reader = TraceReader((Trace(PowerProfile.steady(250.0)), Trace(PowerProfile.steady(500.0))))
    sampler = Sampler(reader, SamplerConfig(power_hz=100, counter_hz=10), clock=reader.clock)
    drive(sampler, reader, 20.0, 100)
    first, second = sampler.timelines()
    assert len(first.power_t_s) == pytest.approx(2000, abs=2)
    assert len(first.counter_t_s) == pytest.approx(200, abs=2)
    assert window_energy(first, 5.03, 6.03).energy_j == pytest.approx(250.0, rel=3e-3)
    assert window_energy(second, 5.03, 6.03).energy_j == pytest.approx(500.0, rel=3e-3)
    assert sampler.power_now_w() == pytest.approx(750.0)
    assert sampler.energy_so_far_j() == pytest.approx(750.0 * 20.0, rel=2e-3)


def test_counter_latency_is_timestamped_at_the_middle_of_the_read() -> None:
    reader = TraceReader((Trace(PowerProfile.steady(300.0)),), counter_read_cost_s=0.004)
    sampler = Sampler(reader, SamplerConfig(power_hz=100, counter_hz=10), clock=reader.clock)
    sampler.step()
    timeline = sampler.timelines()[0]
    assert timeline.counter_t_s[0] == pytest.approx(0.002)
    assert timeline.power_t_s[0] == pytest.approx(0.004)


def test_gpu_without_counter_is_integrated_from_power() -> None:
    reader = TraceReader((Trace(PowerProfile.steady(300.0)),), has_counter=False)
    sampler = Sampler(reader, clock=reader.clock)
    drive(sampler, reader, 3.0, 100)
    assert sampler.notes == ["GPU 0 (Fake GPU 0) has no energy counter: its power samples are integrated"]
    assert reader.reads["energy"] == 0  # asked once, then never again
    result = window_energy(sampler.timelines()[0], 1.0, 2.0)
    assert result.method == METHOD_POWER and result.energy_j == pytest.approx(300.0)


class FailingReader(TraceReader):
    error: Exception = GpuLostError("gone")

    def power_w(self, position: int) -> float:
        raise self.error


def test_a_lost_gpu_stops_the_sampler_with_the_reason() -> None:
    reader = FailingReader((Trace(PowerProfile.steady(300.0)),))
    sampler = Sampler(reader, clock=reader.clock)
    sampler.start()
    deadline = time.monotonic() + 5
    while sampler.running and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not sampler.running
    assert sampler.errors == ["GPU 0 (Fake GPU 0): reading power failed: gone"]


def test_a_refused_reading_is_dropped_for_that_gpu_and_the_counter_goes_on() -> None:
    reader = FailingReader((Trace(PowerProfile.steady(300.0)),))
    reader.error = GpuPermissionError("denied")
    sampler = Sampler(reader, clock=reader.clock)
    drive(sampler, reader, 3.0, 100)
    assert sampler.errors == ["GPU 0 (Fake GPU 0): reading power failed: denied"]
    timeline = sampler.timelines()[0]
    assert len(timeline.power_t_s) == 0 and len(timeline.counter_t_s) > 20


def test_hooks_run_at_their_period_and_a_failing_hook_is_dropped() -> None:
    reader = TraceReader((Trace(PowerProfile.steady(300.0)),))
    seen: list[float] = []

    def broken(now: float) -> None:
        raise RuntimeError("boom")

    sampler = Sampler(reader, SamplerConfig(hook_period_s=0.5), clock=reader.clock, hooks=(seen.append, broken))
    drive(sampler, reader, 2.0, 100)
    assert len(seen) == 4
    assert len(sampler.errors) == 1 and "boom" in sampler.errors[0]


def test_real_thread_records_and_stops() -> None:
    reader = TraceReader((Trace(PowerProfile.steady(100.0)),))
    sampler = Sampler(reader, SamplerConfig(power_hz=200, counter_hz=10), clock=time.monotonic)
    sampler.start()
    time.sleep(0.5)
    sampler.stop()
    timeline = sampler.timelines()[0]
    assert len(timeline.power_t_s) >= 20  # a loaded 2-core CI box still gets well past this
    assert not sampler.running and sampler.wall_s > 0.4
    assert 0 <= sampler.cpu_fraction < 1


def test_config_is_checked() -> None:
    with pytest.raises(ValueError):
        SamplerConfig(power_hz=5, counter_hz=10)


def test_combined_method_is_what_the_sampler_feeds() -> None:
    reader = TraceReader((Trace(PowerProfile.steady(420.0), power_gain=1.02),))
    sampler = Sampler(reader, clock=reader.clock)
    drive(sampler, reader, 30.0, 100)
    result = window_energy(sampler.timelines()[0], 10.0, 11.0)
    assert result.method == METHOD_COMBINED
    assert result.energy_j == pytest.approx(420.0, rel=3e-3)


def test_devices_come_from_the_reader() -> None:
    reader = TraceReader((Trace(PowerProfile.steady(1.0)),))
    assert Sampler(reader).devices == (
        GpuInfo("Fake GPU 0", "GPU-fake-0", "0.0", index=0, power_limit_w=700.0, mig_mode=False),
    )


class FlakyReader(TraceReader):
    """Power reads fail with a plain (transient) GpuReadError on the reads numbered in `failing`."""

    failing: frozenset[int] = frozenset()

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.power_calls = 0

    def power_w(self, position: int) -> float:
        self.power_calls += 1
        if self.power_calls in self.failing:
            raise GpuReadError("NVML could not read power: Timeout")
        return super().power_w(position)


def test_a_transient_error_is_retried_and_the_reading_goes_on() -> None:
    reader = FlakyReader((Trace(PowerProfile.steady(300.0)),))
    reader.failing = frozenset({50})
    sampler = Sampler(reader, clock=reader.clock)
    drive(sampler, reader, 3.0, 100)
    assert sampler.errors == []
    assert sampler.notes == ["GPU 0 (Fake GPU 0): reading power failed, retried: NVML could not read power: Timeout"]
    timeline = sampler.timelines()[0]
    assert len(timeline.power_t_s) == pytest.approx(299, abs=2)  # only the failed read is missing


def test_a_reading_failing_again_and_again_is_dropped_with_an_error() -> None:
    reader = FlakyReader((Trace(PowerProfile.steady(300.0)),))
    reader.failing = frozenset(range(10, 10 + MAX_CONSECUTIVE_FAILURES))
    sampler = Sampler(reader, clock=reader.clock)
    drive(sampler, reader, 3.0, 100)
    assert len(sampler.errors) == 1
    assert f"failed {MAX_CONSECUTIVE_FAILURES} times in a row" in sampler.errors[0]
    assert len(sampler.timelines()[0].power_t_s) == 9


class MismatchReader(TraceReader):
    def power_w(self, position: int) -> float:
        raise AttributeError("module 'pynvml' has no attribute 'nvmlDeviceGetFieldValues'")


def test_an_unexpected_exception_in_the_thread_is_recorded_not_lost() -> None:
    reader = MismatchReader((Trace(PowerProfile.steady(300.0)),))
    sampler = Sampler(reader, clock=reader.clock)
    sampler.start()
    deadline = time.monotonic() + 5
    while sampler.running and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not sampler.running
    assert sampler.errors == [
        "the GPU sampler thread failed: AttributeError: module 'pynvml' has no attribute 'nvmlDeviceGetFieldValues'"
    ]


def test_counter_reads_of_many_gpus_are_staggered_so_power_sampling_keeps_its_rate() -> None:
    """8 GPUs on the stand-in driver, each counter read costing 4 ms, timed as the sampler thread does."""
    clock = SimClock(100.0)
    boards = [Board(steps((0.0, 300.0)), clock, advance=clock.advance) for _ in range(8)]
    driver = FakeDriver([h100(f"GPU-{i}", board=b) for i, b in enumerate(boards)], driver="580.65.06")
    sampler = Sampler(NvmlReader({}, nvml=driver), SamplerConfig(power_hz=100, counter_hz=10), clock=clock)
    next_at = clock()
    while clock() < 110.0:
        sampler.step()
        next_at += 0.01
        if next_at < clock():
            next_at = clock()
        clock.advance(next_at - clock())
    assert len(sampler.timelines()) == 8
    for timeline in sampler.timelines():
        gaps = [b - a for a, b in zip(timeline.power_t_s, timeline.power_t_s[1:], strict=False)]
        assert max(gaps) < 0.016  # back to back: 10 ms + 8 x 4 ms = 42 ms every 0.1 s
        assert len(timeline.power_t_s) == pytest.approx(1000, rel=0.02)
        assert len(timeline.counter_t_s) == pytest.approx(100, abs=2)


class ReadCpu:
    """A thread CPU clock that the stand-in's reads advance: each read burns its whole cost as CPU."""

    def __init__(self, clock: SimClock) -> None:
        self.clock = clock
        self.used_s = 0.0

    def __call__(self) -> float:
        return self.used_s


def test_with_8_gpus_at_4ms_a_read_the_sampler_slows_down_to_5_percent_of_a_core_and_says_so() -> None:
    clock = SimClock(100.0)
    cpu = ReadCpu(clock)

    def burn(seconds: float) -> None:  # a read that costs its time in CPU, not waiting
        clock.advance(seconds)
        cpu.used_s += seconds

    boards = [Board(steps((0.0, 300.0)), clock, advance=burn, power_read_s=0.004) for _ in range(8)]
    driver = FakeDriver([h100(f"GPU-{i}", board=b) for i, b in enumerate(boards)], driver="580.65.06")
    sampler = Sampler(NvmlReader({}, nvml=driver), SamplerConfig(), clock=clock, cpu_clock=cpu)
    next_at = clock()
    while clock() < 130.0:  # as the thread's loop runs it
        sampler.step()
        next_at += sampler.power_period_s()
        clock.now_s = max(clock.now_s, next_at)
    used, started = cpu.used_s, clock()
    while clock() < 140.0:
        sampler.step()
        next_at += sampler.power_period_s()
        clock.now_s = max(clock.now_s, next_at)
    assert (cpu.used_s - used) / (clock() - started) <= 0.05
    assert sampler.slowdown > 10  # 100 Hz x 8 GPUs x 4 ms would be 320% of a core
    assert any("less often" in note for note in sampler.notes)
    assert sampler.costs["power"].describe() == "4 ms wall / 4 ms CPU"
    ((hz, gap), *_) = sampler.rates(130.0, 140.0)
    assert 0.4 < hz < 10 and gap < 2.1  # still sampled, at least every 2 s


def test_cheap_reads_keep_the_configured_rate_and_the_largest_gap_is_reported() -> None:
    clock = SimClock(100.0)
    board = Board(steps((0.0, 300.0)), clock, advance=clock.advance)
    sampler = Sampler(NvmlReader({}, nvml=FakeDriver([h100("GPU-a", board=board)])), clock=clock, cpu_clock=lambda: 0.0)
    while clock() < 105.0:
        sampler.step()
        clock.advance(0.01)
    ((hz, gap),) = sampler.rates(101.0, 104.0)
    assert sampler.slowdown == 1.0
    assert 85 < hz <= 100 and 0.01 <= gap <= 0.016  # a counter read (4 ms) delays the next power read
