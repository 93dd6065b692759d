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
        (
            BASE,
            relative("fail", (6.0, 9.0), "welch-log"),
            (),
            "energy_per_prediction_j: history says fail (+0.0%, interval [+6.0%, +9.0%]); "
            "confirming paired before failing",
        ),  # beyond the fail limit: confirmed before it fails the build
    ],
)
def test_auto_mode_pairs_when_history_is_inconclusive_or_would_fail(
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


def test_a_check_not_comparable_for_the_runners_conditions_is_measured_paired() -> None:
    check = Check(
        "energy_per_prediction_j",
        "relative",
        "warn",
        1.5,
        1.0,
        None,
        reason="not comparable: the runner was busier than at the baseline (speed index −31%, CPU pressure 92% vs 6%); "
        "the change (+54.8%) is not judged",
    )
    assert auto_reason(BASE, Decision("warn", (check,)), RULES, ()) == (
        "energy_per_prediction_j: the runner was busier than at the baseline (speed index −31%, CPU pressure 92% "
        "vs 6%); confirming paired"
    )


def test_a_waived_failure_is_not_confirmed() -> None:
    check = Check("energy_per_prediction_j", "relative", "fail", 1.1, 1.0, 10.0, interval_pct=(8.0, 12.0), waived="x")
    assert auto_reason(BASE, Decision("fail", (check,)), RULES, ()) is None
