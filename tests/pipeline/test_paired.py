"""Auto mode: when the history comparison cannot settle a change and the check measures paired."""

from __future__ import annotations

import pytest

from gate.compare.model import Baseline, Check, Decision
from gate.config.budget import Level, Rules
from gate.pipeline.paired import auto_reason

RULES = Rules(limits_pct={"energy_per_prediction_j": Level(warn=2.0, fail=5.0)})
BASE = Baseline("a" * 32, {"energy_per_prediction_j": 1.0}, "c0ffee0", "main", 0, per_repeat={"x": (1.0, 1.0)})


def relative(status: str, interval: tuple[float, float] | None, method: str) -> Decision:
    check = Check("energy_per_prediction_j", "relative", status, 1.0, 1.0, 0.0, interval_pct=interval, method=method)  # type: ignore[arg-type]
    return Decision(status, (check,))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("baseline", "decision", "differences", "reason"),
    [
        (None, None, (), "no baseline run in history"),
        (BASE, relative("pass", None, "point"), (), "the baseline run has no per-repeat values"),
        (
            BASE,
            relative("pass", (-1.0, 1.0), "welch-log"),
            ("GPU count: 2 vs 1",),
            "the baseline ran on other hardware (GPU count: 2 vs 1)",
        ),
        (
            BASE,
            relative("warn", (3.0, 7.0), "welch-log"),
            (),
            "energy_per_prediction_j: the interval [+3.0%, +7.0%] straddles the +5% limit",
        ),
        (BASE, relative("pass", (-1.0, 1.5), "welch-log"), (), None),  # settled: within every limit
        (BASE, relative("fail", (6.0, 9.0), "welch-log"), (), None),  # settled: beyond the fail limit
    ],
)
def test_auto_mode_pairs_only_when_history_is_inconclusive(
    baseline: Baseline | None, decision: Decision | None, differences: tuple[str, ...], reason: str | None
) -> None:
    assert auto_reason(baseline, decision, RULES, differences) == reason
    assert auto_reason(baseline, decision, Rules(), differences) is None  # nothing relative to decide


def test_an_inconclusive_history_check_is_measured_paired() -> None:
    # -40% ± 20%: wholly below every limit, yet too wide to judge a +5% limit.
    check = Check(
        "energy_per_prediction_j", "relative", "warn", 1.0, 1.0, -40.0, interval_pct=(-60.0, -20.0), inconclusive=True
    )
    reason = auto_reason(BASE, Decision("warn", (check,)), RULES, ())
    assert reason == "energy_per_prediction_j: the interval is wider than the limit (too noisy to judge)"
