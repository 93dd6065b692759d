"""The Electricity Maps API (v3): a zone's latest carbon intensity and its forecast.

The only module that talks to Electricity Maps; `requests` is imported on use. The token travels in
the `auth-token` header, never in a URL, a log line or an error message.

Response shapes (API v3 reference, https://portal.electricitymaps.com/docs/api-reference):
  GET {base}/carbon-intensity/latest?zone=DE                        header `auth-token: <token>`
    200 {"zone": "DE", "carbonIntensity": 302, "datetime": "2024-09-24T03:00:00.000Z",
         "updatedAt": "2024-09-24T02:47:02.408Z", "createdAt": "2024-09-21T03:45:20.860Z",
         "emissionFactorType": "lifecycle", "isEstimated": true, "estimationMethod": "TIME_SLICER_AVERAGE"}
  GET {base}/carbon-intensity/forecast?zone=DE&horizonHours=24
    200 {"zone": "DE", "forecast": [{"carbonIntensity": 326, "datetime": "2024-09-24T04:00:00.000Z"}, ...],
         "updatedAt": "2024-09-24T03:10:00.000Z"}
  Errors: a non-2xx status with a JSON body {"error": "No recent data for zone \"XX\""} (gateways may
  answer {"message": "..."} instead); 401 (or 403) when the token is missing, invalid or lacks access.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gate.carbon.cache import TtlCache
from gate.carbon.model import ForecastPoint
from gate.errors import CarbonSourceUnavailable

DEFAULT_BASE_URL = "https://api.electricitymaps.com/v3"
BASE_URL_ENV = "GREEN_GATE_ELECTRICITYMAPS_URL"  # tests and proxies; the token goes wherever this points
FORECAST_HORIZONS_H = (6, 24, 48, 72)


class ApiError(CarbonSourceUnavailable):
    """The API did not give a usable answer. `status` is the HTTP status when there was one."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Reading:
    zone: str
    g_per_kwh: float
    datetime: str  # ISO 8601 UTC: the period the value is for
    is_estimated: bool | None = None
    emission_factor_type: str | None = None
    cache_age_s: float | None = None  # None: fetched now


@dataclass(frozen=True)
class Forecast:
    zone: str
    points: tuple[ForecastPoint, ...]  # sorted by time
    updated_at: str | None = None
    cache_age_s: float | None = None


def horizon_for(wait_s: float) -> int:
    """The shortest forecast horizon the API offers that covers `wait_s` (at most 72 h)."""
    hours = wait_s / 3600.0
    return next((h for h in FORECAST_HORIZONS_H if h >= hours), FORECAST_HORIZONS_H[-1])


class Client:
    def __init__(
        self,
        token: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout_s: float = 5.0,
        cache_dir: Path | None = None,
        cache_ttl_s: float = 0.0,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._token = token
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self._cache = TtlCache(cache_dir, cache_ttl_s, now) if cache_dir is not None else None

    def latest(self, zone: str) -> Reading:
        body, age_s = self._get("carbon-intensity/latest", {"zone": zone})
        value = body.get("carbonIntensity")
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
            raise ApiError(f"the answer for zone {zone!r} has no usable carbonIntensity: {_clip(body)}")
        return Reading(
            zone=str(body.get("zone") or zone),
            g_per_kwh=float(value),
            datetime=str(body.get("datetime") or ""),
            is_estimated=body.get("isEstimated") if isinstance(body.get("isEstimated"), bool) else None,
            emission_factor_type=body.get("emissionFactorType"),
            cache_age_s=age_s,
        )

    def forecast(self, zone: str, horizon_hours: int = 24) -> Forecast:
        body, age_s = self._get("carbon-intensity/forecast", {"zone": zone, "horizonHours": horizon_hours})
        raw = body.get("forecast")
        if not isinstance(raw, list):
            raise ApiError(f"the forecast for zone {zone!r} has no 'forecast' list: {_clip(body)}")
        points = []
        for item in raw:
            value = item.get("carbonIntensity") if isinstance(item, dict) else None
            at = _parse_time(item.get("datetime")) if isinstance(item, dict) else None
            if isinstance(value, (int, float)) and not isinstance(value, bool) and at is not None:
                points.append(ForecastPoint(at, float(value)))
        if not points:
            raise ApiError(f"the forecast for zone {zone!r} has no usable points: {_clip(body)}")
        return Forecast(
            zone=str(body.get("zone") or zone),
            points=tuple(sorted(points, key=lambda p: p.at)),
            updated_at=body.get("updatedAt"),
            cache_age_s=age_s,
        )

    def _get(self, endpoint: str, params: dict[str, Any]) -> tuple[dict[str, Any], float | None]:
        key = f"{endpoint}-" + "-".join(f"{k}={v}" for k, v in sorted(params.items()))
        if self._cache is not None:
            hit = self._cache.get(key)
            if hit is not None:
                return hit
        import requests  # lazily: keeps `green-gate --help` fast

        url = f"{self.base_url}/{endpoint}"
        try:
            response = requests.get(url, params=params, headers={"auth-token": self._token}, timeout=self.timeout_s)
        except requests.Timeout:
            raise ApiError(f"no answer from {self.base_url} within {self.timeout_s:g} s") from None
        except requests.RequestException as exc:
            raise ApiError(f"cannot reach {self.base_url}: {type(exc).__name__}") from None
        if response.status_code != 200:
            message = _error_message(response)
            if response.status_code in (401, 403):
                raise ApiError(f"the token was refused (HTTP {response.status_code}: {message})", response.status_code)
            raise ApiError(f"HTTP {response.status_code}: {message}", response.status_code)
        try:
            body = response.json()
        except ValueError:
            raise ApiError(f"the answer is not JSON: {_clip(response.text)}") from None
        if not isinstance(body, dict):
            raise ApiError(f"the answer is not a JSON object: {_clip(body)}")
        if self._cache is not None:
            self._cache.put(key, body)
        return body, None


def _error_message(response: Any) -> str:
    try:
        body = response.json()
    except ValueError:
        return _clip(response.text) or response.reason or "no message"
    if isinstance(body, dict):
        for field in ("error", "message"):
            if isinstance(body.get(field), str):
                return _clip(body[field])
    return _clip(body)


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _clip(value: Any, limit: int = 200) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
