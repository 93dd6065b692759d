"""Which grid carbon intensity turns kWh into gCO2eq, and where it came from.

The budget's `carbon.sources` are tried in order. A source that cannot answer right now (no token,
network down, API error, no region in the environment) raises CarbonSourceUnavailable and the next
one is tried; the Intensity that comes back lists those failures (`fallback`), so the report states
the chain. When none answers the check stops: there is no silent default. A mistake in the budget
file itself (an unknown country) is a ConfigError and stops at once, whatever follows it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from gate.carbon.model import BASIS_WORDS, Intensity
from gate.config.budget import CarbonSpec, SourceSpec
from gate.errors import CarbonSourceUnavailable

Provider = Callable[[SourceSpec], Intensity]


def fixed(source: SourceSpec) -> Intensity:
    assert source.intensity_g_per_kwh is not None  # the schema requires it
    return Intensity(source.intensity_g_per_kwh, "fixed value in the budget file", None, provider="fixed")


def resolve(
    spec: CarbonSpec,
    providers: Mapping[str, Provider],
    log: Callable[[str], None] = lambda _: None,
) -> Intensity | None:
    """The first source that answers, with the budget's PUE and the failures before it; None: no sources."""
    if not spec.sources:
        return None
    failures: list[str] = []
    for source in spec.sources:
        try:
            found = providers[source.provider](source)
        except CarbonSourceUnavailable as exc:
            failures.append(f"{source.describe()}: {exc.message}")
            log(f"carbon source {source.describe()} unavailable ({exc.message}); trying the next one")
            continue
        intensity = replace(found, pue=spec.pue, fallback=tuple(failures))
        log(f"carbon intensity: {describe(intensity)}")
        return intensity
    raise CarbonSourceUnavailable(
        "no carbon-intensity source answered: " + "; ".join(failures),
        hint="fix the first source, or end carbon.sources with one that always answers "
        "(provider: codecarbon with a country, or provider: fixed)",
    )


def describe(intensity: Intensity) -> str:
    """One line: value, basis, zone, time and source, e.g. for logs."""
    parts = [f"{intensity.g_per_kwh:.4g} gCO2eq/kWh", BASIS_WORDS[intensity.basis]]
    if intensity.zone:
        parts.append(f"zone {intensity.zone}")
    if intensity.timestamp:
        parts.append(f"at {intensity.timestamp}")
    return f"{', '.join(parts)} ({intensity.source})"


def intensity_provenance(intensity: Intensity) -> dict[str, Any]:
    """What a run keeps so its gCO2eq can be recomputed later: value, PUE, where and when it came from."""
    record: dict[str, Any] = {
        "g_per_kwh": intensity.g_per_kwh,
        "pue": intensity.pue,
        "source": intensity.source,
        "provider": intensity.provider,
        "basis": intensity.basis,
        "zone": intensity.zone,
        "timestamp": intensity.timestamp,
        "fallback": [note[:500] for note in intensity.fallback],
    }
    return {name: value for name, value in record.items() if value not in (None, "", [])}
