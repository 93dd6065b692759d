"""The real carbon-intensity providers behind `carbon.sources`, wired to their boundaries.

fixed           the budget's value
codecarbon      codecarbon's bundled annual averages: a country, or a region inside one
cloud           codecarbon's cloud-region data; the region is read from the runner's environment
electricitymaps the Electricity Maps API's latest value for a zone (token from an env var), cached on disk

Heavy boundaries (codecarbon pulls in pandas; requests) are imported only when a source is used.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from gate import paths
from gate.carbon import intensity as carbon
from gate.carbon.model import Intensity
from gate.config.budget import SourceSpec
from gate.errors import CarbonSourceUnavailable, ConfigError

REGION_OVERRIDE_ENV = "GREEN_GATE_CLOUD_REGION"
# Where each cloud's runners (or its SDKs' configuration) say which region they are in, in order.
CLOUD_REGION_ENV: dict[str, tuple[str, ...]] = {
    # GOOGLE_CLOUD_REGION: set by many GCP runtimes and by users; CLOUDSDK_COMPUTE_REGION/_ZONE: gcloud's
    # own configuration as env vars; FUNCTION_REGION: Cloud Functions (1st gen).
    "gcp": ("GOOGLE_CLOUD_REGION", "CLOUDSDK_COMPUTE_REGION", "FUNCTION_REGION", "CLOUDSDK_COMPUTE_ZONE"),
    # The AWS SDKs' and CLI's region variables; CodeBuild, Lambda and ECS set AWS_REGION.
    "aws": ("AWS_REGION", "AWS_DEFAULT_REGION"),
    # No Azure-wide standard: AZURE_REGION / AZURE_LOCATION by convention, REGION_NAME in App Service/Functions.
    "azure": ("AZURE_REGION", "AZURE_LOCATION", "REGION_NAME"),
}


def providers(env: Mapping[str, str], cwd: Path) -> dict[str, carbon.Provider]:
    return {
        "fixed": carbon.fixed,
        "codecarbon": codecarbon_source,
        "cloud": lambda source: cloud_source(source, env),
        "electricitymaps": lambda source: electricitymaps_source(source, env, cwd),
    }


def codecarbon_source(source: SourceSpec) -> Intensity:
    from gate.carbon import codecarbon as codecarbon_data

    assert source.country is not None  # the schema requires it
    if source.region:
        return codecarbon_data.region_intensity(source.country, source.region)
    return codecarbon_data.country_average(source.country)


def cloud_region(cloud: str, env: Mapping[str, str]) -> tuple[str, str] | None:
    """(region, the env var it came from) for `cloud`, or None when the environment does not say."""
    for name in (REGION_OVERRIDE_ENV, *CLOUD_REGION_ENV[cloud]):
        value = env.get(name, "").strip()
        if not value:
            continue
        if name == "CLOUDSDK_COMPUTE_ZONE":  # a zone such as us-central1-a lies in region us-central1
            value = re.sub(r"-[a-z]$", "", value)
        if cloud == "azure":  # "West Europe" -> westeurope, the form of Azure's region names
            value = value.replace(" ", "").lower()
        return value, name
    return None


def cloud_source(source: SourceSpec, env: Mapping[str, str]) -> Intensity:
    from gate.carbon import codecarbon as codecarbon_data

    cloud = source.cloud or ""
    if source.region:
        region, origin = source.region, "the budget file"
    else:
        found = cloud_region(cloud, env)
        if found is None:
            names = ", ".join((REGION_OVERRIDE_ENV, *CLOUD_REGION_ENV[cloud]))
            raise CarbonSourceUnavailable(f"no {cloud} region in the environment (looked at {names})")
        region, name = found
        origin = f"${name}"
    regions = codecarbon_data.cloud_regions(cloud)
    if not regions:
        have = ", ".join(codecarbon_data.cloud_providers()) or "none"
        raise CarbonSourceUnavailable(f"codecarbon's cloud data has no {cloud} regions (it has: {have})")
    if region not in regions:
        message = f"{cloud} region {region!r} (from {origin}) is not in codecarbon's cloud data"
        if origin == "the budget file":
            raise ConfigError(message, hint=f"use one of: {', '.join(sorted(regions))}")
        raise CarbonSourceUnavailable(message)
    return regions[region]


def electricitymaps_source(source: SourceSpec, env: Mapping[str, str], cwd: Path) -> Intensity:
    from gate.carbon import electricitymaps

    token = env.get(source.token_env, "")
    if not token:
        raise CarbonSourceUnavailable(f"${source.token_env} is not set, so there is no API token")
    client = electricitymaps.Client(
        token,
        base_url=env.get(electricitymaps.BASE_URL_ENV) or electricitymaps.DEFAULT_BASE_URL,
        timeout_s=source.timeout_s,
        cache_dir=paths.cache_dir(cwd, "electricitymaps"),
        cache_ttl_s=source.cache_ttl_s,
    )
    assert source.zone is not None  # the schema requires it
    try:
        reading = client.latest(source.zone)
    except electricitymaps.ApiError as exc:
        raise CarbonSourceUnavailable(f"Electricity Maps: {exc.message}") from None
    notes = [f"Electricity Maps latest value for {reading.zone}"]
    if reading.emission_factor_type:
        notes.append(reading.emission_factor_type)
    if reading.is_estimated:
        notes.append("estimated")
    if reading.cache_age_s is not None:
        notes.append(f"cached {reading.cache_age_s:.0f} s ago")
    return Intensity(
        reading.g_per_kwh,
        ", ".join(notes),
        reading.zone,
        provider="electricitymaps",
        basis="live",
        timestamp=reading.datetime or None,
    )
