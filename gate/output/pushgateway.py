"""Pushing gauges to a Prometheus Pushgateway: the one module that touches prometheus_client's push.

The gauges are pushed as one group per job, branch and hardware, replacing that group's previous
values (HTTP PUT), so each branch's latest check is what Prometheus scrapes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from gate.errors import OutputError
from gate.output.prometheus import Sample
from gate.secrets import describe_uri

PUSH_TIMEOUT_S = 10.0


def grouping_key(found: Sequence[Sample]) -> dict[str, str]:
    """branch and hardware_fingerprint, which every sample of one check shares."""
    if not found:
        return {}
    labels = dict(found[0].labels)
    return {key: labels[key] for key in ("branch", "hardware_fingerprint") if labels.get(key)}


def push(url: str, job: str, found: Sequence[Sample], timeout_s: float = PUSH_TIMEOUT_S) -> None:
    """PUT the samples under `job`; OutputError when the Pushgateway does not take them."""
    from prometheus_client import CollectorRegistry, push_to_gateway
    from prometheus_client.core import GaugeMetricFamily

    class _Collector:
        def collect(self) -> Iterator[Any]:
            families: dict[str, GaugeMetricFamily] = {}
            for sample in found:
                keys = [key for key, _ in sample.labels]
                family = families.get(sample.name)
                if family is None:
                    family = families[sample.name] = GaugeMetricFamily(sample.name, sample.help, labels=keys)
                family.add_metric([value for _, value in sample.labels], sample.value)
            yield from families.values()

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector())
    try:
        push_to_gateway(url, job=job, registry=registry, grouping_key=grouping_key(found), timeout=timeout_s)
    except Exception as exc:  # urllib's URLError, HTTPError, OSError, ValueError for a bad URL
        raise OutputError(
            f"the Pushgateway at {describe_uri(url)} did not take the gauges: {exc}",
            hint="check prometheus.pushgateway / --pushgateway; the result file and report are written regardless",
        ) from exc
