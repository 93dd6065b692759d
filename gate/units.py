"""Unit conversions, in one place."""

from __future__ import annotations

J_PER_KWH = 3_600_000.0


def j_to_kwh(energy_j: float) -> float:
    return energy_j / J_PER_KWH


def kwh_to_j(energy_kwh: float) -> float:
    return energy_kwh * J_PER_KWH


def emissions_g(energy_kwh: float, intensity_g_per_kwh: float, pue: float = 1.0) -> float:
    """Grams of CO2-equivalent for `energy_kwh` drawn at the IT load, scaled by the site PUE."""
    return energy_kwh * pue * intensity_g_per_kwh
