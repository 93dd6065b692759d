"""The comparison's plain values: frozen, with the defaults a check and a decision start from."""

from __future__ import annotations

import dataclasses

import pytest

from gate.compare.model import Baseline, Check, Decision


def test_a_decision_starts_without_notes_and_a_check_judged_conclusive() -> None:
    assert Decision("pass", ()).notes == ()
    check = Check("energy_j", "absolute", "pass", 1.0)
    assert (check.inconclusive, check.waived, check.interval_pct, check.method) == (False, None, None, None)


@pytest.mark.parametrize(
    "value",
    [
        Baseline("a" * 32, {}, None, None, 0),
        Check("energy_j", "absolute", "pass", 1.0),
        Decision("pass", ()),
    ],
    ids=["baseline", "check", "decision"],
)
def test_comparison_values_are_frozen(value: object) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        value.verdict = "fail"  # type: ignore[attr-defined]
