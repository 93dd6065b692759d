"""The result document printed on stderr when its file cannot be written is redacted and strict JSON,
like the file it stands in for."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from gate import secrets
from gate.pipeline import publish

TOKEN = "ghp_rescueplanted0123456789"


def test_the_rescue_line_is_redacted_and_has_no_bare_nan(capsys: pytest.CaptureFixture[str]) -> None:
    secrets.activate(secrets.Secrets.from_env({"GITHUB_TOKEN": TOKEN}))
    try:
        publish._rescue({"notes": [f"branch feat/{TOKEN}"], "metrics": {"energy_j": math.nan}}, lambda _: None)
    finally:
        secrets.activate(None)
    line = capsys.readouterr().err.strip()

    def refuse(constant: str) -> Any:
        raise AssertionError(f"bare {constant}")

    document = json.loads(line, parse_constant=refuse)
    assert TOKEN not in line and document["notes"] == ["branch feat/***"]
    assert document["metrics"] == {"energy_j": None}
