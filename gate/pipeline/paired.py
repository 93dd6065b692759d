"""Paired and auto comparison modes in a check.

`paired`: the base commit and this one run alternately in this job (gate.bench.paired), and the
verdict compares the two. `auto`: the history comparison first; when it cannot settle the
question (no baseline, other hardware, medians only, an interval straddling a limit, a runner whose
conditions differ from the baseline's), or when it would fail the build, the same paired
measurement, whose verdict then replaces the history one: nothing fails on history alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from gate import console, git
from gate.bench import paired as alternate
from gate.bench.runner import BenchmarkFailed
from gate.compare.model import Baseline, Check, Decision
from gate.compare.verdict import CONDITIONS_NOT_COMPARABLE
from gate.config.budget import Rules
from gate.devices import conditions
from gate.energy.meter import EnergyMeter
from gate.energy.summary import phase_figures
from gate.pipeline.adaptive import AdaptiveRun, Stopping
from gate.pipeline.baseline import Lookup
from gate.pipeline.decide import decide, hardware_differences
from gate.pipeline.measure import Measurement, missing_inputs, thermal_control
from gate.pipeline.plan import Job


@dataclass(frozen=True)
class NotPaired:
    """Auto mode could not pair: the history comparison stands, with these notes."""

    notes: tuple[str, ...]


def auto_reason(
    baseline: Baseline | None, decision: Decision | None, rules: Rules, hardware_differences: tuple[str, ...]
) -> str | None:
    """Why `mode: auto` should measure paired after the history comparison; None when history settled it."""
    if not rules.limits_pct:
        return None
    if baseline is None:
        return "no baseline run in history"
    if hardware_differences:
        return "the baseline ran on other hardware (" + "; ".join(hardware_differences) + ")"
    if decision is None:
        return None
    confirm = confirm_reason(decision)
    if confirm is not None:
        return confirm
    for check in decision.checks:
        if check.rule != "relative":
            continue
        if check.method == "point":
            return "the baseline run has no per-repeat values"
        level = rules.limits_pct.get(check.metric)
        if check.inconclusive:
            return f"{check.metric}: the interval is wider than the limit (too noisy to judge)"
        if check.interval_pct is None or level is None:
            continue
        low, high = check.interval_pct
        for limit in (level.warn, level.fail):
            if limit is not None and low <= limit < high:
                return f"{check.metric}: the interval [{low:+.1f}%, {high:+.1f}%] straddles the +{limit:g}% limit"
    return None


def confirm_reason(decision: Decision) -> str | None:
    """A history verdict that would fail the build, or that could not compare because the runner's
    conditions differed: confirmed by base and PR measured alternately under the same conditions."""
    for check in decision.checks:
        if check.rule != "relative" or check.waived:
            continue
        if check.reason.startswith(CONDITIONS_NOT_COMPARABLE):
            return f"{check.metric}: {check.reason.removeprefix('not comparable: ').split(';')[0]}; confirming paired"
        if check.status == "fail":
            return f"{check.metric}: history says fail ({_said(check)}); confirming paired before failing"
    return None


def _said(check: Check) -> str:
    if check.interval_pct is not None and check.change_pct is not None:
        low, high = check.interval_pct
        return f"{check.change_pct:+.1f}%, interval [{low:+.1f}%, {high:+.1f}%]"
    return f"{check.change_pct:+.1f}%" if check.change_pct is not None else check.reason


def measure_paired(
    job: Job,
    meter: EnergyMeter,
    log: Callable[[str], None],
    on_repeat: Callable[[Measurement], None] | None = None,
) -> Measurement:
    """`mode: paired`: a base that cannot be paired is the check's error (PairedError, exit 2).
    `on_repeat` gets the pairs measured so far after each pair, as a partial result."""
    measured = _measure(job, meter, log, why="comparison.mode: paired", on_repeat=on_repeat)
    assert isinstance(measured, Measurement)  # only auto mode gives up on pairing
    return measured


def auto(
    job: Job, meter: EnergyMeter, measured: Measurement, lookup: Lookup, decision: Decision, log: Callable[[str], None]
) -> tuple[Measurement, Decision]:
    """`mode: auto`, after the history decision: pair when history cannot settle it, and decide on that."""
    hw = job.plan.hardware
    why = auto_reason(lookup.baseline, decision, job.rules, hardware_differences(lookup.baseline, hw))
    if why is None:
        return measured, decision
    result = _measure(job, meter, log, why=f"comparison.mode: auto, {why}")
    if isinstance(result, NotPaired):
        return replace(measured, notes=(*measured.notes, *result.notes)), decision
    combined = replace(result, notes=(*measured.notes, *result.notes))
    redecided = decide(combined, combined.baseline, job.rules, job.plan.budget, hw, lookup.outage)
    return combined, redecided or decision


def _branch_origin(job: Job) -> str:
    """Where the baseline branch came from, for an error that says what was tried."""
    ctx = job.plan.context
    if job.plan.options.base_branch:
        return "--base-branch"
    if job.baseline_rule.branch:
        return "baseline.branch in the budget file"
    if ctx.base_branch:
        return "the PR's base branch"
    if ctx.default_branch:
        return "the repository's default branch"
    return "this branch: no default branch found (no origin/HEAD, main or master)"


def _measure(
    job: Job,
    meter: EnergyMeter,
    log: Callable[[str], None],
    *,
    why: str,
    on_repeat: Callable[[Measurement], None] | None = None,
) -> Measurement | NotPaired:
    """Base and PR alternately. In auto mode, a base that cannot be paired (or that fails to run) is
    NotPaired; in paired mode it is the check's error (no base to pair) or the measurement's."""
    plan, spec = job.plan, job.spec
    auto = plan.budget.comparison.mode == "auto"
    try:
        repo = alternate.repository_root(spec.working_directory)
        base_commit = alternate.resolve_base_commit(
            repo,
            plan.budget.comparison,
            plan.context.base_commit,
            job.baseline_branch,
            candidate=git.output(repo, "rev-parse", "--verify", "--quiet", "HEAD^{commit}"),
            branch_origin=_branch_origin(job),
        )
    except alternate.PairedError as exc:
        if not auto:
            raise
        return NotPaired((f"Paired comparison not run ({why}): {exc.message}.",))
    if plan.context.commit and base_commit.startswith(plan.context.commit):
        if auto:
            return NotPaired((f"Paired comparison not run ({why}): the base is this commit.",))
        raise alternate.PairedError(
            f"paired comparison: the base {base_commit[:12]} is the commit being checked (--commit "
            f"{plan.context.commit}), so it would be paired with itself",
            hint=alternate.PAIRED_HINT,
        )
    log(f"[{spec.name}] paired with base {base_commit[:12]} ({why})")
    thermal = thermal_control(spec)
    notes: list[str] = []
    stopping = Stopping.for_pairs(spec, job.rules, plan.budget.comparison.confidence, plan.intensity)
    with alternate.base_worktree(repo, base_commit) as tree:
        base_spec, fallback = alternate.base_spec(spec, repo, tree, plan.options.budget_path)
        if fallback:
            notes.append(f"Paired comparison: {fallback}.")
        try:
            result = alternate.measure(
                spec,
                base_spec,
                meter,
                plan.intensity,
                base_commit=base_commit,
                echo=console.echo,
                log=log,
                thermal=thermal,
                more=stopping.more_pairs if stopping is not None else None,
                on_pair=(lambda pairs: on_repeat(_measured(job, base_commit, pairs, list(notes), why)))
                if on_repeat is not None
                else None,
            )
        except BenchmarkFailed as exc:
            if auto:
                notes.append(f"Paired comparison failed ({why}): {exc.message}. The history comparison stands.")
                return NotPaired((*notes, *(thermal.notes if thermal else ())))
            kept = exc.pairs if isinstance(exc, alternate.PairedFailed) else None
            notes.extend(thermal.notes if thermal else ())
            if kept is None:
                return Measurement(None, exc.render(), exc.tail, tuple(notes))
            # The pairs measured before the failure stay in the result; the error decides the verdict.
            partial = _measured(job, base_commit, kept, notes, why)
            return replace(partial, error=exc.render(), output_tail=exc.tail)
    notes.extend(thermal.notes if thermal else ())
    adaptive = stopping.result(len(result.order) // 2) if stopping is not None else None
    return replace(_measured(job, base_commit, result, notes, why, adaptive), adaptive=adaptive)


def _measured(
    job: Job,
    base_commit: str,
    result: alternate.PairedResult,
    notes: list[str],
    why: str,
    adaptive: AdaptiveRun | None = None,
) -> Measurement:
    """The pairs as the verdict reads them: the base side as a paired baseline, repeat i with repeat i."""
    plan = job.plan
    notes = list(notes)
    notes.append(
        f"Paired comparison ({why}): base {base_commit[:7]} and this commit ran alternately on this machine, "
        f"{len(result.order) // 2} pairs in the order {' '.join('B' if s == 'base' else 'P' for s in result.order)} "
        "(B base, P this PR)."
    )
    baseline = Baseline(  # the base as the verdict reads it: repeat i pairs with this run's repeat i
        run_id=f"paired:{base_commit[:12]}",
        # Quality too: relative quality rules read it; each case's figures too: per-case limits do.
        metrics={**result.base.quality, **result.base.metrics, **phase_figures(result.base)},
        commit=base_commit,
        branch=job.baseline_branch,
        start_time_ms=0,
        per_repeat={**result.base.per_repeat, **result.base.phase_series},
        paired=True,
        hardware_id=plan.hardware.fingerprint,
        hardware=plan.hardware.to_dict(),
        conditions=conditions.medians(result.base.conditions),
    )
    if adaptive is not None:
        notes.append(adaptive.describe())
    error = missing_inputs(job.rules, result.candidate)
    return Measurement(result.candidate, error, (), tuple(notes), baseline=baseline, base=result.base)
