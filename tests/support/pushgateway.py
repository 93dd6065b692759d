"""A real Prometheus Pushgateway (Debian's `prometheus-pushgateway`) on 127.0.0.1, and its scrape
parsed back with prometheus_client's own parser."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

START_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class Pushgateway:
    url: str


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _executable() -> str | None:
    return shutil.which("prometheus-pushgateway") or shutil.which("pushgateway")


@pytest.fixture
def pushgateway_server(tmp_path: Path) -> Iterator[Pushgateway]:
    executable = _executable()
    if executable is None:
        pytest.skip("no Pushgateway: install Debian's prometheus-pushgateway (.ci/run does)")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "pushgateway.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            # Debian's build persists to /var/lib/prometheus by default: each test gets a fresh store.
            [executable, f"--web.listen-address=127.0.0.1:{port}", f"--persistence.file={tmp_path / 'store'}"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                if requests.get(f"{url}/-/ready", timeout=1).ok:
                    break
            except requests.ConnectionError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.skip(f"the Pushgateway did not start: {log_path.read_text(errors='replace')[-500:]}")
            time.sleep(0.1)
        yield Pushgateway(url)
    finally:
        process.terminate()
        process.wait(timeout=10)


def scraped(gateway: Pushgateway) -> dict[str, list[tuple[dict[str, str], float]]]:
    """The gateway's /metrics, as prometheus_client parses it: gauge name -> [(labels, value)]."""
    from prometheus_client.parser import text_string_to_metric_families

    text = requests.get(f"{gateway.url}/metrics", timeout=5).text
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        if family.name.startswith("green_gate_"):
            found[family.name] = [(dict(s.labels), s.value) for s in family.samples]
    return found
