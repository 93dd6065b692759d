"""No bare NaN or Infinity in any JSON the gate writes: a non-finite value from a meter, a carbon
source or an MLflow baseline becomes null, and the document's notes say where."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from gate.output import result
from gate.tracking.history import HistoryRow, render_json

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "pipeline" / "history_warn.json"
SCHEMA = Path(result.__file__).with_name(result.RESULT_SCHEMA)


def strict_load(text: str) -> Any:
    def refuse(constant: str) -> Any:
        raise AssertionError(f"bare {constant} in the JSON")

    return json.loads(text, parse_constant=refuse)


def poisoned() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(GOLDEN.read_text(encoding="utf-8"))["result"]
    bench = document["benchmarks"][0]
    bench["metrics"]["energy_j"] = math.nan  # a meter's NaN reading
    bench["metrics"]["grid_intensity_g_per_kwh"] = math.inf  # a carbon source's infinity
    bench["per_repeat"]["energy_j"][1] = -math.inf
    bench["intensity"]["g_per_kwh"] = math.nan
    bench["intensity"]["pue"] = math.inf
    bench["baseline"]["metrics"]["energy_per_prediction_j"] = math.nan  # an MLflow value logged as NaN
    return document


def test_non_finite_values_are_written_as_null_with_a_note(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    result.write_json(path, poisoned())
    written = strict_load(path.read_text(encoding="utf-8"))
    bench = written["benchmarks"][0]
    assert bench["metrics"]["energy_j"] is None
    assert bench["metrics"]["grid_intensity_g_per_kwh"] is None
    assert bench["per_repeat"]["energy_j"][1] is None
    assert bench["baseline"]["metrics"]["energy_per_prediction_j"] is None
    assert bench["metrics"]["duration_s"] == 2.0  # finite values untouched
    note = written["notes"][-1]
    assert note.startswith("not a finite number, written as null: ")
    for where in (
        "benchmarks[0].metrics.energy_j",
        "benchmarks[0].metrics.grid_intensity_g_per_kwh",
        "benchmarks[0].per_repeat.energy_j[1]",
        "benchmarks[0].baseline.metrics.energy_per_prediction_j",
        "benchmarks[0].intensity.pue",
    ):
        assert where in note
    assert (bench["intensity"]["g_per_kwh"], bench["intensity"]["pue"]) == (None, None)
    # Fields the golden file normalises to "X", given real values again for the schema.
    written["hardware"] = {"description": "test", "fingerprint": "hw"}
    bench["history"] = []
    bench["baseline"]["start_time_ms"] = 1_700_000_000_000
    bench["baseline"]["hardware"] = None
    jsonschema.validate(written, json.loads(SCHEMA.read_text(encoding="utf-8")))


def test_a_finite_document_gets_no_note(tmp_path: Path) -> None:
    document = json.loads(GOLDEN.read_text(encoding="utf-8"))["result"]
    path = tmp_path / "result.json"
    result.write_json(path, document)
    assert strict_load(path.read_text(encoding="utf-8"))["notes"] == document["notes"]


def test_the_note_names_ten_places_and_counts_the_rest() -> None:
    data, where = result.finite_data({"series": [math.nan] * 25})
    assert data == {"series": [None] * 25} and len(where) == 25
    note = result.non_finite_note(where)
    assert note.endswith("and 15 more") and "series[9]" in note and "series[10]" not in note


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_history_json_has_null_for_non_finite_mlflow_metrics(value: float) -> None:
    row = HistoryRow(
        run_id="r1",
        run_name="n",
        start_time_ms=1_700_000_000_000,
        status="FINISHED",
        commit="a" * 40,
        branch="main",
        pr_number=None,
        verdict="pass",
        baseline_eligible=True,
        provenance="measured",
        hardware_id="hw",
        metrics={"energy_j": value, "duration_s": 1.5},
    )
    assert strict_load(render_json([row]))[0]["metrics"] == {"energy_j": None, "duration_s": 1.5}
