"""Waive stage: the budget's waivers applied to a decision, with what GitHub says about the PR.

`gather` asks GitHub once per check (the PR's labels and body, who added each waiver label, and
whatever the matching rule needs to know about that person); `waive` applies the pure policy in
gate.compare.waivers to each benchmark's decision. Without a PR, a token or an answer from GitHub
nothing is waived, and the note says why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from gate.compare import waivers
from gate.compare.model import Decision
from gate.compare.waivers import Applied, Labeller, PullFacts
from gate.errors import GitHubError
from gate.pipeline.plan import Plan


@dataclass(frozen=True)
class Gathered:
    facts: PullFacts | None
    note: str | None = None  # why there are no facts, when the PR carries a waiver label


NOTHING_GATHERED = Gathered(None)


def gather(plan: Plan, env: Mapping[str, str], log: Callable[[str], None]) -> Gathered:
    rules = plan.budget.waivers
    context = plan.context
    if not rules or context.pr_number is None or not context.repository:
        return Gathered(None)
    token = env.get("GITHUB_TOKEN", "")
    if not token:
        return Gathered(None, "Waivers not checked: GITHUB_TOKEN is not set.")
    from gate.github.api import GitHubApi, api_url

    api = GitHubApi(token, base_url=api_url(env))
    repository, number = context.repository, context.pr_number
    try:
        pull = api.get_pull(repository, number)
        labels = tuple(str(label.get("name")) for label in pull.get("labels") or [] if isinstance(label, dict))
        wanted = {rule.label for rule in rules} & set(labels)
        if not wanted:
            return Gathered(PullFacts(labels, {}, str(pull.get("body") or "")))
        last_by: dict[str, str] = {}
        for event in api.list_label_events(repository, number):
            if event.label in wanted:
                last_by[event.label] = event.login
        labellers = {}
        for rule in rules:
            login = last_by.get(rule.label)
            if login is None or rule.label in labellers:
                continue
            permission = api.collaborator_permission(repository, login) if rule.permission else None
            teams = tuple(team for team in rule.teams if api.is_team_member(team, login))
            labellers[rule.label] = Labeller(login, permission, teams)
    except GitHubError as exc:
        log(f"warning: waivers not checked: {exc.render()}")
        return Gathered(None, f"Waivers not checked: GitHub did not answer ({exc.message}).")
    return Gathered(PullFacts(labels, labellers, str(pull.get("body") or "")))


def waive(decision: Decision | None, plan: Plan, gathered: Gathered) -> tuple[Decision | None, Applied | None]:
    """`decision` with a waiver applied where one holds; a failed benchmark (None) has nothing to waive."""
    if decision is None:
        return None, None
    today = datetime.now(UTC).date()
    waived, applied = waivers.apply(decision, plan.budget.waivers, gathered.facts, today)
    if gathered.note and any(c.status in ("warn", "fail") for c in decision.checks):
        waived = replace(waived, notes=(*waived.notes, gathered.note))
    return waived, applied
