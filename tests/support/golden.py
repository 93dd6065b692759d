"""Golden files in tests/golden/: `UPDATE_GOLDEN=1 pytest` rewrites them after a deliberate change."""

from __future__ import annotations

import os
from pathlib import Path

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
UPDATE_ENV = "UPDATE_GOLDEN"


def check_golden(name: str, text: str, directory: Path = GOLDEN) -> None:
    """`text` must equal the golden file `name`. Only UPDATE_GOLDEN=1 rewrites it: any other value
    (`0`, `false`, a typo) compares, so a stray setting cannot turn the check into a rewrite."""
    path = directory / name
    if os.environ.get(UPDATE_ENV) == "1":
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing golden file {path}; run with {UPDATE_ENV}=1 once and review it"
    assert text == path.read_text(encoding="utf-8")
