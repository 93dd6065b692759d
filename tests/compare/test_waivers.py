"""Waivers: who may accept a regression, for which checks, until when, and never an error. Pure."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from gate.compare.model import Check, Decision
from gate.compare.waivers import Applied, Labeller, PullFacts, apply, reason_in, trusted
from gate.config.budget import WaiverRule

LABEL = "green-gate/accept-regression"
RULE = WaiverRule(label=LABEL, permission="maintain", logins=("release-bot",), teams=("acme/release",))
TODAY = date(2026, 12, 2)
BODY = "Bigger model.\n\ngreen-gate-waiver: +8% is the price of the new model\n"
RELATIVE = Check("energy_per_prediction_j", "relative", "fail", 0.108, 0.1, 8.0, "fail > +5%", "+8.0% exceeds")
ABSOLUTE = Check("energy_kwh", "absolute", "fail", 0.002, limit="fail > 0.001", reason="over budget")
QUALITY = Check("accuracy", "quality", "fail", 0.9, limit="≥ 0.95", reason="below the floor")


def facts(login: str = "alice", permission: str | None = "maintain", body: str = BODY, **kw: object) -> PullFacts:
    return PullFacts((LABEL, "bug"), {LABEL: Labeller(login, permission, tuple(kw.get("teams", ())))}, body)  # type: ignore[arg-type]


def test_a_trusted_label_with_a_reason_waives_a_relative_regression() -> None:
    decision, applied = apply(Decision("fail", (RELATIVE,)), (RULE,), facts(), TODAY)
    assert decision.verdict == "pass"
    (check,) = decision.checks
    assert (check.status, check.waived) == ("fail", "waived by @alice: +8% is the price of the new model")
    assert applied is not None and (applied.label, applied.login, applied.metrics) == (
        LABEL,
        "alice",
        ("energy_per_prediction_j",),
    )
    assert decision.notes[-1].startswith(f"Label `{LABEL}` added by @alice waives energy_per_prediction_j")


def test_absolute_budgets_are_waived_only_when_the_rule_says_all_and_quality_never() -> None:
    checks = (RELATIVE, ABSOLUTE, QUALITY)
    relative_only, _ = apply(Decision("fail", checks), (RULE,), facts(), TODAY)
    everything, _ = apply(
        Decision("fail", checks), (WaiverRule(LABEL, checks="all", permission="write"),), facts(), TODAY
    )
    assert [c.waived is not None for c in relative_only.checks] == [True, False, False]
    assert relative_only.verdict == "fail"
    assert [c.waived is not None for c in everything.checks] == [True, True, False]
    assert everything.verdict == "fail"  # the quality floor still fails


def test_an_error_verdict_is_never_waived() -> None:
    decision = Decision("error", (RELATIVE,))
    assert apply(decision, (RULE,), facts(), TODAY) == (decision, None)


@pytest.mark.parametrize(
    ("rule", "pull", "why"),
    [
        (WaiverRule(LABEL, permission="write", expires=date(2026, 12, 1)), facts(), "it expired on 2026-12-01"),
        (RULE, facts(permission="write"), "@alice, who added it, is not one whose label counts"),
        (RULE, facts(body="no reason here"), "the PR body has no `green-gate-waiver: <reason>` line"),
        (RULE, PullFacts((LABEL,), {}, BODY), "GitHub does not say who added the label"),
    ],
)
def test_a_waiver_that_does_not_hold_says_why_and_changes_nothing(rule: WaiverRule, pull: PullFacts, why: str) -> None:
    decision, applied = apply(Decision("fail", (RELATIVE,)), (rule,), pull, TODAY)
    assert applied is None and decision.verdict == "fail" and decision.checks == (RELATIVE,)
    assert decision.notes == (f"Label `{LABEL}` does not waive: {why}.",)


def test_the_last_day_still_counts_and_a_missing_label_is_silent() -> None:
    on_the_day = WaiverRule(LABEL, permission="write", expires=TODAY)
    assert apply(Decision("fail", (RELATIVE,)), (on_the_day,), facts(), TODAY)[0].verdict == "pass"
    unlabelled = PullFacts(("bug",), {}, BODY)
    assert apply(Decision("warn", (RELATIVE,)), (RULE,), unlabelled, TODAY) == (Decision("warn", (RELATIVE,)), None)


def test_whose_label_counts() -> None:
    assert trusted(RULE, Labeller("Release-Bot"))  # logins compare as GitHub does, without case
    assert trusted(RULE, Labeller("carol", teams=("acme/release",)))
    assert trusted(RULE, Labeller("dave", "admin")) and not trusted(RULE, Labeller("erin", "triage"))
    assert not trusted(RULE, Labeller("frank", "none"))


def test_the_reason_is_one_line_of_the_body_cut_to_a_readable_length() -> None:
    assert reason_in("x\r\n  Green-Gate-Waiver:   needed   for v2 \r\nmore") == "needed for v2"
    assert reason_in("green-gate-waiver:   ") is None and reason_in("") is None
    long = reason_in("green-gate-waiver: " + "a" * 500)
    assert long is not None and len(long) == 300 and long.endswith("…")


WARN_ABSOLUTE = Check("energy_j", "absolute", "warn", 60.0, limit="warn > 50 J", reason="over the warning level")
PASSED = Check("duration_s", "relative", "pass", 1.0, 1.0, 0.0, "fail > +5%", "within the limit")
STILL_FAILING = Check("emissions_g", "absolute", "fail", 2.0, limit="fail > 1 gCO2eq", reason="over budget")


@pytest.mark.parametrize(
    ("left", "verdict"),
    [((WARN_ABSOLUTE,), "warn"), ((WARN_ABSOLUTE, STILL_FAILING), "fail"), ((STILL_FAILING, WARN_ABSOLUTE), "fail")],
)
def test_the_verdict_after_a_waiver_is_the_worst_check_left(left: tuple[Check, ...], verdict: str) -> None:
    decision, applied = apply(Decision("fail", (RELATIVE, *left)), (RULE,), facts(), TODAY)
    assert applied is not None and applied.metrics == ("energy_per_prediction_j",)
    assert decision.verdict == verdict


def test_a_passing_or_already_waived_check_is_not_waived() -> None:
    waived_before = Check("energy_j", "relative", "warn", 1.0, waived="waived by @bob: known")
    decision, applied = apply(Decision("fail", (PASSED, waived_before, RELATIVE)), (RULE,), facts(), TODAY)
    assert applied is not None and applied.metrics == ("energy_per_prediction_j",)
    assert [c.waived for c in decision.checks] == [
        None,
        "waived by @bob: known",
        "waived by @alice: +8% is the price of the new model",
    ]


def test_a_label_with_nothing_it_may_waive_is_silent() -> None:
    decision = Decision("fail", (QUALITY,))
    result, applied = apply(decision, (RULE,), facts(), TODAY)
    assert applied is None and result is decision  # not a copy: nothing to say


def test_a_reason_of_exactly_the_maximum_length_is_kept_whole() -> None:
    assert reason_in("green-gate-waiver: " + "a" * 300) == "a" * 300


@pytest.mark.parametrize(
    "value",
    [Labeller("alice"), PullFacts((), {}, ""), Applied(LABEL, "alice", "why", ())],
    ids=["labeller", "pull", "applied"],
)
def test_waiver_values_are_frozen(value: object) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        value.login = "mallory"  # type: ignore[attr-defined]


def test_a_warned_relative_limit_is_waived_too() -> None:
    warned = dataclasses.replace(RELATIVE, status="warn")
    decision, applied = apply(Decision("warn", (warned,)), (RULE,), facts(), TODAY)
    assert applied is not None and applied.metrics == ("energy_per_prediction_j",)
    assert decision.verdict == "pass"
