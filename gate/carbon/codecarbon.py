"""The codecarbon boundary for carbon: codecarbon's bundled carbon-intensity data, offline.

Country averages, sub-national regions and cloud regions, each as an Intensity with its provenance.
codecarbon is imported lazily: it pulls in pandas, and only a run whose budget names a codecarbon
or cloud source needs it.
"""

from __future__ import annotations

import re
from typing import Any

from gate.carbon.model import Intensity
from gate.errors import ConfigError


def country_intensity(iso3: str) -> tuple[float, str, str]:
    """(g/kWh, country name, data year) from codecarbon's bundled global_energy_mix.json."""
    from codecarbon.input import DataSource

    mix = DataSource().get_global_energy_mix_data()  # type: ignore[no-untyped-call]
    entry = mix.get(iso3.upper())
    if entry is None or entry.get("carbon_intensity") is None:
        close = sorted(code for code in mix if code[:1] == iso3[:1].upper())[:8]
        raise ConfigError(
            f"carbon.country {iso3!r} is not in codecarbon's offline data",
            hint=f"use an ISO 3166-1 alpha-3 code such as {', '.join(close) or 'USA, FRA, DEU'}",
        )
    return float(entry["carbon_intensity"]), str(entry.get("country_name", iso3)), str(entry.get("year", "?"))


def country_average(iso3: str) -> Intensity:
    """A country's annual average from codecarbon's bundled data, with its provenance."""
    value, name, year = country_intensity(iso3)
    return Intensity(
        value,
        f"codecarbon offline data, {name} annual average ({year})",
        iso3.upper(),
        provider="codecarbon",
        basis="annual_average",
        timestamp=year if year != "?" else None,
    )


# Countries for which codecarbon ships sub-national data, and what a region is there.
REGIONAL_COUNTRIES = {
    "USA": "a state name or its 2-letter code (EPA eGRID)",
    "CAN": "a province or territory name",
    "CHN": "a province name (MEE/NBS factors)",
    "SWE": "a bidding zone: SE1, SE2, SE3, SE4",
    "NOR": "a bidding zone: NO1, NO2, NO3, NO4, NO5",
    "FIN": "FI",
}


def region_intensity(iso3: str, region: str) -> Intensity:
    """Annual average of one region of a country, from codecarbon's bundled regional data.

    Computed with codecarbon's own conversions, so the value is the one codecarbon would use.
    Raises ConfigError when codecarbon has no data for that country or region.
    """
    from codecarbon.input import DataSource

    iso3 = iso3.upper()
    source = DataSource()  # type: ignore[no-untyped-call]
    if iso3 == "USA":
        return _usa_state(source.get_country_emissions_data("usa"), region)
    if iso3 == "CAN":
        path = str(source.country_energy_mix_data_path("can"))
        return _canada_province(source.get_country_energy_mix_data("can"), region, _year_in(path))
    if iso3 == "CHN":
        return _china_province(source.get_china_provincial_emissions_data(), region)
    if iso3 in ("SWE", "NOR", "FIN"):
        return _nordic_zone(source.get_nordic_country_energy_mix_data(), iso3, region)
    raise ConfigError(
        f"codecarbon has no regional data for {iso3!r}",
        hint=f"drop 'region' to use the country average; regions exist for {', '.join(REGIONAL_COUNTRIES)}",
    )


def _unknown_region(iso3: str, region: str, known: list[str]) -> ConfigError:
    return ConfigError(
        f"region {region!r} is not in codecarbon's data for {iso3}",
        hint=f"use {REGIONAL_COUNTRIES[iso3]}, e.g. {', '.join(sorted(known)[:6])}",
    )


def _usa_state(data: dict[str, Any], region: str) -> Intensity:
    from codecarbon.core.units import EmissionsPerKWh

    wanted = region.strip().lower()
    states = {k: v for k, v in data.items() if not k.startswith("_")}
    name = next((k for k, v in states.items() if wanted in (k, str(v.get("regionCode", "")).lower())), None)
    if name is None:
        raise _unknown_region("USA", region, [v["regionCode"] for v in states.values()])
    g_per_kwh = EmissionsPerKWh.from_lbs_per_mWh(float(states[name]["emissions"])).kgs_per_kWh * 1000.0
    meta = data.get("_source", {})
    year = str(meta.get("year", "")) or None
    label = str(meta.get("name", "EPA eGRID")).split(",")[0]
    return Intensity(
        g_per_kwh,
        f"codecarbon offline data, {name.title()} annual average ({label})",
        f"USA/{states[name]['regionCode']}",
        provider="codecarbon",
        basis="annual_average",
        timestamp=year,
    )


def _canada_province(data: dict[str, Any], region: str, year: str | None) -> Intensity:
    from codecarbon.core.emissions import Emissions

    name = region.strip().lower()
    if name not in data:
        raise _unknown_region("CAN", region, list(data))
    g_per_kwh = Emissions._region_energy_mix_to_emissions_rate(data[name]).kgs_per_kWh * 1000.0
    return Intensity(
        g_per_kwh,
        f"codecarbon offline data, {name.title()} annual average (from its generation mix)",
        f"CAN/{name.title()}",
        provider="codecarbon",
        basis="annual_average",
        timestamp=year,
    )


def _china_province(data: dict[str, Any], region: str) -> Intensity:
    wanted = re.sub(r"\s+(autonomous region|municipality|province)$", "", " ".join(region.lower().split()))
    provinces = data.get("data", {})
    for code, entry in provinces.items():
        if wanted in entry.get("names", []) or wanted == code.lower():
            return Intensity(
                float(entry["emission_factor"]),
                f"codecarbon offline data, {entry.get('description', code)} annual average (MEE/NBS, CO2 only)",
                code,
                provider="codecarbon",
                basis="annual_average",
                timestamp=str(entry.get("year", "")) or None,
            )
    raise _unknown_region("CHN", region, [e.get("description", c) for c, e in provinces.items()])


def _nordic_zone(data: dict[str, Any], iso3: str, region: str) -> Intensity:
    prefix = {"SWE": "SE", "NOR": "NO", "FIN": "FI"}[iso3]
    zones = {k: v for k, v in data.get("data", {}).items() if k.startswith(prefix)}
    entry = zones.get(region.strip().upper())
    if entry is None:
        raise _unknown_region(iso3, region, list(zones))
    return Intensity(
        float(entry["emission_factor"]),
        f"codecarbon offline data, {entry.get('description', region)} annual average",
        region.strip().upper(),
        provider="codecarbon",
        basis="annual_average",
        timestamp=str(entry.get("year", "")) or None,
    )


def _year_in(path: str) -> str | None:
    found = re.search(r"[/\\](\d{4})[/\\]", path)
    return found.group(1) if found else None


def cloud_regions(cloud: str) -> dict[str, Intensity]:
    """region -> annual-average Intensity for one cloud provider, from codecarbon's impact.csv.

    Empty when codecarbon has no rows for that provider (codecarbon 3.3 ships only gcp).
    """
    from codecarbon.input import DataSource

    frame = DataSource().get_cloud_emissions_data()  # type: ignore[no-untyped-call]
    rows = frame[frame["provider"] == cloud.lower()]
    regions: dict[str, Intensity] = {}
    for row in rows.to_dict("records"):
        place = ", ".join(str(p) for p in (row.get("city"), row.get("country_name")) if _present(p))
        regions[str(row["region"])] = Intensity(
            float(row["impact"]),
            f"codecarbon cloud data, {cloud} {row['region']} ({place}) annual average, from {row.get('source')}",
            f"{cloud}/{row['region']}",
            provider="cloud",
            basis="annual_average",
        )
    return regions


def cloud_providers() -> list[str]:
    """The cloud providers codecarbon's impact.csv has rows for."""
    from codecarbon.input import DataSource

    frame = DataSource().get_cloud_emissions_data()  # type: ignore[no-untyped-call]
    return sorted({str(p) for p in frame["provider"]})


def _present(value: Any) -> bool:
    return value is not None and value == value and str(value).strip() != ""  # NaN != NaN
