"""Grid carbon intensity as a plain, frozen value with its provenance. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

IntensityBasis = Literal["fixed", "annual_average", "live"]
BASIS_WORDS: dict[str, str] = {"fixed": "fixed value", "annual_average": "annual average", "live": "live value"}


@dataclass(frozen=True)
class Intensity:
    """Grid carbon intensity used to turn kWh into gCO2eq, with where it came from.

    Enough is kept (value, zone, time, provider, the sources that failed first) for anyone to
    recompute or audit the emissions later.
    """

    g_per_kwh: float
    source: str  # e.g. "fixed value in green-budget.yml", "codecarbon offline data (2023)"
    zone: str | None = None
    pue: float = 1.0
    provider: str = "fixed"  # fixed | codecarbon | cloud | electricitymaps
    basis: IntensityBasis = "fixed"  # a value the user set, a yearly average, or a live reading
    timestamp: str | None = None  # ISO 8601: a live reading's datetime, an average's year
    fallback: tuple[str, ...] = ()  # "provider: why it was not used", for each source tried first


@dataclass(frozen=True)
class ForecastPoint:
    """One point of a zone's intensity forecast."""

    at: datetime  # UTC
    g_per_kwh: float
