"""Repeats a throttled GPU or a tenant disturbed are left out of relative limits on both sides alike."""

from __future__ import annotations

from dataclasses import replace

import pytest

from gate.compare.verdict import evaluate, keep_measuring, undisturbed
from gate.config.budget import Level, Outcome, Rules
from gate.devices.conditions import DISTURBED
from gate.energy.model import RunSummary
from tests.helpers import baseline, summary

RULES = Rules(limits_pct={"energy_j": Level(warn=2.0, fail=5.0)})
A = (1.0, 1.1, 1.2, 1.3)
B = (2.0, 2.1, 2.2, 2.3)


def test_flagged_repeats_go_from_their_own_side() -> None:
    assert undisturbed(A, B, (0, 1, 0, 0), (0, 0, 0, 1), paired=False) == (
        (1.0, 1.2, 1.3),
        (2.0, 2.1, 2.2),
        "left out this run's repeat(s) 2 and the baseline's repeat(s) 4: a throttled GPU or another process on it "
        "disturbed them.",
    )


def test_in_pairs_a_pair_goes_when_either_side_was_disturbed() -> None:
    kept = undisturbed(A, B, (0, 1, 0, 0), (0, 0, 0, 1), paired=True)
    assert not isinstance(kept, str) and kept[:2] == ((1.0, 1.2), (2.0, 2.2))


def test_no_flags_or_flags_of_another_length_leave_the_series_as_they_are() -> None:
    assert undisturbed(A, B, (), (), paired=False) == (A, B, None)
    assert undisturbed(A, B, (1.0,), (0.0, 0.0), paired=False) == (A, B, None)


def test_too_few_undisturbed_repeats_cannot_be_judged() -> None:
    why = undisturbed(A, B, (1, 1, 1, 0), (0, 0, 0, 0), paired=False)
    assert (
        why == "a throttled GPU or another process on it disturbed this run's repeat(s) 1, 2, 3, too many to leave out"
    )


@pytest.mark.parametrize(("policy", "status", "verdict"), [("fail", "warn", "warn"), ("pass", "skip", "pass")])
def test_a_run_disturbed_throughout_is_not_comparable_never_a_fail(policy: Outcome, status: str, verdict: str) -> None:
    current = summary([150.0, 151.0, 149.0])
    current = replace(current, per_repeat={**current.per_repeat, DISTURBED: (1.0, 1.0, 0.0)})
    base = summary([100.0, 100.5, 99.5])
    decision = evaluate(
        current, replace(baseline(**base.metrics), per_repeat=base.per_repeat), RULES, not_comparable=policy
    )
    (check,) = decision.checks
    assert (check.status, decision.verdict, check.change_pct) == (status, verdict, None)
    assert check.reason.startswith("not comparable: a throttled GPU or another process on it disturbed this run's")


def test_a_disturbed_repeat_left_out_is_named_in_the_notes_and_the_rest_decide() -> None:
    current = summary([101.0, 180.0, 100.5, 101.5, 100.0])
    current = replace(current, per_repeat={**current.per_repeat, DISTURBED: (0.0, 1.0, 0.0, 0.0, 0.0)})
    base = summary([100.0, 100.5, 99.5, 100.2, 99.8])
    decision = evaluate(current, replace(baseline(**base.metrics), per_repeat=base.per_repeat), RULES)
    (check,) = decision.checks
    assert (check.status, decision.verdict) == ("pass", "pass")
    assert decision.notes == (
        "energy_j: left out this run's repeat(s) 2: a throttled GPU or another process on it disturbed them.",
    )


def _flagged(energies_j: list[float], flags: tuple[float, ...]) -> RunSummary:
    run = summary(energies_j)
    return replace(run, per_repeat={**run.per_repeat, DISTURBED: flags})


def test_adaptive_repeats_stop_at_max_even_when_too_few_were_undisturbed() -> None:
    now = _flagged([150.0, 151.0, 149.0], (1.0, 1.0, 0.0))
    base = summary([100.0, 100.5, 99.5])
    history = replace(baseline(**base.metrics), per_repeat=base.per_repeat)
    assert keep_measuring(now, history, RULES, 0.95, {}, 3, 3, 6) == (True, "below min")
    assert keep_measuring(now, history, RULES, 0.95, {}, 3, 3, 3) == (False, "max reached")


def test_a_paired_base_disturbed_throughout_leaves_the_run_undecided_not_below_min() -> None:
    now = summary([150.0, 151.0, 149.0, 150.5, 149.5])
    base = _flagged([100.0, 100.5, 99.5, 100.2, 99.8], (1.0, 1.0, 1.0, 1.0, 0.0))
    paired = replace(baseline(**base.metrics), per_repeat=base.per_repeat, paired=True)
    assert keep_measuring(now, paired, RULES, 0.95, {}, 5, 3, 10) == (True, "undecided")
    assert keep_measuring(now, paired, RULES, 0.95, {}, 10, 3, 10) == (False, "max reached")


def test_a_paired_base_s_extra_repeats_do_not_count_toward_min() -> None:
    now = summary([150.0, 151.0, 149.0])
    base = summary([100.0, 100.5, 99.5, 100.2, 99.8, 100.1])
    paired = replace(baseline(**base.metrics), per_repeat=base.per_repeat, paired=True)
    assert keep_measuring(now, paired, RULES, 0.95, {}, 3, 4, 10) == (True, "below min")


def test_a_disturbed_repeat_beside_a_longer_paired_base_counts_toward_min_on_this_run_s_side() -> None:
    now = _flagged([150.0, 151.0, 149.0, 150.5], (0.0, 1.0, 0.0, 0.0))
    base = summary([100.0, 100.5, 99.5, 100.2, 99.8, 100.1])
    paired = replace(baseline(**base.metrics), per_repeat=base.per_repeat, paired=True)
    assert keep_measuring(now, paired, RULES, 0.95, {}, 4, 4, 10) == (True, "below min")
    one_more = _flagged([150.0, 151.0, 149.0, 150.5, 150.2], (0.0, 1.0, 0.0, 0.0, 0.0))
    assert keep_measuring(one_more, paired, RULES, 0.95, {}, 5, 4, 10) == (False, "decided")
