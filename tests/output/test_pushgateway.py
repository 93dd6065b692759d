"""Pushing to a real Pushgateway, and one that is down."""

from __future__ import annotations

import pytest

from gate.errors import OutputError
from gate.output import pushgateway
from gate.output.prometheus import Sample
from tests.support.pushgateway import Pushgateway, free_port, pushgateway_server, scraped

__all__ = ["pushgateway_server"]  # the fixture the tests below use

LABELS = (("benchmark", "b"), ("branch", "feature/x"), ("hardware_fingerprint", "ff2ecbfdf6e1"), ("scope", "gated"))
SAMPLES = (
    Sample("green_gate_verdict", "verdict", LABELS, 2.0),
    Sample("green_gate_energy_joules", "energy", LABELS, 12.5),
    Sample("green_gate_energy_joules", "energy", (*LABELS[:3], ("scope", "cpu")), 10.0),
)


@pytest.mark.slow
def test_pushed_gauges_are_scraped_with_their_labels(pushgateway_server: Pushgateway) -> None:
    pushgateway.push(pushgateway_server.url, "green_gate", SAMPLES)
    found = scraped(pushgateway_server)
    expected = {**dict(LABELS), "job": "green_gate", "instance": ""}
    assert [(labels, value) for labels, value in found["green_gate_verdict"]] == [(expected, 2.0)]
    energies = sorted((labels["scope"], value) for labels, value in found["green_gate_energy_joules"])
    assert energies == [("cpu", 10.0), ("gated", 12.5)]


@pytest.mark.slow
def test_a_second_push_replaces_the_group(pushgateway_server: Pushgateway) -> None:
    pushgateway.push(pushgateway_server.url, "green_gate", SAMPLES)
    pushgateway.push(pushgateway_server.url, "green_gate", SAMPLES[:1])
    assert "green_gate_energy_joules" not in scraped(pushgateway_server)


def test_a_pushgateway_that_is_down_is_an_output_error() -> None:
    url = f"http://user:s3cret@127.0.0.1:{free_port()}"
    with pytest.raises(OutputError) as raised:
        pushgateway.push(url, "green_gate", SAMPLES, timeout_s=2)
    assert "s3cret" not in raised.value.render()
    assert "127.0.0.1" in raised.value.render()


def test_the_group_is_the_branch_and_hardware() -> None:
    assert pushgateway.grouping_key(SAMPLES) == {"branch": "feature/x", "hardware_fingerprint": "ff2ecbfdf6e1"}
    assert pushgateway.grouping_key(()) == {}
