"""Unit conversions and SI prefixes."""

from __future__ import annotations

import pytest

from gate.units import emissions_g, j_to_kwh, kwh_to_j, metric_label, plural, si_prefix


def test_energy_and_emissions() -> None:
    assert j_to_kwh(3_600_000.0) == 1.0 and kwh_to_j(0.5) == 1_800_000.0
    assert emissions_g(2.0, 400.0, pue=1.5) == 1200.0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.01234, (1e-3, "m")),
        (-0.01234, (1e-3, "m")),  # by magnitude
        (1.0, (1.0, "")),
        (999.4, (1.0, "")),
        (999.96, (1e3, "k")),  # shows as 1 k, not 1000
        (2.5e9, (1e9, "G")),
        (5e-9, (1e-9, "n")),
        (1e-12, None),
        (0.0, None),
    ],
)
def test_si_prefix(value: float, expected: tuple[float, str] | None) -> None:
    assert si_prefix(value) == expected


@pytest.mark.parametrize(
    ("word", "count_key"),
    [("prediction", "predictions"), ("token", "tokens"), ("batch", "batches"), ("query", "queries"), ("day", "days")],
)
def test_a_unit_counts_under_its_plural(word: str, count_key: str) -> None:
    assert plural(word) == count_key


def test_the_per_item_label_reads_in_the_benchmarks_unit() -> None:
    assert metric_label("energy_per_prediction_j", "Energy per prediction", "token") == "Energy per token"
    assert metric_label("energy_per_prediction_j", "Energy per prediction") == "Energy per prediction"
    assert metric_label("energy_j", "Energy per run", "token") == "Energy per run"
