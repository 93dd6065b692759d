"""A local stand-in for the Electricity Maps API v3, speaking its documented response shapes.

Shapes (API v3 reference, https://portal.electricitymaps.com/docs/api-reference; the same bodies
appear in codecarbon's own tests of its Electricity Maps client):
  GET /v3/carbon-intensity/latest?zone=Z   (header `auth-token`)
    200 {"zone", "carbonIntensity", "datetime", "updatedAt", "createdAt", "emissionFactorType",
         "isEstimated", "estimationMethod"}
  GET /v3/carbon-intensity/forecast?zone=Z&horizonHours=H
    200 {"zone", "forecast": [{"carbonIntensity", "datetime"}, ...], "updatedAt"}
  errors: {"error": "..."} with 401 for a missing/invalid token and 404 "No recent data for zone" for
  a zone without data.
A real HTTP server on 127.0.0.1 (a free port), not a mocked `requests`.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

TOKEN = "test-token-not-a-secret"


def iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def latest_body(zone: str, g_per_kwh: float, at: datetime) -> dict[str, Any]:
    return {
        "zone": zone,
        "carbonIntensity": g_per_kwh,
        "datetime": iso(at),
        "updatedAt": iso(at + timedelta(minutes=47)),
        "createdAt": iso(at - timedelta(days=3)),
        "emissionFactorType": "lifecycle",
        "isEstimated": True,
        "estimationMethod": "TIME_SLICER_AVERAGE",
    }


def forecast_body(zone: str, start: datetime, values: list[float]) -> dict[str, Any]:
    return {
        "zone": zone,
        "forecast": [
            {"carbonIntensity": value, "datetime": iso(start + timedelta(hours=i))} for i, value in enumerate(values)
        ],
        "updatedAt": iso(start),
    }


@dataclass
class FakeElectricityMaps:
    """Scripted answers per zone. `latest[zone]` is a list consumed one per request (the last repeats)."""

    url: str = ""
    latest: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    forecast: dict[str, dict[str, Any]] = field(default_factory=dict)
    delay_s: float = 0.0
    status_override: tuple[int, str] | None = None  # (status, raw body)
    requests: list[tuple[str, dict[str, str], str | None]] = field(default_factory=list)  # (path, query, token)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.latest.clear()
            self.forecast.clear()
            self.requests.clear()
            self.delay_s = 0.0
            self.status_override = None

    def answer(self, path: str, query: dict[str, str], token: str | None) -> tuple[int, str]:
        with self.lock:
            self.requests.append((path, query, token))
            if self.status_override is not None:
                return self.status_override
            if token != TOKEN:
                return 401, json.dumps({"error": "Invalid authentication token"})
            zone = query.get("zone", "")
            if path == "/v3/carbon-intensity/latest" and self.latest.get(zone):
                queue = self.latest[zone]
                body = queue.pop(0) if len(queue) > 1 else queue[0]
                return 200, json.dumps(body)
            if path == "/v3/carbon-intensity/forecast" and zone in self.forecast:
                return 200, json.dumps(self.forecast[zone])
            if path.startswith("/v3/carbon-intensity/"):
                return 404, json.dumps({"error": f'No recent data for zone "{zone}"'})
            return 404, json.dumps({"error": "Not found"})


@contextmanager
def serve() -> Iterator[FakeElectricityMaps]:
    fake = FakeElectricityMaps()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parsed = urlparse(self.path)
            query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
            status, body = fake.answer(parsed.path, query, self.headers.get("auth-token"))
            if fake.delay_s:
                time.sleep(fake.delay_s)
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body.encode())))
                self.end_headers()
                self.wfile.write(body.encode())
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout tests)
                pass

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/v3"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
