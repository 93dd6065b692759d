"""Carbon-intensity sources: each provider, and the fallback chain that tries them in order."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from gate.carbon import intensity as carbon
from gate.carbon import sources as carbon_sources
from gate.carbon.model import Intensity
from gate.config.budget import CarbonSpec, SourceSpec
from gate.errors import CarbonSourceUnavailable, ConfigError
from tests.fakes.em_server import TOKEN, FakeElectricityMaps, latest_body

AT = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
EM = SourceSpec("electricitymaps", zone="DE", token_env="EM_TOKEN", timeout_s=2, cache_ttl_s=0)
COUNTRY = SourceSpec("codecarbon", country="DEU")
FIXED = SourceSpec("fixed", intensity_g_per_kwh=400.0)


def unavailable(why: str) -> carbon.Provider:
    def provider(source: SourceSpec) -> Intensity:
        raise CarbonSourceUnavailable(why)

    return provider


def answering(value: float) -> carbon.Provider:
    return lambda source: Intensity(value, f"stub {source.provider}", "Z", provider=source.provider, basis="live")


# --- the chain (pure) ---------------------------------------------------------------------------


def test_no_sources_means_no_intensity() -> None:
    assert carbon.resolve(CarbonSpec(), {}) is None


def test_first_source_that_answers_wins_and_gets_the_pue() -> None:
    spec = CarbonSpec((EM, FIXED), pue=1.3)
    found = carbon.resolve(spec, {"electricitymaps": answering(250.0), "fixed": carbon.fixed})
    assert found is not None
    assert (found.g_per_kwh, found.pue, found.provider, found.fallback) == (250.0, 1.3, "electricitymaps", ())


def test_fallback_chain_is_recorded_in_order_and_logged() -> None:
    spec = CarbonSpec((EM, SourceSpec("cloud", cloud="gcp"), FIXED))
    logged: list[str] = []
    found = carbon.resolve(
        spec,
        {
            "electricitymaps": unavailable("$EM_TOKEN is not set"),
            "cloud": unavailable("no region"),
            "fixed": carbon.fixed,
        },
        logged.append,
    )
    assert found is not None and found.g_per_kwh == 400.0 and found.basis == "fixed"
    assert found.fallback == (
        "electricitymaps zone DE: $EM_TOKEN is not set",
        "cloud gcp (region from env): no region",
    )
    assert logged[0] == (
        "carbon source electricitymaps zone DE unavailable ($EM_TOKEN is not set); trying the next one"
    )
    assert logged[-1] == "carbon intensity: 400 gCO2eq/kWh, fixed value (fixed value in the budget file)"


def test_when_no_source_answers_the_gate_stops_naming_every_failure() -> None:
    spec = CarbonSpec((EM, SourceSpec("cloud", cloud="aws")))
    with pytest.raises(CarbonSourceUnavailable) as info:
        carbon.resolve(spec, {"electricitymaps": unavailable("HTTP 503"), "cloud": unavailable("no region")})
    assert info.value.message == (
        "no carbon-intensity source answered: electricitymaps zone DE: HTTP 503; cloud aws (region from env): no region"
    )
    assert info.value.hint and "provider: fixed" in info.value.hint
    assert int(info.value.exit_code) == 4


def test_a_budget_mistake_is_not_hidden_by_a_fallback() -> None:
    def broken(source: SourceSpec) -> Intensity:
        raise ConfigError("carbon.country 'XXX' is not in codecarbon's offline data")

    with pytest.raises(ConfigError):
        carbon.resolve(CarbonSpec((COUNTRY, FIXED)), {"codecarbon": broken, "fixed": carbon.fixed})


def test_intensity_provenance_keeps_what_recomputing_needs() -> None:
    intensity = Intensity(
        302.0,
        "Electricity Maps latest value for DE",
        "DE",
        1.2,
        "electricitymaps",
        "live",
        "2026-11-23T11:00:00.000Z",
        ("cloud gcp (region from env): no region",),
    )
    assert carbon.intensity_provenance(intensity) == {
        "g_per_kwh": 302.0,
        "source": "Electricity Maps latest value for DE",
        "provider": "electricitymaps",
        "basis": "live",
        "zone": "DE",
        "timestamp": "2026-11-23T11:00:00.000Z",
        "fallback": ["cloud gcp (region from env): no region"],
        "pue": 1.2,
    }
    assert carbon.intensity_provenance(Intensity(400.0, "fixed value in the budget file")) == {
        "g_per_kwh": 400.0,
        "pue": 1.0,
        "source": "fixed value in the budget file",
        "provider": "fixed",
        "basis": "fixed",
    }


# --- codecarbon's offline data ------------------------------------------------------------------


def test_country_average_with_provenance() -> None:
    found = carbon_sources.codecarbon_source(SourceSpec("codecarbon", country="USA"))
    assert found.g_per_kwh == pytest.approx(369.473)
    assert (found.zone, found.provider, found.basis, found.timestamp) == ("USA", "codecarbon", "annual_average", "2023")
    assert found.source == "codecarbon offline data, United States annual average (2023)"


def test_unknown_country_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="'XYZ' is not in codecarbon's offline data"):
        carbon_sources.codecarbon_source(SourceSpec("codecarbon", country="XYZ"))


@pytest.mark.parametrize(
    ("country", "region", "zone", "g_per_kwh", "year"),
    [
        # eGRID 2023 California: 394.78 lbs/MWh x 0.45359237 (codecarbon's conversion)
        ("USA", "CA", "USA/CA", 179.064, "2023"),
        ("USA", "california", "USA/CA", 179.064, "2023"),
        ("CAN", "Quebec", "CAN/Quebec", 3.937, "2023"),
        ("CHN", "Beijing", "CN-BJ", 555.4, "2023"),
        ("SWE", "se1", "SE1", 25.9, "2025"),
        ("FIN", "FI", "FI", 72.0, "2025"),
    ],
)
def test_region_inside_a_country(country: str, region: str, zone: str, g_per_kwh: float, year: str) -> None:
    found = carbon_sources.codecarbon_source(SourceSpec("codecarbon", country=country, region=region))
    assert found.g_per_kwh == pytest.approx(g_per_kwh, abs=1e-3)
    assert (found.zone, found.basis, found.timestamp) == (zone, "annual_average", year)


def test_unknown_region_names_valid_ones() -> None:
    with pytest.raises(ConfigError) as info:
        carbon_sources.codecarbon_source(SourceSpec("codecarbon", country="USA", region="Atlantis"))
    assert info.value.message == "region 'Atlantis' is not in codecarbon's data for USA"
    assert info.value.hint and "2-letter code" in info.value.hint
    with pytest.raises(ConfigError, match="no regional data for 'FRA'"):
        carbon_sources.codecarbon_source(SourceSpec("codecarbon", country="FRA", region="IDF"))


# --- cloud regions ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cloud", "env", "expected"),
    [
        ("gcp", {"GOOGLE_CLOUD_REGION": "europe-west1"}, ("europe-west1", "GOOGLE_CLOUD_REGION")),
        ("gcp", {"CLOUDSDK_COMPUTE_ZONE": "us-central1-a"}, ("us-central1", "CLOUDSDK_COMPUTE_ZONE")),
        (
            "gcp",
            {"GREEN_GATE_CLOUD_REGION": "europe-west9", "GOOGLE_CLOUD_REGION": "europe-west1"},
            ("europe-west9", "GREEN_GATE_CLOUD_REGION"),
        ),
        ("aws", {"AWS_DEFAULT_REGION": "eu-west-3", "AWS_REGION": "eu-west-1"}, ("eu-west-1", "AWS_REGION")),
        ("azure", {"AZURE_LOCATION": "West Europe"}, ("westeurope", "AZURE_LOCATION")),
        ("aws", {"GOOGLE_CLOUD_REGION": "europe-west1"}, None),
        ("gcp", {"GOOGLE_CLOUD_REGION": "  "}, None),
    ],
)
def test_cloud_region_from_the_runner_environment(
    cloud: str, env: dict[str, str], expected: tuple[str, str] | None
) -> None:
    assert carbon_sources.cloud_region(cloud, env) == expected


def test_cloud_source_reads_the_region_from_env() -> None:
    found = carbon_sources.cloud_source(SourceSpec("cloud", cloud="gcp"), {"GOOGLE_CLOUD_REGION": "europe-west1"})
    assert (found.g_per_kwh, found.zone, found.provider, found.basis) == (
        122.0,
        "gcp/europe-west1",
        "cloud",
        "annual_average",
    )
    assert "St. Ghislain, Belgium" in found.source


def test_cloud_source_without_a_region_is_unavailable() -> None:
    with pytest.raises(CarbonSourceUnavailable, match=r"no gcp region in the environment \(looked at GREEN_GATE_CLOUD"):
        carbon_sources.cloud_source(SourceSpec("cloud", cloud="gcp"), {})


def test_cloud_without_codecarbon_data_is_unavailable() -> None:
    with pytest.raises(CarbonSourceUnavailable, match=r"codecarbon's cloud data has no aws regions \(it has: gcp\)"):
        carbon_sources.cloud_source(SourceSpec("cloud", cloud="aws"), {"AWS_REGION": "eu-west-1"})


def test_unknown_cloud_region_from_env_falls_through_but_from_the_budget_is_an_error() -> None:
    with pytest.raises(CarbonSourceUnavailable, match=r"'mars-1' \(from \$GOOGLE_CLOUD_REGION\)"):
        carbon_sources.cloud_source(SourceSpec("cloud", cloud="gcp"), {"GOOGLE_CLOUD_REGION": "mars-1"})
    with pytest.raises(ConfigError) as info:
        carbon_sources.cloud_source(SourceSpec("cloud", cloud="gcp", region="mars-1"), {})
    assert info.value.hint and "europe-west1" in info.value.hint


# --- Electricity Maps, through the real client and a local server ---------------------------------


def em_env(api: FakeElectricityMaps, token: str = TOKEN) -> dict[str, str]:
    return {"EM_TOKEN": token, "GREEN_GATE_ELECTRICITYMAPS_URL": api.url}


def test_electricitymaps_live_value(em_api: FakeElectricityMaps, tmp_path: Path) -> None:
    em_api.latest["DE"] = [latest_body("DE", 302, AT)]
    found = carbon_sources.electricitymaps_source(EM, em_env(em_api), tmp_path)
    assert (found.g_per_kwh, found.zone, found.basis, found.timestamp) == (
        302.0,
        "DE",
        "live",
        "2026-11-23T11:00:00.000Z",
    )
    assert found.source == "Electricity Maps latest value for DE, lifecycle, estimated"


def test_electricitymaps_without_its_token_env_var_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(CarbonSourceUnavailable, match=r"^\$EM_TOKEN is not set, so there is no API token$"):
        carbon_sources.electricitymaps_source(EM, {}, tmp_path)


def test_electricitymaps_refusal_falls_back_and_the_chain_says_why(em_api: FakeElectricityMaps, tmp_path: Path) -> None:
    em_api.latest["DE"] = [latest_body("DE", 302, AT)]
    spec = CarbonSpec((EM, COUNTRY), pue=1.1)
    found = carbon.resolve(spec, carbon_sources.providers(em_env(em_api, token="revoked"), tmp_path))
    assert found is not None and found.zone == "DEU" and found.pue == 1.1
    assert found.fallback == (
        "electricitymaps zone DE: Electricity Maps: the token was refused (HTTP 401: Invalid authentication token)",
    )


def test_electricitymaps_cache_lives_under_the_working_directory(em_api: FakeElectricityMaps, tmp_path: Path) -> None:
    em_api.latest["DE"] = [latest_body("DE", 302, AT)]
    cached = SourceSpec("electricitymaps", zone="DE", token_env="EM_TOKEN", cache_ttl_s=900)
    first = carbon_sources.electricitymaps_source(cached, em_env(em_api), tmp_path)
    second = carbon_sources.electricitymaps_source(cached, em_env(em_api), tmp_path)
    assert first.g_per_kwh == second.g_per_kwh == 302.0
    assert "cached" in second.source and "cached" not in first.source
    assert len(em_api.requests) == 1
    assert list((tmp_path / ".green-gate" / "cache" / "electricitymaps").glob("*.json"))
