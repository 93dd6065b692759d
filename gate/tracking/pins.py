"""A release manager's pin: the baseline chosen for a branch, kept as an experiment tag. Pure."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Pin:
    """A release manager's choice of baseline for one branch, kept as an experiment tag."""

    run_id: str
    pinned_by: str | None = None
    pinned_at: str | None = None  # ISO 8601, UTC
    note: str | None = None

    def encode(self) -> str:
        return json.dumps({k: v for k, v in asdict(self).items() if v is not None}, sort_keys=True)

    @classmethod
    def decode(cls, value: str) -> Pin | None:
        try:
            data = json.loads(value)
        except ValueError:
            data = {"run_id": value}  # a bare run id set by hand in the MLflow UI
        if not isinstance(data, dict) or not isinstance(data.get("run_id"), str) or not data["run_id"].strip():
            return None
        return cls(
            run_id=data["run_id"].strip(),
            pinned_by=data.get("pinned_by"),
            pinned_at=data.get("pinned_at"),
            note=data.get("note"),
        )
