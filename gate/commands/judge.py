"""`green-gate judge --artifact DIR`: the judging half of a two-half check.

Runs in a `workflow_run` job of the base repository, after the pull request's measuring job
(`green-gate measure`), with the credentials that job never had. It runs none of the pull request's
code. It checks that the artifact belongs to the triggering run (its run id and head commit, and
that the pull request's head on GitHub is that commit), judges with the budget of its own checkout
(the base branch's, not the pull request's), fetches the baseline from MLflow, decides, records,
and publishes: the sticky comment and a check run on the pull request's head commit, which branch
protection can require. A fail verdict fails the job (exit 1).

The stages are those of `green-gate check` (gate.commands.check.judged): only the measurement
comes from elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from gate import console
from gate.commands.check import judged
from gate.config import changes
from gate.config.budget import Budget
from gate.config.load import load_budget
from gate.errors import ConfigError, GateError
from gate.github import workflow_run
from gate.github.context import CiContext
from gate.output import measurement as artifact
from gate.output.result import local_result_path
from gate.pipeline import baseline, plan, publish, waive
from gate.pipeline.measure import Measurement
from gate.pipeline.plan import CheckOptions, Plan, Survey
from gate.pipeline.publish import Snapshot

HINT = "download the artifact of the run that triggered this job (actions/download-artifact with its run-id)"


@dataclass(frozen=True)
class JudgeOptions:
    artifact_dir: Path
    budget_path: Path  # in this job's checkout: the base branch's
    benchmarks: tuple[str, ...] = ()
    json_path: Path | None = None
    report_path: Path | None = None
    record: bool = True
    comment: bool = True
    comment_template: Path | None = None
    check_run: bool = True


def run(opts: JudgeOptions, *, env: Mapping[str, str], cwd: Path, log: Callable[[str], None] | None = None) -> int:
    log = log or console.log
    check_opts = CheckOptions(
        budget_path=opts.budget_path,
        benchmarks=opts.benchmarks,
        json_path=opts.json_path,
        report_path=opts.report_path,
        record=opts.record,
        comment=opts.comment,
        comment_template=opts.comment_template,
        check_run=opts.check_run,
    )
    seen = Snapshot(check_opts)
    try:
        trigger = workflow_run.read(env)
        measured = artifact.load(opts.artifact_dir)
        verify(measured, trigger)
        budget = load_budget(opts.budget_path)  # this checkout's: the pull request cannot loosen it
        found = plan.check_secrets(budget, env)
        context = pull_request_context(trigger, measured, env)
        the_plan = _plan(check_opts, budget, measured, context, found, env, cwd, log)
        seen = replace(seen.surveyed(the_plan.survey).planned(the_plan), result_path=the_plan.result_path)
        log(
            f"judging run {trigger.run_id}, commit {trigger.head_sha[:12]} of PR #{context.pr_number}, "
            f"with {opts.budget_path}"
        )
        tracking = baseline.Tracking(the_plan.tracking_uri)
        gathered = waive.gather(the_plan, env, log)
        for spec in the_plan.benchmarks:
            job = plan.job(the_plan, spec)
            outcome = judged(job, _measurement(measured, spec.name), tracking, log, gathered)
            seen = seen.adding(outcome)
            publish.save(seen)
        return publish.finish(seen, env, cwd, log)
    except GateError as exc:
        return publish.failure(seen, exc, env, log)


def verify(measured: artifact.Artifact, trigger: workflow_run.TriggeringRun) -> None:
    """The artifact is the triggering run's, about its head commit. Raises ConfigError (exit 2)."""
    prov = measured.provenance
    if trigger.event not in ("pull_request", None):
        raise ConfigError(f"the triggering run was a {trigger.event} run, not a pull request's: nothing to judge")
    mismatches = [
        f"{what}: the artifact says {mine!r}, the triggering run {theirs!r}"
        for what, mine, theirs in (
            ("run id", prov.run_id, trigger.run_id),
            ("head commit", prov.head_sha, trigger.head_sha),
            ("repository", prov.repository, trigger.repository or prov.repository),
            ("run attempt", prov.run_attempt, trigger.run_attempt or prov.run_attempt),
        )
        if mine != theirs
    ]
    if mismatches:
        raise ConfigError(
            "the measurement does not belong to the run that triggered this job: " + "; ".join(mismatches), hint=HINT
        )


def pull_request_context(
    trigger: workflow_run.TriggeringRun, measured: artifact.Artifact, env: Mapping[str, str]
) -> CiContext:
    """The pull request the triggering run measured, as GitHub says it is now: its head must be the
    run's head commit. A fork's run names no pull request, so the artifact's claim is checked."""
    repository = env.get("GITHUB_REPOSITORY") or trigger.repository
    token = env.get("GITHUB_TOKEN", "")
    if not repository or not token:
        raise ConfigError(
            "GITHUB_TOKEN and GITHUB_REPOSITORY are needed to check which pull request this is",
            hint="give the step `GITHUB_TOKEN: ${{ github.token }}`, and the job `permissions: pull-requests: write` "
            "and `checks: write`",
        )
    numbers = [p.number for p in trigger.pull_requests if p.head_sha in (None, trigger.head_sha)]
    if measured.provenance.pr_number is not None:
        numbers.append(measured.provenance.pr_number)
    if not numbers:
        raise ConfigError("neither the triggering run nor the artifact names a pull request", hint=HINT)
    from gate.github.api import GitHubApi, api_url

    api = GitHubApi(token, base_url=api_url(env))
    number = numbers[0]
    pull = api.get_pull(repository, number)
    head = _dig(pull, "head", "sha")
    if head != trigger.head_sha:
        raise ConfigError(
            f"PR #{number}'s head is {str(head)[:12]}, the measured commit {trigger.head_sha[:12]}: the PR "
            "moved on since (its newer run is judged in turn) or the artifact names another PR",
            hint=HINT,
        )
    return CiContext(
        commit=trigger.head_sha,
        branch=_dig(pull, "head", "ref") or trigger.head_branch,
        base_branch=_dig(pull, "base", "ref"),
        pr_number=number,
        repository=repository,
        event_name="pull_request",
        run_url=trigger.html_url,
        base_commit=_dig(pull, "base", "sha"),
    )


def budget_notes(budget: Budget, measured: artifact.Artifact) -> tuple[str, ...]:
    """What the pull request changed in the budget it measured with, against the one that judges."""
    import yaml

    try:
        base_text = budget.path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ()
    if artifact.budget_sha256(base_text) == measured.provenance.budget_sha256:
        return ()
    try:
        pull_data: Any = yaml.safe_load(measured.budget_text)
        base_data: Any = yaml.safe_load(base_text)
    except (yaml.YAMLError, RecursionError, ValueError):
        return (
            f"This pull request changes {measured.provenance.budget_file} (it cannot be read to say how). "
            "It was judged with the base branch's budget.",
        )
    found = changes.changed_keys(base_data, pull_data)
    return (changes.describe(found, measured.provenance.budget_file),) if found else ()


def _plan(
    opts: CheckOptions,
    budget: Budget,
    measured: artifact.Artifact,
    context: CiContext,
    found: Any,
    env: Mapping[str, str],
    cwd: Path,
    log: Callable[[str], None],
) -> Plan:
    from gate.tracking import credentials

    for warning in budget.warnings:
        log(f"warning: {warning}")
    chosen = [budget.benchmark(name) for name in opts.benchmarks] if opts.benchmarks else list(budget.benchmarks)
    specs = []
    for spec in chosen:
        mine = measured.benchmark(spec.name)
        if mine is not None and mine.summary is not None:  # the repeats that ran, as the record says
            spec = replace(spec, repeats=mine.summary.repeats, repeats_max=None)
        specs.append(spec)
    prov = measured.provenance
    notes = (
        f"Measured in the pull request's run {prov.run_id} (commit {str(prov.head_sha)[:12]}) without credentials; "
        f"judged with {opts.budget_path} of the base repository.",
        *measured.notes,
        *budget_notes(budget, measured),
    )
    survey = Survey(opts, budget, tuple(specs), context, measured.hardware, (), found)
    intensity = next((b.summary.intensity for b in measured.benchmarks if b.summary and b.summary.intensity), None)
    return Plan(
        survey,
        intensity,
        credentials.resolve_tracking_uri(env, cwd),
        context.repository,
        local_result_path(cwd),
        notes,
        cwd,
        env.get("GITHUB_SERVER_URL", "https://github.com"),
    )


def _measurement(measured: artifact.Artifact, name: str) -> Measurement:
    mine = measured.benchmark(name)
    if mine is None:
        why = (
            "the measuring job stopped before it"
            if not measured.complete
            else "the measuring job has no benchmark of that name: the pull request's budget renamed or removed it"
        )
        return Measurement(None, f"not measured: {why}")
    return Measurement(mine.summary, mine.error, mine.output_tail, mine.notes, baseline=mine.baseline, base=mine.base)


def _dig(data: Any, *keys: str) -> str | None:
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data if isinstance(data, str) and data else None
