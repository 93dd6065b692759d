"""A result in the formats benchmark dashboards already read, so energy sits beside time there. Pure.

- Bencher Metric Format (BMF, https://bencher.dev/docs/reference/bencher-metric-format): an object of
  benchmarks, each an object of measures (`value`, `lower_value`, `upper_value`). A benchmark here
  is a gated benchmark, and each of its cases (`<benchmark>/<case>`); lower and upper are the
  lowest and highest repeat.
- github-action-benchmark's `customSmallerIsBetter` tool: a list of `{name, unit, value, range,
  extra}` entries, one per benchmark (or case) and figure; `range` is the spread of the repeats.

Only figures where smaller is better are exported: energy per item, energy (J and kWh), gCO2eq and
duration, so a dashboard's "a rise is a regression" reads them right.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any, Literal

ExportFormat = Literal["bmf", "gab"]
FORMATS: tuple[ExportFormat, ...] = ("bmf", "gab")

# (result metric, BMF measure slug, unit for the GAB entry's name and unit)
_RUN_FIGURES = (
    ("energy_per_prediction_j", "energy-per-{unit}", "J/{unit}"),
    ("energy_j", "energy", "J"),
    ("energy_kwh", "energy-kwh", "kWh"),
    ("emissions_g", "emissions", "gCO2eq"),
    ("duration_s", "duration", "s"),
)
_CASE_FIGURES = (
    ("energy_per_item_j", "energy-per-{unit}", "J/{unit}"),
    ("energy_j", "energy", "J"),
    ("duration_s", "duration", "s"),
)


class _Figure:
    def __init__(self, benchmark: str, slug: str, unit: str, value: float, repeats: tuple[float, ...]) -> None:
        self.benchmark = benchmark
        self.slug = slug
        self.unit = unit
        self.value = value
        self.repeats = repeats


def figures(document: Mapping[str, Any]) -> list[_Figure]:
    """Every exported figure of a result document, benchmarks then their cases, in order."""
    return list(_figures(document))


def _figures(document: Mapping[str, Any]) -> Iterator[_Figure]:
    for bench in document.get("benchmarks") or []:
        metrics = bench.get("metrics") or {}
        per_repeat = bench.get("per_repeat") or {}
        unit = str(bench.get("unit") or "prediction")
        for metric, slug, figure_unit in _RUN_FIGURES:
            value = metrics.get(metric)
            if isinstance(value, (int, float)) and _finite(value):
                repeats = tuple(v for v in per_repeat.get(metric) or () if _finite(v))
                yield _Figure(bench["name"], slug.format(unit=unit), figure_unit.format(unit=unit), value, repeats)
        for case in bench.get("phases") or []:
            for metric, slug, figure_unit in _CASE_FIGURES:
                value = case.get(metric)
                if isinstance(value, (int, float)) and _finite(value):
                    name = f"{bench['name']}/{case['name']}"
                    yield _Figure(name, slug.format(unit=unit), figure_unit.format(unit=unit), value, ())


def to_bmf(document: Mapping[str, Any]) -> dict[str, dict[str, dict[str, float]]]:
    """The result as Bencher Metric Format JSON."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for figure in figures(document):
        metric: dict[str, float] = {"value": figure.value}
        if len(figure.repeats) >= 2:
            metric["lower_value"] = min(figure.repeats)
            metric["upper_value"] = max(figure.repeats)
        out.setdefault(figure.benchmark, {})[figure.slug] = metric
    return out


def to_gab(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The result as github-action-benchmark `customSmallerIsBetter` JSON."""
    entries = []
    commit = str((document.get("context") or {}).get("commit") or "")
    for figure in figures(document):
        entry: dict[str, Any] = {
            "name": f"{figure.benchmark} {figure.slug}",
            "unit": figure.unit,
            "value": figure.value,
        }
        if len(figure.repeats) >= 2:
            entry["range"] = f"± {(max(figure.repeats) - min(figure.repeats)) / 2:.4g}"
            entry["extra"] = f"{len(figure.repeats)} repeats" + (f"\ncommit {commit[:12]}" if commit else "")
        entries.append(entry)
    return entries


def export(document: Mapping[str, Any], fmt: ExportFormat) -> Any:
    return to_bmf(document) if fmt == "bmf" else to_gab(document)


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
