"""Cool-down and start-temperature check, with a fake clock and thermometer (the policy is pure)."""

from __future__ import annotations

from gate.bench.thermal import ThermalControl


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_cooldown_sleeps_before_each_measured_run() -> None:
    clock = Clock()
    control = ThermalControl(cooldown_s=15, sleep=clock.sleep, clock=lambda: clock.now)
    control.before_measured_run("repeat 1/3")
    control.before_measured_run("repeat 2/3")
    assert clock.sleeps == [15, 15] and control.notes == []


def test_no_gpu_makes_the_temperature_check_a_reported_no_op() -> None:
    clock = Clock()
    control = ThermalControl(max_start_temperature_c=60, sleep=clock.sleep, clock=lambda: clock.now)
    control.before_measured_run("repeat 1/3")
    control.before_measured_run("repeat 2/3")
    assert clock.sleeps == []
    assert control.notes == [
        "max_start_temperature_c: 60 °C set, but no GPU temperature is readable here: the start-temperature check "
        "did nothing."
    ]


def test_waits_until_cool_and_says_how_long() -> None:
    clock = Clock()
    readings = iter([(70.0, 58.0), (65.0, 58.0), (59.0, 58.0)])
    control = ThermalControl(
        max_start_temperature_c=60,
        read_temperatures_c=lambda: next(readings),
        sleep=clock.sleep,
        clock=lambda: clock.now,
    )
    control.before_measured_run("repeat 1/3")
    assert clock.sleeps == [2.0, 2.0]
    assert control.notes == ["repeat 1/3 waited 4 s for the GPUs to cool to 60 °C."]


def test_gives_up_after_the_wait_limit_and_says_so() -> None:
    clock = Clock()
    control = ThermalControl(
        max_start_temperature_c=60,
        read_temperatures_c=lambda: (75.0,),
        sleep=clock.sleep,
        clock=lambda: clock.now,
        wait_limit_s=10,
    )
    control.before_measured_run("repeat 2/5")
    assert len(clock.sleeps) == 5
    assert control.notes == [
        "repeat 2/5 started at 75 °C, above max_start_temperature_c 60 °C, after waiting 10 s (the limit on waiting)."
    ]
