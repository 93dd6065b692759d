"""Which grid carbon intensity turns kWh into gCO2eq, and where it came from."""

from __future__ import annotations

from collections.abc import Callable

from gate.budget import CarbonSpec
from gate.models import Intensity

CountryLookup = Callable[[str], tuple[float, str, str]]  # iso3 -> (g/kWh, country name, year)


def resolve_intensity(spec: CarbonSpec, lookup_country: CountryLookup) -> Intensity | None:
    """The intensity the budget file asks for; None when it names none (no gCO2eq then)."""
    if spec.intensity_g_per_kwh is not None:
        return Intensity(spec.intensity_g_per_kwh, "fixed value in the budget file", None, spec.pue)
    if spec.country is not None:
        value, name, year = lookup_country(spec.country)
        return Intensity(value, f"codecarbon offline data, {name} annual average ({year})", spec.country, spec.pue)
    return None
