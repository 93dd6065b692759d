"""Waivers: a PR label by someone the budget trusts accepts a known regression on purpose. Pure.

A waiver applies to relative limits (or to absolute budgets too, `checks: all`) that warned or
failed; never to a quality rule, a rule that could not be judged, or a benchmark that failed: those
have no Decision to waive, or keep the error verdict. It needs a reason in the PR body, a line
`green-gate-waiver: <reason>`, and stops applying after its expiry date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date

from gate.compare.model import Check, Decision, Verdict
from gate.config.budget import PERMISSIONS, WaiverRule

REASON_PREFIX = "green-gate-waiver:"
MAX_REASON_CHARS = 300
_REASON_LINE = re.compile(rf"^\s*{re.escape(REASON_PREFIX)}\s*(?P<reason>\S.*?)\s*$", re.IGNORECASE | re.MULTILINE)
_RANK: dict[Verdict, int] = {"pass": 0, "warn": 1, "fail": 2, "error": 3}


@dataclass(frozen=True)
class Labeller:
    """Who added a label to the PR, and what GitHub says about them (as far as the rule asked)."""

    login: str
    permission: str | None = None
    teams: tuple[str, ...] = ()  # of the rule's teams, those the user is an active member of


@dataclass(frozen=True)
class PullFacts:
    """What the PR shows: its labels, who added each, and its body."""

    labels: tuple[str, ...]
    labellers: dict[str, Labeller]  # label -> who added it last
    body: str


@dataclass(frozen=True)
class Applied:
    label: str
    login: str
    reason: str
    metrics: tuple[str, ...]

    def describe(self) -> str:
        return f"waived by @{self.login}: {self.reason}"


def reason_in(body: str) -> str | None:
    """The reason the PR body gives on a `green-gate-waiver:` line, cut to a readable length."""
    match = _REASON_LINE.search(body or "")
    if match is None:
        return None
    reason = " ".join(match.group("reason").split())
    return reason if len(reason) <= MAX_REASON_CHARS else reason[: MAX_REASON_CHARS - 1] + "…"


def trusted(rule: WaiverRule, who: Labeller) -> bool:
    """Whether the label's author is one whose label counts under `rule`."""
    if who.login.lower() in {login.lower() for login in rule.logins}:
        return True
    if set(who.teams) & set(rule.teams):
        return True
    if rule.permission is not None and who.permission in PERMISSIONS:
        return PERMISSIONS.index(who.permission) >= PERMISSIONS.index(rule.permission)
    return False


def waivable(check: Check, rule: WaiverRule) -> bool:
    if check.status not in ("warn", "fail") or check.waived is not None:
        return False
    return check.rule == "relative" or (rule.checks == "all" and check.rule == "absolute")


def apply(
    decision: Decision, rules: tuple[WaiverRule, ...], facts: PullFacts | None, today: date
) -> tuple[Decision, Applied | None]:
    """`decision` with the first applicable waiver applied, and what it waived (None: nothing).

    The verdict is recomputed over the checks not waived; an error verdict stays an error.
    """
    if facts is None or not rules or decision.verdict == "error":
        return decision, None
    notes: list[str] = []
    for rule in rules:
        if rule.label not in facts.labels:
            continue
        targets = [c for c in decision.checks if waivable(c, rule)]
        if not targets:
            continue
        who = facts.labellers.get(rule.label)
        reason = reason_in(facts.body)
        problem = None
        if rule.expires is not None and today > rule.expires:
            problem = f"it expired on {rule.expires.isoformat()}"
        elif who is None:
            problem = "GitHub does not say who added the label"
        elif not trusted(rule, who):
            problem = f"@{who.login}, who added it, is not one whose label counts"
        elif reason is None:
            problem = f"the PR body has no `{REASON_PREFIX} <reason>` line"
        if problem is not None:
            notes.append(f"Label `{rule.label}` does not waive: {problem}.")
            continue
        assert who is not None and reason is not None
        applied = Applied(rule.label, who.login, reason, tuple(c.metric for c in targets))
        checks = tuple(replace(c, waived=applied.describe()) if c in targets else c for c in decision.checks)
        notes.append(f"Label `{rule.label}` added by @{who.login} waives {', '.join(applied.metrics)}: {reason}")
        return (
            replace(decision, verdict=_verdict(checks), checks=checks, notes=(*decision.notes, *notes)),
            applied,
        )
    return (replace(decision, notes=(*decision.notes, *notes)) if notes else decision), None


def _verdict(checks: tuple[Check, ...]) -> Verdict:
    verdict: Verdict = "pass"
    for check in checks:
        if check.waived is None and check.status in ("warn", "fail") and _RANK[check.status] > _RANK[verdict]:
            verdict = check.status
    return verdict
