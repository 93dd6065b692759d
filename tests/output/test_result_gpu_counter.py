"""The GPU engine's calibration factor and counter staleness in the result JSON, as its schema declares them."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from gate.energy.model import ScopeSummary
from gate.output import result

SCHEMA = json.loads(Path(result.__file__).with_name(result.RESULT_SCHEMA).read_text(encoding="utf-8"))


def scope_schema() -> dict[str, object]:
    benchmark = SCHEMA["$defs"]["benchmark"]
    return {"$defs": SCHEMA["$defs"], **benchmark["properties"]["scopes"]["items"]}


def test_a_gpu_scope_carries_k_and_the_counter_staleness_per_gpu() -> None:
    gpu = ScopeSummary("gpu", 11.0, "measured", "2 GPUs", calibration=(1.004, 0.93), counter_staleness_s=(0.14, 0.16))
    written = json.loads(json.dumps(result.scope_dict(gpu)))  # as the result JSON holds it
    jsonschema.validate(written, scope_schema())
    assert written["calibration"] == [1.004, 0.93]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**written, "calibration": ["high"]}, scope_schema())


def test_a_scope_without_them_is_written_as_before() -> None:
    cpu = ScopeSummary("cpu", 5.0, "estimated", "codecarbon")
    assert set(result.scope_dict(cpu)) == {"scope", "energy_j", "provenance", "method", "gated", "attribution"}
