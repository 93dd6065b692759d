"""The timeline maths on synthetic traces whose exact energy is known."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from gate.devices.gpu import NoEnergyDataError
from gate.energy.timeline import (
    METHOD_COMBINED,
    METHOD_COUNTER,
    METHOD_COUNTER_DISAGREE,
    METHOD_POWER,
    PowerIntegral,
    Timeline,
    counter_steps,
    idle_power_w,
    window_energy,
)
from tests.fakes.traces import PowerProfile, Trace

STEADY = Trace(PowerProfile.steady(300.0), tick_phase_s=0.0)


def rel_error(measured: float, exact: float) -> float:
    return abs(measured / exact - 1)


def test_steady_power_with_edges_mid_tick_is_exact_when_reads_sit_mid_tick() -> None:
    # Reads half a tick after each update: placed at t - tick/2, they are exact.
    timeline = STEADY.sampled(30.0, read_phase_s=0.05)
    result = window_energy(timeline, 10.037, 11.063)
    assert result.method == METHOD_COMBINED
    assert result.energy_j == pytest.approx(300.0 * 1.026, rel=1e-4)
    assert result.mean_power_w == pytest.approx(300.0, rel=1e-4)


@pytest.mark.parametrize("read_phase_s", [0.0, 0.013, 0.05, 0.071, 0.099])
@pytest.mark.parametrize("window_s", [0.34, 1.05, 3.02])  # not whole ticks, as real windows never are
def test_beats_naive_counter_reads_whatever_the_tick_phase(read_phase_s: float, window_s: float) -> None:
    trace = Trace(PowerProfile.steady(700.0), tick_phase_s=0.0)
    timeline = trace.sampled(70.0, read_phase_s=read_phase_s)
    t0 = 30.0 + read_phase_s + 0.0271  # mid-tick, between reads
    exact = 700.0 * window_s
    engine = window_energy(timeline, t0, t0 + window_s).energy_j
    naive = (trace.counter_mj(t0 + window_s) - trace.counter_mj(t0)) / 1000
    assert rel_error(engine, exact) < 0.002  # staleness only counts against the 60 s calibration span
    assert rel_error(naive, exact) > 0.005  # off by a partial tick at each edge


def test_counter_corrects_the_power_sensor_gain() -> None:
    trace = Trace(PowerProfile.steady(400.0), power_gain=0.95)
    timeline = trace.sampled(60.0, read_phase_s=0.05)
    combined = window_energy(timeline, 20.0, 21.0)
    assert combined.energy_j == pytest.approx(400.0, rel=1e-3)
    assert combined.calibration == pytest.approx(1 / 0.95, rel=1e-3)
    power_only = window_energy(Timeline(power_t_s=timeline.power_t_s, power_w=timeline.power_w), 20.0, 21.0)
    assert power_only.method == METHOD_POWER
    assert power_only.energy_j == pytest.approx(380.0, rel=1e-3)  # the sensor's 5% error, uncorrected


def test_step_changes_inside_ticks_and_windows() -> None:
    profile = PowerProfile((0.0, 10.033, 12.5171), (150.0, 650.0, 320.0))
    timeline = Trace(profile, tick_phase_s=0.02).sampled(40.0, read_phase_s=0.07)
    for t0, t1 in [(9.5, 10.5), (10.0, 10.3), (12.0, 13.0), (9.0, 19.0)]:
        exact = profile.between(t0, t1)
        # Trapezoid over a step costs at most half a 5 ms sample of the step height per step.
        assert window_energy(timeline, t0, t1).energy_j == pytest.approx(exact, abs=2 * 0.0025 * 500 + 0.002 * exact)


def test_noisy_power_samples_average_out() -> None:
    trace = Trace(PowerProfile.steady(500.0), power_noise_w=25.0, seed=7)
    timeline = trace.sampled(60.0, read_phase_s=0.05)
    assert rel_error(window_energy(timeline, 25.0, 26.0).energy_j, 500.0) < 0.005


def test_counter_wrap_around_gives_the_same_answer() -> None:
    base = Trace(PowerProfile.steady(300.0), counter_offset_mj=0)
    wrapping = Trace(PowerProfile.steady(300.0), counter_offset_mj=2**20 - 3_000_000 % 2**20, wrap_mj=2**20)
    straight = window_energy(base.sampled(30.0, read_phase_s=0.05), 10.0, 12.0)
    wrapped_timeline = wrapping.sampled(30.0, read_phase_s=0.05)
    assert any(b < a for a, b in zip(wrapped_timeline.counter_mj, wrapped_timeline.counter_mj[1:], strict=False))
    assert window_energy(wrapped_timeline, 10.0, 12.0).energy_j == pytest.approx(straight.energy_j, rel=1e-9)


def test_counter_steps_unwrap_and_skip_resets() -> None:
    steps = counter_steps([0.0, 0.1, 0.2, 0.3, 0.4], [900, 1000, 50, 20, 120], wrap_mj=1050)
    # 1000 -> 50 wraps (a drop of 950 > 525): +100 mJ; 50 -> 20 is a reset: left out.
    assert [(s.t_a_s, s.t_b_s) for s in steps] == [(0.0, 0.1), (0.1, 0.2), (0.3, 0.4)]
    assert [s.energy_j for s in steps] == pytest.approx([0.1, 0.1, 0.1])


def test_counter_reset_mid_run_does_not_spoil_the_window() -> None:
    timeline = STEADY.sampled(30.0, read_phase_s=0.05)
    values = list(timeline.counter_mj)
    values[150:] = [v - values[150] + 5 for v in values[150:]]  # driver reload at 15 s
    reset = Timeline(timeline.counter_t_s, values, timeline.power_t_s, timeline.power_w)
    assert window_energy(reset, 14.5, 16.0).energy_j == pytest.approx(450.0, rel=1e-3)
    counter_only = Timeline(timeline.counter_t_s, values)
    assert window_energy(counter_only, 14.0, 16.0).energy_j == pytest.approx(600.0, rel=1e-2)


def test_missing_counter_falls_back_to_power_integration() -> None:
    timeline = STEADY.sampled(5.0)
    power_only = Timeline(power_t_s=timeline.power_t_s, power_w=timeline.power_w)
    result = window_energy(power_only, 1.0, 2.5)
    assert result.method == METHOD_POWER and result.calibration is None
    assert result.energy_j == pytest.approx(450.0, rel=1e-9)


def test_missing_power_falls_back_to_the_counter_between_reads() -> None:
    timeline = STEADY.sampled(10.0, read_phase_s=0.05)
    counter_only = Timeline(timeline.counter_t_s, timeline.counter_mj)
    result = window_energy(counter_only, 2.02, 5.51)
    assert result.method == METHOD_COUNTER
    assert result.energy_j == pytest.approx(300.0 * 3.49, rel=1e-3)


def test_power_that_disagrees_wildly_with_the_counter_is_not_trusted() -> None:
    timeline = Trace(PowerProfile.steady(300.0), power_gain=0.1).sampled(20.0, read_phase_s=0.05)
    result = window_energy(timeline, 5.0, 6.0)
    assert result.method == METHOD_COUNTER_DISAGREE  # there are power samples: they are refused
    assert result.energy_j == pytest.approx(300.0, rel=1e-3)


def test_nothing_readable_is_a_typed_error_not_zero() -> None:
    with pytest.raises(NoEnergyDataError) as caught:
        window_energy(Timeline(), 0.0, 1.0, what="GPU 0 (NVIDIA H100)")
    assert "GPU 0 (NVIDIA H100)" in caught.value.message
    assert "0 counter reads, 0 power samples" in caught.value.message
    assert caught.value.hint


def test_window_outside_the_timeline_is_an_error() -> None:
    timeline = STEADY.sampled(5.0, read_phase_s=0.05)
    with pytest.raises(NoEnergyDataError):
        window_energy(timeline, 10.0, 11.0)
    with pytest.raises(ValueError, match="bad window"):
        window_energy(timeline, 2.0, 1.0)


def test_power_integral_interpolates_inside_samples_and_holds_past_the_ends() -> None:
    integral = PowerIntegral([0.0, 1.0, 2.0], [100.0, 200.0, 200.0])
    assert integral.between(0.0, 1.0) == pytest.approx(150.0)
    assert integral.between(0.5, 1.0) == pytest.approx(0.5 * (150.0 + 200.0) / 2)
    assert integral.between(2.0, 2.1) == pytest.approx(20.0)
    assert integral.covers(-0.2, 2.2) and not integral.covers(-1.0, 1.0)


def test_idle_power_is_the_mean_over_the_idle_stretch() -> None:
    profile = PowerProfile((0.0, 3.0), (75.0, 400.0))
    timeline = Trace(profile).sampled(10.0, read_phase_s=0.05)
    assert idle_power_w(timeline, 0.5, 2.5) == pytest.approx(75.0, rel=2e-3)


def test_mismatched_series_are_rejected() -> None:
    with pytest.raises(ValueError, match="different lengths"):
        Timeline(counter_t_s=[0.0], counter_mj=[])


def test_around_keeps_the_answer_and_drops_the_rest() -> None:
    timeline = Trace(PowerProfile((0.0, 50.0), (200.0, 600.0))).sampled(300.0, read_phase_s=0.05)
    part = timeline.around(100.0, 101.0)
    assert len(part.power_t_s) < len(timeline.power_t_s) / 2
    assert window_energy(part, 100.0, 101.0).energy_j == pytest.approx(
        window_energy(timeline, 100.0, 101.0).energy_j, rel=1e-12
    )


def test_an_index_answers_many_windows_as_window_energy_does_and_fast() -> None:
    """1000 per-batch phases over a 10 min recording: one index per GPU, not the timeline's maths per window."""
    from gate.energy.timeline import TimelineIndex

    trace = Trace(PowerProfile((0.0, 100.0, 300.0), (120.0, 650.0, 200.0)), tick_phase_s=0.037, power_noise_w=3.0)
    timeline = trace.sampled(600.0, power_hz=100.0)
    windows = [(100.0 + i * 0.4, 100.0 + i * 0.4 + 0.2) for i in range(1000)]
    started = time.perf_counter()
    index = TimelineIndex(timeline.around(windows[0][0], windows[-1][1]))
    indexed = [index.window(a, b) for a, b in windows]
    elapsed_s = time.perf_counter() - started
    fitted = replace(timeline, staleness_s=index.staleness_s)  # the staleness fitted over the whole span
    for (a, b), result in zip(windows[::50], indexed[::50], strict=True):
        alone = window_energy(fitted.around(a, b), a, b)
        assert result.method == alone.method
        assert result.energy_j == pytest.approx(alone.energy_j, rel=1e-9)
    assert elapsed_s < 1.0  # ~0.03 s; built per window, ~3 ms each: 3 s
