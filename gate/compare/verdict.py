"""Apply a budget's rules to (this run, baseline) and decide. Pure: plain data in, frozen data out."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Literal

from gate.compare import stats
from gate.compare.model import Baseline, Check, Decision, Status, Verdict
from gate.config.budget import ComparisonSpec, Level, Outcome, Rules
from gate.devices.conditions import DISTURBED
from gate.energy.model import METRICS, RunSummary

# Percentage points: a change exactly at a limit is within it, whatever float rounding says.
_AT_LIMIT_TOLERANCE_PCT = 1e-9
_RANK: dict[str, int] = {"skip": 0, "pass": 1, "warn": 2, "fail": 3, "error": 4}


def worst(verdicts: list[Verdict]) -> Verdict:
    return max(verdicts, key=lambda v: _RANK[v], default="pass")


def missing_inputs(rules: Rules, summary: RunSummary) -> list[str]:
    """Rules that cannot be evaluated because the benchmark did not report what they need."""
    problems = []
    needs_metric = set(rules.limits_pct) | set(rules.budgets)
    for metric in sorted(needs_metric):
        if metric not in summary.metrics:
            if metric == "energy_per_prediction_j":
                problems.append(
                    "the budget limits energy_per_prediction_j but the benchmark reported no 'predictions' "
                    "in $GREEN_GATE_METRICS"
                )
            elif metric in ("emissions_g", "grid_intensity_g_per_kwh"):
                problems.append(f"the budget limits {metric} but names no carbon intensity (carbon: in the budget)")
            else:
                problems.append(f"the budget limits {metric} but it was not measured")
    for name in sorted(set(rules.quality_min) | set(rules.quality_max)):
        if name not in summary.quality:
            problems.append(f"the budget holds a floor or ceiling on {name!r} but the benchmark did not report it")
    return problems


def evaluate(
    summary: RunSummary,
    baseline: Baseline | None,
    rules: Rules,
    *,
    missing_baseline: Outcome = "pass",
    comparison: ComparisonSpec | None = None,
    hardware_differences: tuple[str, ...] = (),
    not_comparable: Outcome = "warn",
    inconclusive: Outcome = "warn",
    job_noise: Mapping[str, stats.JobNoise] | None = None,
    conditions_mismatch: str | None = None,
    conditions_matched: bool = False,
) -> Decision:
    """Apply every rule. Relative limits use the repeats of both sides when both have ≥ 2 (see
    gate.compare.stats); `hardware_differences` (baseline vs this run) make them "not comparable" instead.
    `job_noise` (metric -> the job-to-job spread, history mode) widens a baseline-from-history interval.
    `conditions_mismatch` (how the runner differed from the baseline's, gate.compare.conditions) makes
    them "not comparable" too, at most a warning whatever `not_comparable` says: a busier runner is
    never the change's fault. `conditions_matched`: both runs' conditions were read and agree (or the
    base was measured paired, alike): an interval wholly below the lowest limit then passes however
    wide, as the runner's load can no longer pass for the change."""
    comparison = comparison or ComparisonSpec()
    job_noise = job_noise or {}
    checks: list[Check] = []
    notes: list[str] = []
    # A NaN compares false with every limit and an infinite limit is never exceeded, so a rule fed
    # either would pass whatever was measured: it is not judged, and the verdict is an error.
    unjudged = 0
    differences = "; ".join(hardware_differences) if baseline is not None else ""
    for metric, level in rules.limits_pct.items():
        current = summary.metrics.get(metric)
        figures: dict[str, _Figure] = {**_limit_figures(level), "this run's value": current}
        if baseline is not None and not differences:
            figures["the baseline's value"] = baseline.metrics.get(metric)
            figures["this run's repeats"] = summary.per_repeat.get(metric, ())
            figures["the baseline's repeats"] = baseline.per_repeat.get(metric, ())
        problem = _not_finite(figures)
        if problem is not None:
            unjudged += 1
            checks.append(_unjudged(metric, "relative", current, problem, level.line, describe_percent_level(level)))
        elif differences:
            assert baseline is not None
            checks.append(_not_comparable(metric, level, summary, baseline, differences, not_comparable))
        elif baseline is not None and conditions_mismatch:
            checks.append(
                not_comparable_conditions(metric, level, summary, baseline, conditions_mismatch, not_comparable)
            )
        else:
            checks.append(
                _relative(
                    metric,
                    level,
                    summary,
                    baseline,
                    missing_baseline,
                    comparison,
                    notes,
                    inconclusive,
                    job_noise.get(metric),
                    not_comparable,
                    conditions_matched or (baseline is not None and baseline.paired),
                )
            )
    if differences and rules.limits_pct:
        notes.append(
            f"Not comparable: the baseline {_elsewhere(hardware_differences)} ({differences}). "
            f"Relative limits not applied (policy not_comparable: {not_comparable})."
        )
    if not differences and baseline is not None and conditions_mismatch and rules.limits_pct:
        notes.append(
            f"Not comparable: {conditions_mismatch}. Relative limits not applied "
            f"(policy not_comparable: {conditions_outcome(not_comparable)})."
        )
    for metric, level in rules.budgets.items():
        current = summary.metrics.get(metric)
        problem = _not_finite({**_limit_figures(level), "this run's value": current})
        if problem is not None:
            unjudged += 1
            checks.append(_unjudged(metric, "absolute", current, problem, level.line))
        else:
            checks.append(_absolute(metric, level, current))
    for bounds, below in ((rules.quality_min, True), (rules.quality_max, False)):
        for name, (bound, line) in bounds.items():
            current = summary.quality.get(name)
            problem = _not_finite({"the floor" if below else "the ceiling": bound, "this run's value": current})
            if problem is not None:
                unjudged += 1
                checks.append(_unjudged(name, "quality", current, problem, line))
            else:
                checks.append(_bound(name, current, bound, line, below=below))
    if baseline is None and rules.limits_pct:
        notes.append(f"No baseline yet: relative limits not applied (missing_baseline: {missing_baseline}).")
    verdict = worst([c.status for c in checks if c.status != "skip"])
    if unjudged:
        verdict = "error"
        notes.append(f"{unjudged} rule(s) could not be judged: a limit or a figure is not a finite number.")
    return Decision(verdict=verdict, checks=tuple(checks), notes=tuple(notes))


_Figure = float | Sequence[float] | None
Rule = Literal["relative", "absolute", "quality"]


def _limit_figures(level: Level) -> dict[str, _Figure]:
    return {"the warn level": level.warn, "the fail level": level.fail}


def _not_finite(figures: Mapping[str, _Figure]) -> str | None:
    """Why the rule cannot be judged (the first figure that is NaN or infinite); None when it can."""
    for name, figure in figures.items():
        values: Sequence[float | None] = figure if isinstance(figure, Sequence) else (figure,)
        for value in values:
            if value is not None and not math.isfinite(value):
                return f"{name} is {value!r}, not a finite number: the rule cannot be judged"
    return None


def _unjudged(metric: str, rule: Rule, current: float | None, problem: str, line: int | None, limit: str = "") -> Check:
    """A rule that cannot be judged: shown as failed; its figure left out when it is not a number JSON can hold."""
    shown = current if current is not None and math.isfinite(current) else None
    return Check(metric, rule, "fail", shown, limit=limit, reason=problem, source_line=line)


def apply_outage(decision: Decision, outcome: Outcome, note: str) -> Decision:
    """MLflow (or another service) failed: the budget's policy decides what that costs."""
    verdict = worst([decision.verdict, outcome])
    return Decision(verdict=verdict, checks=decision.checks, notes=decision.notes + (note,))


def change_pct(current: float, baseline: float) -> float | None:
    if baseline == 0:
        return None
    return (current / baseline - 1.0) * 100.0


def describe_percent_level(level: Level) -> str:
    parts = []
    if level.warn is not None:
        parts.append(f"warn > +{level.warn:g}%")
    if level.fail is not None:
        parts.append(f"fail > +{level.fail:g}%")
    return ", ".join(parts)


def relative_check(
    metric: str,
    level: Level,
    summary: RunSummary,
    baseline: Baseline,
    *,
    comparison: ComparisonSpec,
    notes: list[str],
    inconclusive: Outcome = "warn",
) -> Check:
    """A relative limit on `metric` decided as `evaluate` decides one (on repeats where both sides
    have them), for figures derived from the metrics, such as energy per quality point."""
    return _relative(metric, level, summary, baseline, "pass", comparison, notes, inconclusive)


def _relative(
    metric: str,
    level: Level,
    summary: RunSummary,
    baseline: Baseline | None,
    missing: Outcome,
    comparison: ComparisonSpec,
    notes: list[str],
    inconclusive: Outcome = "warn",
    noise: stats.JobNoise | None = None,
    not_comparable: Outcome = "warn",
    conditions_matched: bool = False,
) -> Check:
    limit = describe_percent_level(level)
    current = summary.metrics.get(metric)
    base_value = baseline.metrics.get(metric) if baseline else None
    if current is None:
        return Check(metric, "relative", "skip", None, base_value, None, limit, "not measured", level.line)
    if baseline is None:
        status: Status = "skip" if missing == "pass" else missing
        return Check(metric, "relative", status, current, None, None, limit, "no baseline", level.line)
    if base_value is None:
        return Check(
            metric, "relative", "skip", current, None, None, limit, "baseline run lacks this metric", level.line
        )
    change = change_pct(current, base_value)
    if change is None:
        return Check(metric, "relative", "skip", current, base_value, None, limit, "baseline is zero", level.line)
    candidate_series = summary.per_repeat.get(metric, ())
    baseline_series = baseline.per_repeat.get(metric, ())
    kept = undisturbed(
        candidate_series,
        baseline_series,
        summary.per_repeat.get(DISTURBED, ()),
        baseline.per_repeat.get(DISTURBED, ()),
        paired=baseline.paired,
    )
    if isinstance(kept, str):
        status = conditions_outcome(not_comparable)
        reason = f"not comparable: {kept}"
        return Check(
            metric,
            "relative",
            "skip" if status == "pass" else status,
            current,
            base_value,
            None,
            limit,
            reason,
            level.line,
        )
    candidate_series, baseline_series, left_out = kept
    if left_out:
        notes.append(f"{metric}: {left_out}")
    # The interval is computed on logarithms: a repeat of 0 or less has none.
    positive = all(v > 0 for v in (*candidate_series, *baseline_series))
    if len(candidate_series) >= 2 and len(baseline_series) >= 2 and positive:
        return _relative_on_repeats(
            metric,
            level,
            current,
            base_value,
            candidate_series,
            baseline_series,
            baseline.paired,
            comparison,
            notes,
            inconclusive,
            noise,
            conditions_matched,
        )
    status, reason = "pass", f"{_signed(change)} is within the limit"
    if level.fail is not None and change > level.fail + _AT_LIMIT_TOLERANCE_PCT:
        status, reason = "fail", f"{_signed(change)} exceeds the fail limit of +{level.fail:g}%"
    elif level.warn is not None and change > level.warn + _AT_LIMIT_TOLERANCE_PCT:
        status, reason = "warn", f"{_signed(change)} exceeds the warn limit of +{level.warn:g}%"
    if len(baseline_series) < 2:
        why = "the baseline run has no per-repeat values"
    elif len(candidate_series) < 2:
        why = "this run has 1 repeat"
    else:
        why = "a repeat is 0 or less, so there is no interval on logarithms"
    reason += f" (point comparison, no interval: {why})"
    return Check(metric, "relative", status, current, base_value, change, limit, reason, level.line, method="point")


# --- relative limits on repeats: noise-aware verdicts ------------------------------------------


def _relative_on_repeats(
    metric: str,
    level: Level,
    current: float,
    base_value: float,
    candidate: tuple[float, ...],
    baseline: tuple[float, ...],
    paired: bool,
    comparison: ComparisonSpec,
    notes: list[str],
    inconclusive: Outcome = "warn",
    noise: stats.JobNoise | None = None,
    conditions_matched: bool = False,
) -> Check:
    """Decide on the interval of the change, for the fail level then the warn level: a level is
    exceeded only when the whole interval is beyond it; when only the point estimate is, warn.
    An interval wider than the limit it is judged against is inconclusive, unless it lies wholly
    beyond the fail limit, or (`conditions_matched`) wholly below the lowest limit: the policy
    decides its status."""
    paired = paired and len(candidate) == len(baseline)
    candidate, baseline = _screen_outliers(metric, candidate, baseline, paired, comparison, notes)
    noise = None if paired else noise  # a paired base shares this job's offset
    result = repeat_interval(candidate, baseline, paired, comparison.confidence, noise)
    if noise is not None:
        notes.append(f"{metric}: {noise.describe()}; the interval includes it.")
    said = result.describe()
    status: Status = "pass"
    reason = f"{said} is within the limit"
    fail = result.judge(level.fail + _AT_LIMIT_TOLERANCE_PCT) if level.fail is not None else "within"
    warn = result.judge(level.warn + _AT_LIMIT_TOLERANCE_PCT) if level.warn is not None else "within"
    if fail == "beyond":
        status, reason = "fail", f"{said} exceeds the fail limit of +{level.fail:g}%"
    elif fail == "uncertain":
        status = "warn"
        reason = (
            f"{said} is above the fail limit of +{level.fail:g}% but not significantly "
            f"(the interval starts at {result.low_pct:+.1f}%): could be noise"
        )
    elif warn == "beyond":
        status, reason = "warn", f"{said} exceeds the warn limit of +{level.warn:g}%"
    elif warn == "uncertain":
        status, reason = "warn", f"{said} is above the warn limit of +{level.warn:g}%, within noise"
    judged_limit = level.fail if level.fail is not None else level.warn
    too_wide = judged_limit is not None and judged_limit > 0 and not stats.resolves(result, judged_limit)
    too_wide = too_wide and fail != "beyond" and not (conditions_matched and wholly_below(result, level))
    if status == "pass" and result.high_pct < 0:
        reason = improved_reason(said)
    if too_wide:
        assert judged_limit is not None
        noise_pct = _noise_cv_pct(candidate, baseline, paired)
        status = "skip" if inconclusive == "pass" else inconclusive
        # Already paired: more pairs or a quieter runner; advising the mode it runs in helps no one.
        remedy = "more pairs (repeats)" if paired else "paired mode, more repeats"
        remedy += ", or a quieter runner"
        reason = (
            f"inconclusive: {said}; this runner's noise (CV {noise_pct:.1f}%) is above what a "
            f"+{judged_limit:g}% limit can resolve; use {remedy}"
        )
        notes.append(
            f"{metric}: inconclusive, the interval is wider than the +{judged_limit:g}% limit "
            f"(policy inconclusive: {inconclusive})."
        )
    # The figures the change was computed from, so the columns, the chart's limit line and the change
    # agree; they are the run's own figures unless `comparison.outliers: drop` left repeats out.
    current, base_value = stats.geomean(candidate), stats.geomean(baseline)
    return Check(
        metric,
        "relative",
        status,
        current,
        base_value,
        result.change_pct,
        describe_percent_level(level),
        reason,
        level.line,
        interval_pct=(result.low_pct, result.high_pct),
        confidence=result.confidence,
        method=result.method,
        geomean_current=current,
        geomean_baseline=base_value,
        cv_current_pct=stats.cv_pct(candidate),
        cv_baseline_pct=stats.cv_pct(baseline),
        inconclusive=too_wide,
        job_noise_cv_pct=noise.cv_pct if noise is not None else None,
        job_noise_runs=noise.runs if noise is not None else None,
        job_noise_assumed=noise.assumed if noise is not None else None,
    )


def repeat_interval(
    candidate: Sequence[float],
    baseline: Sequence[float],
    paired: bool,
    confidence: float,
    noise: stats.JobNoise | None = None,
) -> stats.Comparison:
    """The interval a relative check on repeats is decided on: paired t for pairs, else Welch's,
    widened by the two jobs' offsets when the job-to-job spread is known (history mode)."""
    if paired:
        return stats.compare_paired(candidate, baseline, confidence=confidence)
    if noise is not None:
        return stats.compare_across_jobs(candidate, baseline, noise, confidence=confidence)
    return stats.compare_independent(candidate, baseline, confidence=confidence)


def job_noise_by_metric(rules: Rules, past_runs: Sequence[Mapping[str, Sequence[float]]]) -> dict[str, stats.JobNoise]:
    """The job-to-job spread of each metric under a relative limit, from the past baseline runs'
    per-repeat values (runs without that metric's repeats are left out; too few: the prior)."""
    return {metric: stats.job_noise([run.get(metric, ()) for run in past_runs]) for metric in rules.limits_pct}


def keep_measuring(
    summary: RunSummary,
    baseline: Baseline,
    rules: Rules,
    confidence: float,
    job_noise: Mapping[str, stats.JobNoise],
    repeats_done: int,
    min_repeats: int,
    max_repeats: int,
) -> tuple[bool, stats.StopWhy]:
    """Adaptive repeats: measure another one? Yes below `min_repeats`; after it, while the interval of
    any relative limit's metric (at `confidence`, the per-look level of stats.look_confidence)
    straddles its warn or fail limit, up to `max_repeats` (gate.compare.stats.should_continue).
    Repeats a throttled GPU or a tenant disturbed are left out as the verdict leaves them out
    (`undisturbed`), and do not count toward `min_repeats`: they cannot decide the verdict either."""
    why: stats.StopWhy = "decided"
    for metric, level in rules.limits_pct.items():
        limits = [limit for limit in (level.warn, level.fail) if limit is not None]
        candidate = summary.per_repeat.get(metric, ())
        base = baseline.per_repeat.get(metric, ())
        kept = undisturbed(
            candidate,
            base,
            summary.per_repeat.get(DISTURBED, ()),
            baseline.per_repeat.get(DISTURBED, ()),
            paired=baseline.paired,
        )
        counted = repeats_done - sum(1 for f in summary.per_repeat.get(DISTURBED, ()) if f > 0)
        if baseline.paired and not isinstance(kept, str):
            counted = len(kept[0])  # a pair goes when either side of it was disturbed
        if counted < min_repeats and repeats_done < max_repeats:
            return True, "below min"
        interval = None
        if not isinstance(kept, str):
            candidate, base, _ = kept
            if len(candidate) >= 2 and len(base) >= 2 and all(v > 0 for v in (*candidate, *base)):
                paired = baseline.paired and len(candidate) == len(base)
                noise = None if paired else job_noise.get(metric)
                interval = repeat_interval(candidate, base, paired, confidence, noise)
        go, reason = stats.should_continue(interval, limits, repeats_done, min_repeats, max_repeats)
        if go:
            return True, reason
        if reason != "decided":
            why = reason  # max reached: every metric still undecided says so
    return False, why


def lowest_limit(level: Level) -> float | None:
    """The limit a change must stay under to pass: the warn limit, else the fail limit."""
    return level.warn if level.warn is not None else level.fail


def wholly_below(result: stats.Comparison, level: Level) -> bool:
    """The whole interval lies below the lowest limit: whatever its width, the change passes. Only an
    interval that straddles a limit leaves the question open (inconclusive when too wide)."""
    limit = lowest_limit(level)
    return limit is not None and result.high_pct < limit


def improved_reason(said: str) -> str:
    """A pass whose whole interval is below zero: the change made it cheaper, and says so."""
    return f"improved: {said}, the whole interval is below no change"


def _noise_cv_pct(candidate: tuple[float, ...], baseline: tuple[float, ...], paired: bool) -> float:
    """The noise the interval was computed from: in paired mode the CV of the pair ratios, else the
    larger of the two sides' CVs (the noisier side limits what can be resolved)."""
    if paired:
        return stats.cv_pct([c / b for c, b in zip(candidate, baseline, strict=True)])
    return max(stats.cv_pct(candidate), stats.cv_pct(baseline))


def _screen_outliers(
    metric: str,
    candidate: tuple[float, ...],
    baseline: tuple[float, ...],
    paired: bool,
    comparison: ComparisonSpec,
    notes: list[str],
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Report repeats beyond k x MAD (never silently); leave them out only when the budget says drop."""
    unit = METRICS[metric].unit if metric in METRICS else ""
    flagged = {}
    for side, values in (("this run", candidate), ("the baseline", baseline)):
        found = stats.outliers(values, k=comparison.outlier_k)
        flagged[side] = found
        if found:
            listed = ", ".join(f"repeat {i + 1} ({f'{values[i]:.4g} {unit}'.rstrip()})" for i in found)
            action = "left out" if comparison.outliers == "drop" else "kept"
            notes.append(
                f"{metric}: outlier(s) in {side} beyond {comparison.outlier_k:g} x MAD of the median: {listed}; "
                f"{action} (comparison.outliers: {comparison.outliers})."
            )
    if comparison.outliers != "drop":
        return candidate, baseline
    if paired:
        gone = set(flagged["this run"]) | set(flagged["the baseline"])
        kept = [i for i in range(len(candidate)) if i not in gone]
        if len(kept) >= 2:
            return tuple(candidate[i] for i in kept), tuple(baseline[i] for i in kept)
        return candidate, baseline
    kept_c = tuple(v for i, v in enumerate(candidate) if i not in flagged["this run"])
    kept_b = tuple(v for i, v in enumerate(baseline) if i not in flagged["the baseline"])
    return (kept_c if len(kept_c) >= 2 else candidate), (kept_b if len(kept_b) >= 2 else baseline)


def _not_comparable(
    metric: str, level: Level, summary: RunSummary, baseline: Baseline, differences: str, policy: Outcome
) -> Check:
    status: Status = "skip" if policy == "pass" else policy
    return Check(
        metric,
        "relative",
        status,
        summary.metrics.get(metric),
        baseline.metrics.get(metric),
        None,
        describe_percent_level(level),
        f"not comparable: baseline {_elsewhere(tuple(differences.split('; ')), short=True)} ({differences})",
        level.line,
    )


def undisturbed(
    candidate: tuple[float, ...],
    baseline: tuple[float, ...],
    candidate_flags: tuple[float, ...],
    baseline_flags: tuple[float, ...],
    *,
    paired: bool,
) -> tuple[tuple[float, ...], tuple[float, ...], str | None] | str:
    """The repeats a throttled GPU or a tenant did not disturb (gate.devices.conditions.disturbances),
    on both sides alike: in pairs, a pair goes when either side of it was disturbed. Returns the kept
    series and a note naming what was left out, or, when fewer than 2 repeats of a side would be
    left, why the change cannot be judged (it would read the runner's trouble as the code's)."""

    def flagged(flags: tuple[float, ...], n: int) -> set[int]:
        return {i for i, f in enumerate(flags) if f > 0} if len(flags) == n else set()

    gone_c, gone_b = flagged(candidate_flags, len(candidate)), flagged(baseline_flags, len(baseline))
    if not gone_c and not gone_b:
        return candidate, baseline, None
    if paired and len(candidate) == len(baseline):
        gone_c = gone_b = gone_c | gone_b
    kept_c = tuple(v for i, v in enumerate(candidate) if i not in gone_c)
    kept_b = tuple(v for i, v in enumerate(baseline) if i not in gone_b)
    sides = [
        f"{side} repeat(s) {', '.join(str(i + 1) for i in sorted(gone))}"
        for side, gone in (("this run's", gone_c), ("the baseline's", gone_b))
        if gone
    ]
    if len(kept_c) < 2 or len(kept_b) < 2:
        return f"a throttled GPU or another process on it disturbed {' and '.join(sides)}, too many to leave out"
    return kept_c, kept_b, f"left out {' and '.join(sides)}: a throttled GPU or another process on it disturbed them."


# How a check left unjudged for the runner's conditions starts its reason.
CONDITIONS_NOT_COMPARABLE = "not comparable: the runner was"


def conditions_outcome(policy: Outcome) -> Outcome:
    """What a conditions mismatch costs: the not_comparable policy, but never a fail."""
    return "warn" if policy == "fail" else policy


def not_comparable_conditions(
    metric: str, level: Level, summary: RunSummary, baseline: Baseline, mismatch: str, policy: Outcome
) -> Check:
    """A relative limit left unjudged because the runner's conditions differed from the baseline's."""
    outcome = conditions_outcome(policy)
    return Check(
        metric,
        "relative",
        "skip" if outcome == "pass" else outcome,
        summary.metrics.get(metric),
        baseline.metrics.get(metric),
        None,
        describe_percent_level(level),
        f"not comparable: {mismatch}{_unjudged_change(summary.metrics.get(metric), baseline.metrics.get(metric))}",
        level.line,
    )


def _unjudged_change(current: float | None, base: float | None) -> str:
    change = change_pct(current, base) if current is not None and base is not None else None
    return "" if change is None else f"; the change ({_signed(change)}) is not judged"


# ----------------------------------------------------------------------------------------------


def _absolute(metric: str, level: Level, current: float | None) -> Check:
    unit = METRICS[metric].unit
    parts = []
    if level.warn is not None:
        parts.append(f"warn > {level.warn:g} {unit}")
    if level.fail is not None:
        parts.append(f"fail > {level.fail:g} {unit}")
    limit = ", ".join(parts)
    if current is None:
        return Check(metric, "absolute", "skip", None, limit=limit, reason="not measured", source_line=level.line)
    status: Status = "pass"
    reason = f"{current:.4g} {unit} is within the budget"
    if level.fail is not None and current > level.fail:
        status, reason = "fail", f"{current:.4g} {unit} is over the budget of {level.fail:g} {unit}"
    elif level.warn is not None and current > level.warn:
        status, reason = "warn", f"{current:.4g} {unit} is over the warning level of {level.warn:g} {unit}"
    return Check(metric, "absolute", status, current, limit=limit, reason=reason, source_line=level.line)


def _bound(name: str, current: float | None, bound: float, line: int | None, *, below: bool) -> Check:
    limit = f"≥ {bound:g}" if below else f"≤ {bound:g}"
    if current is None:
        return Check(
            name, "quality", "fail", None, limit=limit, reason="not reported by the benchmark", source_line=line
        )
    broken = current < bound if below else current > bound
    if broken:
        word = "below the floor" if below else "above the ceiling"
        return Check(
            name,
            "quality",
            "fail",
            current,
            limit=limit,
            reason=f"{current:g} is {word} of {bound:g}",
            source_line=line,
        )
    return Check(name, "quality", "pass", current, limit=limit, reason="within bounds", source_line=line)


def _signed(change: float) -> str:
    return f"{change:+.1f}%"


def _elsewhere(differences: tuple[str, ...], *, short: bool = False) -> str:
    """How the baseline differs: its hardware, or only how its energy was measured."""
    if differences and all(d.startswith("energy method:") for d in differences):
        return "with another energy method" if short else "was measured with another energy method"
    return "on other hardware" if short else "ran on other hardware"
