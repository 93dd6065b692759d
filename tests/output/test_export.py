"""`green-gate export`'s formats (gate/output/export.py), validated against Bencher's published
schema and github-action-benchmark's reader (tests/data/export/README.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from gate.output.export import to_bmf, to_gab

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "data" / "export"
# A real result document: the pipeline's golden result of a run with two phases (prefill, decode).
DOCUMENT: dict[str, Any] = json.loads((ROOT / "golden" / "pipeline" / "history_phases.json").read_text())["result"]


def _schema(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((SCHEMAS / name).read_text())
    return schema


def test_bmf_validates_against_bencher_schema_with_a_benchmark_per_case() -> None:
    bmf = to_bmf(DOCUMENT)
    jsonschema.validate(bmf, _schema("bmf.schema.json"))
    assert list(bmf) == ["b", "b/prefill", "b/decode"]
    run = bmf["b"]
    assert set(run) == {"energy-per-prediction", "energy", "energy-kwh", "emissions", "duration"}
    bench = DOCUMENT["benchmarks"][0]
    assert run["energy"]["value"] == bench["metrics"]["energy_j"]
    assert run["energy"]["lower_value"] <= run["energy"]["value"] <= run["energy"]["upper_value"]
    assert bmf["b/prefill"]["energy-per-prediction"] == {"value": bench["phases"][0]["energy_per_item_j"]}


def test_bmf_measure_slugs_fit_bencher_limit() -> None:
    assert all(len(slug) <= 64 for measures in to_bmf(DOCUMENT).values() for slug in measures)


def test_gab_validates_against_the_actions_reader_and_names_each_figure() -> None:
    gab = to_gab(DOCUMENT)
    jsonschema.validate(gab, _schema("gab-custom.schema.json"))
    names = [entry["name"] for entry in gab]
    assert names[:5] == ["b energy-per-prediction", "b energy", "b energy-kwh", "b emissions", "b duration"]
    assert "b/decode energy-per-prediction" in names
    first = gab[0]
    assert (
        first["unit"] == "J/prediction"
        and first["range"].startswith("± ")
        and first["extra"] == "5 repeats\ncommit SHA"
    )


@pytest.mark.parametrize("convert", [to_bmf, to_gab])
def test_a_failed_benchmark_exports_nothing(convert: Any) -> None:
    failed = {**DOCUMENT, "benchmarks": [{**DOCUMENT["benchmarks"][0], "metrics": {}, "phases": [], "per_repeat": {}}]}
    assert not convert(failed)
