"""The gauges as text: what node_exporter's textfile collector reads, parsed back with prometheus_client."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from gate.output import prometheus

GOLDEN_RESULT = Path(__file__).resolve().parent.parent / "golden" / "pipeline" / "auto_paired_warn.json"


def _document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(GOLDEN_RESULT.read_text(encoding="utf-8"))["result"]
    document["hardware"] = {"fingerprint": "ff2ecbfdf6e1", "description": "test"}
    document["context"]["branch"] = 'feat/"quoted"\\x'
    return document


def _parsed(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        assert family.type == "gauge"
        found[family.name] = [(dict(s.labels), s.value) for s in family.samples]
    return found


def test_every_gauge_parses_back_with_its_labels_and_value() -> None:
    document = _document()
    found = _parsed(prometheus.render(prometheus.samples(document)))
    common = {"benchmark": "b", "branch": 'feat/"quoted"\\x', "hardware_fingerprint": "ff2ecbfdf6e1"}
    gated = {**common, "scope": "gated"}
    metrics = document["benchmarks"][0]["metrics"]
    assert found["green_gate_verdict"] == [(gated, 1.0)]  # warn
    per_item = [({**gated, "unit": "prediction"}, metrics["energy_per_prediction_j"])]  # the default item
    assert found["green_gate_energy_per_prediction_joules"] == per_item
    assert found["green_gate_emissions_grams"] == [(gated, metrics["emissions_g"])]
    assert found["green_gate_duration_seconds"] == [(gated, 2.0)]
    assert found["green_gate_mean_power_watts"] == [(gated, metrics["mean_power_w"])]
    scopes = {s["scope"]: s["energy_j"] for s in document["benchmarks"][0]["scopes"]}
    assert found["green_gate_energy_joules"] == [
        (gated, metrics["energy_j"]),
        ({**common, "scope": "cpu"}, scopes["cpu"]),
        ({**common, "scope": "ram"}, scopes["ram"]),
    ]
    (change,) = found["green_gate_change_ratio"]
    assert change[0] == {**gated, "metric": "energy_per_prediction_j"}
    (check,) = [c for c in document["benchmarks"][0]["checks"] if c["rule"] == "relative"]
    assert abs(change[1] - check["change_pct"] / 100) < 1e-12


def test_verdict_codes_are_ordered_by_severity() -> None:
    assert [prometheus.VERDICT_CODES[v] for v in ("pass", "warn", "fail", "error")] == [0, 1, 2, 3]
    document = _document()
    document["benchmarks"][0]["verdict"] = "error"
    found = _parsed(prometheus.render(prometheus.samples(document)))
    assert found["green_gate_verdict"][0][1] == 3.0


def test_missing_figures_are_left_out_not_zero() -> None:
    document = _document()
    benchmark = document["benchmarks"][0]
    del benchmark["metrics"]["emissions_g"]
    benchmark["metrics"]["energy_per_prediction_j"] = None
    benchmark["checks"] = []
    found = _parsed(prometheus.render(prometheus.samples(document)))
    assert "green_gate_emissions_grams" not in found
    assert "green_gate_energy_per_prediction_joules" not in found
    assert "green_gate_change_ratio" not in found
    assert "green_gate_verdict" in found


def test_two_benchmarks_share_one_help_and_type_per_gauge() -> None:
    document = _document()
    second = copy.deepcopy(document["benchmarks"][0])
    second["name"] = "other"
    second["verdict"] = "fail"
    document["benchmarks"].append(second)
    text = prometheus.render(prometheus.samples(document))
    assert text.count("# TYPE green_gate_verdict gauge") == 1
    verdicts = dict((labels["benchmark"], value) for labels, value in _parsed(text)["green_gate_verdict"])
    assert verdicts == {"b": 1.0, "other": 2.0}


def test_no_benchmarks_and_no_hardware_give_an_empty_text() -> None:
    document = _document()
    document["benchmarks"] = []
    document["hardware"] = "X"
    assert prometheus.render(prometheus.samples(document)) == ""


def test_energy_per_item_says_its_unit_under_one_stable_gauge_name() -> None:
    document = _document()
    document["benchmarks"][0]["unit"] = "token"
    found = _parsed(prometheus.render(prometheus.samples(document)))
    ((labels, _),) = found["green_gate_energy_per_prediction_joules"]
    assert labels["unit"] == "token"
    assert all("unit" not in labels for labels, _ in found["green_gate_energy_joules"])  # joules per run: no item
