"""Per-case limits: each case of a suite (a phase: a pytest-benchmark test, a marked block) judged on
its own figures against the baseline's same case. Pure: plain data in, frozen data out.

A case's figures are metrics of their own (`phase.<case>.energy_j`, `….energy_per_item_j`) with
their per-repeat series, so a case is decided as any relative limit is: on the intervals of its
repeats where both sides have them (gate.compare.verdict), else on the medians.
"""

from __future__ import annotations

from dataclasses import replace

from gate.compare import verdict
from gate.compare.model import Baseline, Check, Decision
from gate.config.budget import ComparisonSpec, Outcome, Rules
from gate.energy.model import RunSummary, phase_metric


def case_checks(
    summary: RunSummary,
    baseline: Baseline | None,
    rules: Rules,
    *,
    comparison: ComparisonSpec,
    missing_baseline: Outcome = "pass",
    comparable: bool = True,
    inconclusive: Outcome = "warn",
    notes: list[str],
) -> list[Check]:
    """One check per measured case and limited figure, in the order the cases ran."""
    checks: list[Check] = []
    matched: set[str] = set()
    for case in summary.phases:
        found = rules.case_limits(case.name)
        if found is None:
            continue
        pattern, figures = found
        matched.add(pattern)
        for figure, level in figures.items():
            metric = phase_metric(case.name, figure)
            series = summary.phase_series.get(metric, ())
            limit = verdict.describe_percent_level(level)
            if not series:
                why = "the case counted no items" if figure == "energy_per_item_j" else "not measured in every repeat"
                checks.append(Check(metric, "relative", "skip", None, None, None, limit, why, level.line))
                continue
            view = replace(
                summary,
                metrics={**summary.metrics, metric: _median(series)},
                per_repeat={**summary.per_repeat, metric: series},
            )
            if baseline is None:
                status = "skip" if missing_baseline == "pass" else missing_baseline
                checks.append(
                    Check(metric, "relative", status, _median(series), None, None, limit, "no baseline", level.line)
                )
            elif not comparable:
                checks.append(
                    Check(metric, "relative", "skip", _median(series), None, None, limit, "not comparable", level.line)
                )
            else:
                checks.append(
                    verdict.relative_check(
                        metric, level, view, baseline, comparison=comparison, notes=notes, inconclusive=inconclusive
                    )
                )
    unmatched = [pattern for pattern in rules.cases if pattern not in matched]
    if unmatched and summary.phases:
        notes.append(f"Case limits that matched no measured case: {', '.join(unmatched)}.")
    elif rules.cases and not summary.phases:
        notes.append(
            "The budget sets case limits but no cases were measured apart: mark them as phases "
            "(pytest-benchmark suites: green-gate's pytest plugin), at least two per run."
        )
    return checks


def with_case_checks(decision: Decision, checks: list[Check], notes: list[str]) -> Decision:
    """`decision` with the case checks added and its verdict worsened by them."""
    if not checks and not notes:
        return decision
    statuses = [decision.verdict, *(c.status for c in checks if c.status != "skip")]
    return replace(
        decision, verdict=verdict.worst(statuses), checks=(*decision.checks, *checks), notes=(*decision.notes, *notes)
    )


def _median(values: tuple[float, ...]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
