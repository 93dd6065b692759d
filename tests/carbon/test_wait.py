"""The carbon-aware wait's policy (pure) and the `wait` command against a local Electricity Maps API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gate.carbon.model import ForecastPoint
from gate.carbon.wait import parse_duration_s, plan, span, step
from gate.commands.wait import WaitOptions, run
from tests.fakes.em_server import TOKEN, FakeElectricityMaps, forecast_body, latest_body

T0 = datetime(2026, 11, 23, 11, 10, tzinfo=UTC)  # 10 minutes into an hour
HOUR0 = T0.replace(minute=0)


def points(values: list[float]) -> list[ForecastPoint]:
    return [ForecastPoint(HOUR0 + timedelta(hours=i), v) for i, v in enumerate(values)]


# --- policy ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"), [("90", 90), ("90s", 90), ("15m", 900), ("2h", 7200), ("1h30m", 5400), ("0.5h", 1800)]
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration_s(text) == seconds


@pytest.mark.parametrize("text", ["", "2x", "h", "-5m"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration_s(text)


def test_plan_targets_the_first_forecast_hour_under_the_threshold() -> None:
    the_plan = plan(T0, 4 * 3600, 200.0, points([300, 250, 190, 120, 100]))
    assert (the_plan.target, the_plan.target_g_per_kwh, the_plan.target_kind) == (
        HOUR0 + timedelta(hours=2),
        190.0,
        "under_threshold",
    )
    assert the_plan.deadline == T0 + timedelta(hours=4)


def test_plan_targets_the_cleanest_hour_within_the_wait_only() -> None:
    # the 50 at +5 h lies past the 3 h deadline; within it the cleanest is 220 at +2 h
    the_plan = plan(T0, 3 * 3600, 200.0, points([300, 250, 220, 240, 260, 50]))
    assert (the_plan.target, the_plan.target_g_per_kwh, the_plan.target_kind) == (
        HOUR0 + timedelta(hours=2),
        220.0,
        "cleanest",
    )


def test_plan_when_the_current_hour_is_best_targets_now() -> None:
    the_plan = plan(T0, 3 * 3600, None, points([100, 250, 220]))
    assert the_plan.target == T0


def test_plan_without_forecast_has_no_target() -> None:
    assert plan(T0, 3600, 200.0, []).target is None
    assert plan(T0, 3600, 200.0, points([100])[:0]).target is None


def test_step_order_threshold_then_window_then_deadline() -> None:
    the_plan = plan(T0, 3600, 200.0, [])
    assert step(T0, the_plan, 150.0, 300).reason == "below_threshold"
    waiting = step(T0, the_plan, 250.0, 300)
    assert (waiting.proceed, waiting.sleep_s) == (False, 300.0)
    # never sleeps past the deadline
    assert step(T0 + timedelta(seconds=3500), the_plan, 250.0, 300).sleep_s == 100.0
    done = step(T0 + timedelta(hours=1), the_plan, 250.0, 300)
    assert (done.proceed, done.reason, done.message) == (True, "max_wait", "the maximum wait (1h) is used up")
    windowed = plan(T0, 3 * 3600, 200.0, points([300, 150]))
    assert step(T0, windowed, 260.0, 3600).sleep_s == pytest.approx(50 * 60)  # wakes at the window, 11:10 -> 12:00
    arrived = step(HOUR0 + timedelta(hours=1), windowed, 260.0, 300)
    assert arrived.reason == "forecast_window"
    assert arrived.message == "the first forecast hour under the threshold has arrived (forecast 150 gCO2eq/kWh)"


def test_span_is_readable() -> None:
    assert [span(timedelta(seconds=s)) for s in (0, 59, 3600, 5430)] == ["0s", "59s", "1h", "1h30m30s"]


# --- the command, with a fake clock and sleep against a local API ---------------------------------


class FakeTime:
    def __init__(self, start: datetime) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert 0 < seconds <= 24 * 3600
        self.sleeps.append(seconds)
        self.now += timedelta(seconds=seconds)


def wait(
    api: FakeElectricityMaps, tmp_path: Path, opts: WaitOptions, token: str = TOKEN
) -> tuple[int, FakeTime, list[str], dict[str, str]]:
    fake = FakeTime(T0)
    lines: list[str] = []
    outputs = tmp_path / "outputs.txt"
    env = {"ELECTRICITYMAPS_API_TOKEN": token, "GREEN_GATE_ELECTRICITYMAPS_URL": api.url, "GITHUB_OUTPUT": str(outputs)}
    code = run(opts, env=env, cwd=tmp_path, clock=fake.clock, sleep=fake.sleep, log=lines.append)
    written = dict(line.split("=", 1) for line in outputs.read_text().splitlines()) if outputs.exists() else {}
    return code, fake, lines, written


def test_proceeds_at_once_when_the_grid_is_already_clean(em_api: FakeElectricityMaps, tmp_path: Path) -> None:
    em_api.latest["FR"] = [latest_body("FR", 45, HOUR0)]
    code, fake, lines, outputs = wait(em_api, tmp_path, WaitOptions(3600, 100.0, "FR", use_forecast=False))
    assert (code, fake.sleeps) == (0, [])
    assert outputs == {
        "zone": "FR",
        "reason": "below_threshold",
        "waited_s": "0",
        "intensity_g_per_kwh": "45",
        "intensity_datetime": "2026-11-23T11:00:00.000Z",
    }
    assert lines[-1] == "wait: proceeding: 45 gCO2eq/kWh is under the threshold of 100 (waited 0s)"


def test_polls_until_the_intensity_drops_under_the_threshold(em_api: FakeElectricityMaps, tmp_path: Path) -> None:
    em_api.latest["DE"] = [latest_body("DE", v, HOUR0) for v in (320, 260, 190)]
    em_api.forecast["DE"] = forecast_body("DE", HOUR0, [320, 300, 280, 260])  # never under 200 in the forecast
    code, fake, lines, outputs = wait(em_api, tmp_path, WaitOptions(3 * 3600, 200.0, "DE", poll_s=600))
    assert code == 0
    assert fake.sleeps == [600.0, 600.0]
    assert (outputs["reason"], outputs["waited_s"], outputs["intensity_g_per_kwh"]) == (
        "below_threshold",
        "1200",
        "190",
    )
    assert outputs["forecast_g_per_kwh"] == "260"  # the plan: the cleanest forecast hour, 14:00
    assert lines[0] == (
        "wait: zone DE: proceed at intensity < 200 gCO2eq/kWh, waiting at most 3h (until 2026-11-23T14:10Z), "
        "checking every 10m"
    )
    assert "wait: 11:10:00Z DE: 320 gCO2eq/kWh (for 2026-11-23T11:00:00.000Z, estimated)" in lines
    assert [p for p, _, _ in em_api.requests].count("/v3/carbon-intensity/forecast") == 1
    assert em_api.requests[0][1] == {"zone": "DE", "horizonHours": "6"}


def test_waits_for_the_forecasts_cleanest_hour(em_api: FakeElectricityMaps, tmp_path: Path) -> None:
    em_api.latest["PL"] = [latest_body("PL", 700, HOUR0)]
    em_api.forecast["PL"] = forecast_body("PL", HOUR0, [700, 650, 520, 480, 600, 300])
    code, fake, lines, outputs = wait(em_api, tmp_path, WaitOptions(4 * 3600, None, "PL", poll_s=3600))
    assert code == 0
    # 11:10 -> 12:10 -> 13:10 -> 14:00 (the window): sleeps are capped by the poll and end on the window
    assert fake.sleeps == [3600.0, 3600.0, 50 * 60.0]
    assert fake.now == HOUR0 + timedelta(hours=3)
    assert (outputs["reason"], outputs["forecast_at"], outputs["forecast_g_per_kwh"]) == (
        "forecast_window",
        "2026-11-23T14:00:00Z",
        "480",
    )
    assert "wait: forecast: the cleanest hour within the wait starts 2026-11-23T14:00Z at 480 gCO2eq/kWh" in lines


def test_max_wait_bounds_the_wait(em_api: FakeElectricityMaps, tmp_path: Path) -> None:
    em_api.latest["PL"] = [latest_body("PL", 700, HOUR0)]
    code, fake, lines, outputs = wait(em_api, tmp_path, WaitOptions(1500, 100.0, "PL", poll_s=600, use_forecast=False))
    assert code == 0
    assert fake.sleeps == [600.0, 600.0, 300.0]
    assert (outputs["reason"], outputs["waited_s"]) == ("max_wait", "1500")
    assert lines[-1] == "wait: proceeding: the maximum wait (25m) is used up (waited 25m)"


def test_refused_token_proceeds_with_a_warning_or_fails_when_asked(em_api: FakeElectricityMaps, tmp_path: Path) -> None:
    em_api.latest["DE"] = [latest_body("DE", 300, HOUR0)]
    em_api.forecast["DE"] = forecast_body("DE", HOUR0, [300, 100])
    code, fake, lines, outputs = wait(em_api, tmp_path, WaitOptions(3600, 200.0, "DE"), token="revoked")
    assert (code, fake.sleeps, outputs["reason"]) == (0, [], "unavailable")
    assert lines[-1] == (
        "wait: warning: proceeding without waiting: cannot read the grid's carbon intensity "
        "(Electricity Maps: the token was refused (HTTP 401: Invalid authentication token))"
    )
    strict = WaitOptions(3600, 200.0, "DE", on_unavailable="fail")
    code, _, lines, _ = wait(em_api, tmp_path / "strict", strict, token="revoked")
    assert code == 4
    assert lines[-1].startswith("error: cannot read the grid's carbon intensity: Electricity Maps: the token was")


def test_missing_forecast_falls_back_to_the_threshold(em_api: FakeElectricityMaps, tmp_path: Path) -> None:
    em_api.latest["DE"] = [latest_body("DE", 250, HOUR0), latest_body("DE", 150, HOUR0)]
    code, fake, lines, outputs = wait(em_api, tmp_path, WaitOptions(3600, 200.0, "DE", poll_s=300))
    assert (code, fake.sleeps, outputs["reason"]) == (0, [300.0], "below_threshold")
    assert (
        'wait: warning: no forecast (HTTP 404: No recent data for zone "DE"); waiting on the live value only' in lines
    )


def test_zone_comes_from_the_budget_file(em_api: FakeElectricityMaps, tmp_path: Path) -> None:
    (tmp_path / "green-budget.yml").write_text(
        "version: 1\nbenchmarks: [{name: b, command: x}]\n"
        "carbon:\n  sources:\n    - {provider: electricitymaps, zone: SE-SE3, token_env: MY_EM}\n"
        "    - {provider: codecarbon, country: SWE}\n"
    )
    em_api.latest["SE-SE3"] = [latest_body("SE-SE3", 20, HOUR0)]
    fake = FakeTime(T0)
    env = {"MY_EM": TOKEN, "GREEN_GATE_ELECTRICITYMAPS_URL": em_api.url}
    lines: list[str] = []
    opts = WaitOptions(3600, 50.0, use_forecast=False)
    assert run(opts, env=env, cwd=tmp_path, clock=fake.clock, sleep=fake.sleep, log=lines.append) == 0
    assert lines[-1].startswith("wait: proceeding: 20 gCO2eq/kWh is under the threshold of 50")


def test_without_a_zone_it_is_a_usage_error(tmp_path: Path) -> None:
    lines: list[str] = []
    assert run(WaitOptions(60, 100.0), env={}, cwd=tmp_path, log=lines.append) == 2
    assert lines[0].startswith("error: no zone to watch: pass --zone")
    (tmp_path / "green-budget.yml").write_text(
        "version: 1\nbenchmarks: [{name: b, command: x}]\ncarbon: {country: FRA}\n"
    )
    assert run(WaitOptions(60, 100.0), env={}, cwd=tmp_path, log=lines.append) == 2
    assert lines[-1].startswith(f"error: {tmp_path / 'green-budget.yml'}:3: no zone to watch: the budget file has no")


def test_nothing_to_wait_for_is_a_usage_error(tmp_path: Path) -> None:
    lines: list[str] = []
    code = run(WaitOptions(60, None, "DE", use_forecast=False), env={}, cwd=tmp_path, log=lines.append)
    assert code == 2 and "nothing to wait for" in lines[0]
