"""The Electricity Maps client against a real local HTTP server speaking the API's documented shapes."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gate.carbon.electricitymaps import ApiError, Client, horizon_for
from tests.fakes.em_server import TOKEN, FakeElectricityMaps, forecast_body, latest_body

AT = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)


def client(api: FakeElectricityMaps, token: str = TOKEN, **kwargs: object) -> Client:
    return Client(token, base_url=api.url, **kwargs)  # type: ignore[arg-type]


def test_latest_reads_value_time_and_estimation_with_the_token_in_a_header(em_api: FakeElectricityMaps) -> None:
    em_api.latest["DE"] = [latest_body("DE", 302, AT)]
    reading = client(em_api).latest("DE")
    assert (reading.zone, reading.g_per_kwh, reading.datetime) == ("DE", 302.0, "2026-11-23T11:00:00.000Z")
    assert reading.is_estimated is True and reading.emission_factor_type == "lifecycle"
    assert reading.cache_age_s is None
    ((path, query, token),) = em_api.requests
    assert (path, query, token) == ("/v3/carbon-intensity/latest", {"zone": "DE"}, TOKEN)


def test_forecast_points_are_sorted_times(em_api: FakeElectricityMaps) -> None:
    body = forecast_body("FR", AT, [60, 40, 55])
    body["forecast"].reverse()
    em_api.forecast["FR"] = body
    forecast = client(em_api).forecast("FR", horizon_hours=6)
    assert [p.g_per_kwh for p in forecast.points] == [60.0, 40.0, 55.0]
    assert forecast.points[0].at == AT
    assert em_api.requests[0][1] == {"zone": "FR", "horizonHours": "6"}


def test_refused_token_is_a_clear_error_without_the_token(em_api: FakeElectricityMaps) -> None:
    em_api.latest["DE"] = [latest_body("DE", 302, AT)]
    with pytest.raises(ApiError) as info:
        client(em_api, token="wrong-secret").latest("DE")
    assert info.value.status == 401
    assert info.value.message == "the token was refused (HTTP 401: Invalid authentication token)"
    assert "wrong-secret" not in str(info.value)


def test_zone_without_data_says_so(em_api: FakeElectricityMaps) -> None:
    with pytest.raises(ApiError) as info:
        client(em_api).latest("XX")
    assert info.value.status == 404
    assert info.value.message == 'HTTP 404: No recent data for zone "XX"'


def test_server_error_with_a_non_json_body(em_api: FakeElectricityMaps) -> None:
    em_api.status_override = (502, "<html>Bad gateway</html>")
    with pytest.raises(ApiError, match=r"^HTTP 502: <html>Bad gateway</html>$"):
        client(em_api).latest("DE")


def test_answer_without_carbon_intensity_is_refused(em_api: FakeElectricityMaps) -> None:
    em_api.latest["DE"] = [{"zone": "DE", "carbonIntensity": None, "datetime": "2026-11-23T11:00:00.000Z"}]
    with pytest.raises(ApiError, match="no usable carbonIntensity"):
        client(em_api).latest("DE")
    em_api.forecast["DE"] = {"zone": "DE", "forecast": [{"carbonIntensity": "x", "datetime": "later"}]}
    with pytest.raises(ApiError, match="no usable points"):
        client(em_api).forecast("DE")


def test_timeout_is_bounded_and_named(em_api: FakeElectricityMaps) -> None:
    em_api.latest["DE"] = [latest_body("DE", 302, AT)]
    em_api.delay_s = 1.0
    with pytest.raises(ApiError, match=r"^no answer from http://127\.0\.0\.1:\d+/v3 within 0\.2 s$"):
        client(em_api, timeout_s=0.2).latest("DE")


def test_nothing_listening_is_an_api_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ApiError, match="cannot reach"):
        Client(TOKEN, base_url=f"http://127.0.0.1:{port}/v3", timeout_s=1).latest("DE")


def test_disk_cache_serves_within_its_ttl_and_refetches_after(em_api: FakeElectricityMaps, tmp_path: Path) -> None:
    em_api.latest["DE"] = [latest_body("DE", 302, AT), latest_body("DE", 250, AT)]
    now = [1000.0]

    def make() -> Client:
        return client(em_api, cache_dir=tmp_path, cache_ttl_s=900, now=lambda: now[0])

    assert make().latest("DE").g_per_kwh == 302.0
    now[0] += 600
    cached = make().latest("DE")  # a new client, as in the next CI step: the cache is on disk
    assert (cached.g_per_kwh, cached.cache_age_s) == (302.0, 600.0)
    assert len(em_api.requests) == 1
    now[0] += 301
    assert make().latest("DE").g_per_kwh == 250.0
    assert len(em_api.requests) == 2


def test_errors_are_not_cached(em_api: FakeElectricityMaps, tmp_path: Path) -> None:
    with pytest.raises(ApiError):
        client(em_api, cache_dir=tmp_path, cache_ttl_s=900).latest("DE")
    em_api.latest["DE"] = [latest_body("DE", 302, AT)]
    assert client(em_api, cache_dir=tmp_path, cache_ttl_s=900).latest("DE").g_per_kwh == 302.0


def test_corrupt_cache_is_a_miss(em_api: FakeElectricityMaps, tmp_path: Path) -> None:
    em_api.latest["DE"] = [latest_body("DE", 302, AT)]
    client(em_api, cache_dir=tmp_path, cache_ttl_s=900).latest("DE")
    (entry,) = tmp_path.glob("*.json")
    entry.write_text("{not json")
    assert client(em_api, cache_dir=tmp_path, cache_ttl_s=900).latest("DE").g_per_kwh == 302.0
    assert len(em_api.requests) == 2


@pytest.mark.parametrize(("wait_s", "hours"), [(600, 6), (6 * 3600, 6), (7 * 3600, 24), (30 * 3600, 48), (1e6, 72)])
def test_forecast_horizon_covers_the_wait(wait_s: float, hours: int) -> None:
    assert horizon_for(wait_s) == hours
