"""The check's figures as Prometheus gauges, and their text exposition format.

Pure: built from the result document, so the textfile and the Pushgateway carry exactly what the
report shows. Names carry base units (joules, grams, seconds, watts, a ratio), as Prometheus'
naming conventions ask. Every gauge has the labels benchmark, branch, hardware_fingerprint and scope;
`scope="gated"` is the figure the verdict rests on (the sum of the gated scopes), the others are
the energy of one scope (gpu, cpu, ram) as measured.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gate.units import DEFAULT_ITEM_UNIT, PER_ITEM_METRIC

# Ordered by severity, so an alert can be `green_gate_verdict >= 2`.
VERDICT_CODES = {"pass": 0, "warn": 1, "fail": 2, "error": 3}
GATED_SCOPE = "gated"

# metric in the result document -> (gauge name, help text)
GAUGES: dict[str, tuple[str, str]] = {
    "energy_per_prediction_j": (
        "green_gate_energy_per_prediction_joules",
        "Median energy per item of the benchmark's measured runs; label unit names the item (prediction, token...).",
    ),
    "energy_j": ("green_gate_energy_joules", "Median energy of one measured run."),
    "emissions_g": ("green_gate_emissions_grams", "Median gCO2eq of one measured run."),
    "duration_s": ("green_gate_duration_seconds", "Median wall-clock duration of one measured run."),
    "mean_power_w": ("green_gate_mean_power_watts", "Median mean power of one measured run."),
}
CHANGE_GAUGE = (
    "green_gate_change_ratio",
    "Change against the baseline as a ratio (0.05 is +5%), per compared metric.",
)
VERDICT_GAUGE = ("green_gate_verdict", "The benchmark's verdict: 0 pass, 1 warn, 2 fail, 3 error.")


@dataclass(frozen=True)
class Sample:
    name: str
    help: str
    labels: tuple[tuple[str, str], ...]
    value: float


def samples(document: Mapping[str, Any]) -> tuple[Sample, ...]:
    """Every gauge sample of a result document, grouped by gauge name in a fixed order."""
    context = document.get("context") or {}
    hardware = document.get("hardware")
    fingerprint = hardware.get("fingerprint") if isinstance(hardware, Mapping) else None
    common = (
        ("branch", str(context.get("branch") or "")),
        ("hardware_fingerprint", str(fingerprint or "")),
    )
    found: list[Sample] = []
    for benchmark in document.get("benchmarks") or []:
        found.extend(_benchmark_samples(benchmark, common))
    order = [VERDICT_GAUGE[0], *(name for name, _ in GAUGES.values()), CHANGE_GAUGE[0]]
    return tuple(sorted(found, key=lambda s: order.index(s.name)))


def _benchmark_samples(benchmark: Mapping[str, Any], common: tuple[tuple[str, str], ...]) -> list[Sample]:
    def labels(scope: str, *extra: tuple[str, str]) -> tuple[tuple[str, str], ...]:
        return (("benchmark", str(benchmark["name"])), *common, ("scope", scope), *extra)

    found = [Sample(*VERDICT_GAUGE, labels(GATED_SCOPE), float(VERDICT_CODES[benchmark["verdict"]]))]
    metrics = benchmark.get("metrics") or {}
    for metric, (name, text) in GAUGES.items():
        if _finite(metrics.get(metric)):
            # One stable gauge name whatever the item, so history survives a change of `unit:`.
            extra = (("unit", str(benchmark.get("unit") or DEFAULT_ITEM_UNIT)),) if metric == PER_ITEM_METRIC else ()
            found.append(Sample(name, text, labels(GATED_SCOPE, *extra), float(metrics[metric])))
    energy_name, energy_help = GAUGES["energy_j"]
    for scope in benchmark.get("scopes") or []:
        if _finite(scope.get("energy_j")):
            found.append(Sample(energy_name, energy_help, labels(str(scope["scope"])), float(scope["energy_j"])))
    for check in benchmark.get("checks") or []:
        if _finite(check.get("change_pct")):
            ratio = float(check["change_pct"]) / 100.0
            found.append(Sample(*CHANGE_GAUGE, labels(GATED_SCOPE, ("metric", str(check["metric"]))), ratio))
    return found


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def render(found: Sequence[Sample]) -> str:
    """The text exposition format (version 0.0.4), as node_exporter's textfile collector reads it."""
    lines: list[str] = []
    seen: set[str] = set()
    for sample in found:
        if sample.name not in seen:
            seen.add(sample.name)
            lines.append(f"# HELP {sample.name} {_escape_help(sample.help)}")
            lines.append(f"# TYPE {sample.name} gauge")
        labels = ",".join(f'{key}="{_escape_label(value)}"' for key, value in sample.labels)
        lines.append(f"{sample.name}{{{labels}}} {sample.value!r}")
    return "\n".join(lines) + "\n" if lines else ""


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _escape_label(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
