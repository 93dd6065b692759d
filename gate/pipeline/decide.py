"""Decide stage: the budget's rules applied to a measurement and its baseline. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from gate.compare import baseline_rules, cases, quality, stats, verdict
from gate.compare import conditions as condition_rules
from gate.compare.model import Baseline, Decision, Verdict
from gate.config.budget import Budget, ComparisonSpec, Outcome, Rules
from gate.devices import conditions
from gate.devices import hardware as hardware_rules
from gate.devices.hardware import Hardware
from gate.energy.model import RunSummary
from gate.errors import TrackingError
from gate.pipeline.measure import Measurement


def decide(
    measurement: Measurement,
    baseline: Baseline | None,
    rules: Rules,
    budget: Budget,
    hardware: Hardware,
    outage: TrackingError | None,
    past_runs: Sequence[Mapping[str, Sequence[float]]] | None = None,
) -> Decision | None:
    """None when there is nothing to decide on: the benchmark failed or measured nothing.

    `past_runs` (history mode: the recent baseline runs' repeats) give the job-to-job spread the
    interval includes; None leaves it out (a paired base, or no history read). Adaptive repeats
    decide at the per-look confidence their stopping rule used (gate.compare.stats.look_confidence)."""
    if measurement.error is not None or measurement.summary is None:
        return None
    # Without MLflow there is no baseline either; the outage policy then speaks for it.
    missing: Outcome = "pass" if outage is not None else budget.policy.missing_baseline
    differences = hardware_differences(baseline, hardware) + method_differences(baseline, measurement.summary)
    paired = baseline is not None and baseline.paired
    mismatch = conditions_mismatch(baseline, measurement.summary)
    noise = verdict.job_noise_by_metric(rules, past_runs) if past_runs is not None and not paired else None
    comparison = decision_comparison(budget.comparison, measurement)
    decision = verdict.evaluate(
        measurement.summary,
        baseline,
        rules,
        missing_baseline=missing,
        comparison=comparison,
        job_noise=noise,
        hardware_differences=differences,
        not_comparable=budget.policy.not_comparable,
        inconclusive=budget.policy.inconclusive,
        conditions_mismatch=mismatch,
        conditions_matched=mismatch is None and conditions_compared(baseline, measurement.summary),
    )
    decision = quality.with_relative_quality(
        decision,
        measurement.summary,
        baseline,
        rules,
        quality.Judging(
            comparable=not differences and mismatch is None,
            comparison=comparison,
            inconclusive=budget.policy.inconclusive,
        ),
    )
    notes: list[str] = []
    checks = cases.case_checks(
        measurement.summary,
        baseline,
        rules,
        comparison=comparison,
        missing_baseline=missing,
        comparable=not differences,
        inconclusive=budget.policy.inconclusive,
        notes=notes,
    )
    return cases.with_case_checks(decision, checks, notes)


def decision_comparison(comparison: ComparisonSpec, measurement: Measurement) -> ComparisonSpec:
    """The comparison settings a check decides with: an adaptive run's per-look confidence, so that the
    last look holds the error rate as the earlier ones did."""
    if measurement.adaptive is None:
        return comparison
    low, high = measurement.adaptive.min_repeats, measurement.adaptive.max_repeats
    return replace(comparison, confidence=stats.look_confidence(comparison.confidence, low, high))


def hardware_differences(baseline: Baseline | None, hardware: Hardware) -> tuple[str, ...]:
    return () if baseline is None else hardware_rules.differences(baseline.hardware, baseline.hardware_id, hardware)


def conditions_mismatch(baseline: Baseline | None, summary: RunSummary) -> str | None:
    """How this runner was busier (or quieter) than at a baseline from history, beyond the tolerances
    of gate.compare.conditions; None when alike, unknown on a side, or paired (measured alike)."""
    if baseline is None or baseline.paired or not summary.conditions or not baseline.conditions:
        return None
    found = condition_rules.mismatch(conditions.medians(summary.conditions), baseline.conditions)
    return found.describe() if found is not None else None


def conditions_compared(baseline: Baseline | None, summary: RunSummary) -> bool:
    """Both runs' conditions were read (a paired base is measured alike in any case)."""
    if baseline is None:
        return False
    return baseline.paired or bool(summary.conditions and baseline.conditions)


def method_differences(baseline: Baseline | None, summary: RunSummary) -> tuple[str, ...]:
    """A baseline from history measured with another energy method; a paired base is measured now, alike."""
    if baseline is None or baseline.paired:
        return ()
    return baseline_rules.energy_method_differences(baseline.energy_method, summary.energy_method)


def outage_verdict(checked: Verdict, budget: Budget) -> Verdict:
    """The verdict `with_outage` makes of `checked` when MLflow fails: what a spooled run keeps."""
    return checked if checked == "error" else verdict.worst([checked, budget.policy.mlflow_unavailable])


def with_outage(
    decision: Decision | None, budget: Budget, outage: TrackingError | None, kept_in: Path
) -> Decision | None:
    """MLflow failed at some point: the budget's mlflow_unavailable policy decides what that costs."""
    if outage is None or decision is None:
        return decision
    policy = budget.policy.mlflow_unavailable
    return verdict.apply_outage(
        decision,
        policy,
        f"MLflow unavailable ({outage.message}); policy mlflow_unavailable: {policy} decided. "
        f"The result is kept in {kept_in}.",
    )
