"""The MLflow UI installed beside the gate opens the view the gate's links ask for: its bundle reads
the `workflowType` query (genai or machine_learning) before the browser's stored choice. Skipped
with mlflow-skinny alone, which ships no UI."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from gate.tracking import schema


def _bundle() -> str:
    spec = importlib.util.find_spec("mlflow")
    assert spec is not None and spec.origin is not None
    build = Path(spec.origin).parent / "server" / "js" / "build" / "static" / "js"
    scripts = sorted(build.glob("main.*.js"))
    if not scripts:
        pytest.skip("the MLflow UI is not installed (mlflow-skinny only): `pip install mlflow` of the same version")
    return scripts[0].read_text(encoding="utf-8", errors="replace")


def test_the_ui_takes_its_view_from_the_query_the_gate_s_links_carry() -> None:
    key, value = schema.UI_CLASSIC_VIEW_QUERY.split("=")
    bundle = _bundle()
    assert f'.get("{key}")' in bundle  # read from the link's query
    assert f'MACHINE_LEARNING="{value}"' in bundle and 'GENAI="genai"' in bundle
    assert '"mlflow.workflowType"' in bundle  # the stored choice it falls back to
