"""Quality judged against the baseline, and energy per quality point. Pure: values in, checks out.

An energy saving bought with lost accuracy should not pass silently: `min_ratio` (this run's value at
least that fraction of the baseline's) and `max_ratio` (a loss at most that multiple) compare a
quality metric with the baseline's value of it. The efficiency figure divides energy per item by the
quality metric, so a change that saves 3% energy but loses 5% accuracy reads as a worse figure. Its
limit is judged as a relative limit is (gate.compare.verdict): on the repeats, with their interval,
so a noisy runner makes it inconclusive rather than failed. gCO2eq per item per point is reported
beside it; the limit is on joules, since a change of grid intensity is not the change's doing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from gate.compare import verdict as relative
from gate.compare.model import Baseline, Check, Decision, Status, Verdict
from gate.config.budget import ComparisonSpec, Level, Outcome, Rules
from gate.energy.model import RunSummary

ENERGY_PER_ITEM = "energy_per_prediction_j"
EFFICIENCY_PREFIX = "efficiency:"
_RANK: dict[Verdict, int] = {"pass": 0, "warn": 1, "fail": 2, "error": 3}


def efficiency_metric(quality_name: str) -> str:
    """The check's metric name for energy per item per point of `quality_name`."""
    return f"{EFFICIENCY_PREFIX}{quality_name}"


@dataclass(frozen=True)
class Judging:
    """What the relative quality checks are judged with. `comparable`: the baseline ran on the same
    hardware (quality does not depend on it; energy per quality point does). `comparison` and
    `inconclusive` decide an efficiency limit on repeats as for a relative limit."""

    comparable: bool = True
    comparison: ComparisonSpec = field(default_factory=ComparisonSpec)
    inconclusive: Outcome = "warn"


def relative_checks(
    summary: RunSummary,
    baseline: Baseline | None,
    rules: Rules,
    judging: Judging = Judging(),
    notes: list[str] | None = None,
) -> tuple[Check, ...]:
    """The ratio rules and the efficiency figures; what judging an efficiency limit says goes to `notes`."""
    notes = notes if notes is not None else []
    checks = [
        _ratio(name, summary, baseline, bound, line, below=below)
        for ratios, below in ((rules.quality_min_ratio, True), (rules.quality_max_ratio, False))
        for name, (bound, line) in ratios.items()
    ]
    # A figure for every higher-is-better metric judged against the baseline, limited or not.
    comparable_baseline = baseline if judging.comparable else None
    for name in dict.fromkeys([*rules.quality_min_ratio, *rules.efficiency_pct]):
        check = _efficiency(name, summary, comparable_baseline, rules.efficiency_pct.get(name), judging, notes)
        if check is not None:
            checks.append(check)
    return tuple(checks)


def with_relative_quality(
    decision: Decision, summary: RunSummary, baseline: Baseline | None, rules: Rules, judging: Judging = Judging()
) -> Decision:
    """`decision` with the relative quality checks added and its verdict worsened by them."""
    notes: list[str] = []
    extra = relative_checks(summary, baseline, rules, judging, notes)
    if not extra:
        return decision
    verdict = decision.verdict
    for check in extra:
        if check.status in ("warn", "fail") and _RANK[check.status] > _RANK[verdict]:
            verdict = check.status
    return replace(decision, verdict=verdict, checks=(*decision.checks, *extra), notes=(*decision.notes, *notes))


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def _ratio(
    name: str, summary: RunSummary, baseline: Baseline | None, bound: float, line: int | None, *, below: bool
) -> Check:
    limit = f"≥ {bound:g} × baseline" if below else f"≤ {bound:g} × baseline"
    current = summary.quality.get(name)
    base = baseline.metrics.get(name) if baseline is not None else None

    def check(status: Status, reason: str, change: float | None = None) -> Check:
        return Check(name, "quality", status, current, base, change, limit=limit, reason=reason, source_line=line)

    if current is None:
        return check("fail", "not reported by the benchmark")
    if not _finite(current) or not _finite(bound):
        return check("fail", "this run's value or the ratio is not a finite number")
    if baseline is None:
        return check("skip", "no baseline yet")
    if base is None:
        return check("skip", "the baseline run did not report it")
    if not _finite(base) or base <= 0:
        return check("skip", f"the baseline's value {base:g} is not a positive number: no ratio")
    ratio = current / base
    change = (ratio - 1) * 100
    broken = ratio < bound if below else ratio > bound
    if broken:
        word = "below" if below else "above"
        return check("fail", f"{ratio:.4g} × the baseline's {base:g}, {word} {bound:g} ×", change)
    return check("pass", f"{ratio:.4g} × the baseline's {base:g}", change)


def _efficiency(
    name: str,
    summary: RunSummary,
    baseline: Baseline | None,
    level: Level | None,
    judging: Judging,
    notes: list[str],
) -> Check | None:
    """Energy per item per point of `name`, and its change against the baseline's; None when this run
    has no such figure (no item count, or the metric not a positive number)."""
    energy = summary.metrics.get(ENERGY_PER_ITEM)
    quality = summary.quality.get(name)
    if not _finite(energy) or not _finite(quality) or quality is None or energy is None or quality <= 0:
        return None
    metric = efficiency_metric(name)
    current = energy / quality
    base_figure = base_quality = None
    if baseline is not None:
        base_energy, base_quality = baseline.metrics.get(ENERGY_PER_ITEM), baseline.metrics.get(name)
        if _finite(base_energy) and _finite(base_quality) and base_energy and base_quality and base_quality > 0:
            base_figure = base_energy / base_quality
    change = (current / base_figure - 1) * 100 if base_figure else None
    limit = _describe(level) if level is not None else ""
    line = level.line if level is not None else None

    def check(status: Status, reason: str) -> Check:
        return Check(metric, "quality", status, current, base_figure, change, limit, reason, source_line=line)

    if change is None:
        return check("skip" if level is not None else "pass", "no comparable baseline" if baseline is None else "")
    if level is None:
        return check("pass", "reported only")
    assert baseline is not None and base_figure is not None and base_quality is not None
    # The figure per repeat: each repeat's energy per item over the run's (median) quality value,
    # which a deterministic benchmark reports the same in every repeat.
    own = replace(
        summary,
        metrics={metric: current},
        per_repeat={metric: tuple(e / quality for e in summary.per_repeat.get(ENERGY_PER_ITEM, ()))},
    )
    base = replace(
        baseline,
        metrics={metric: base_figure},
        per_repeat={metric: tuple(e / base_quality for e in baseline.per_repeat.get(ENERGY_PER_ITEM, ()))},
    )
    judged = relative.relative_check(
        metric, level, own, base, comparison=judging.comparison, notes=notes, inconclusive=judging.inconclusive
    )
    return replace(judged, rule="quality", limit=limit, source_line=line)


def grams_per_joule(metrics: Mapping[str, float]) -> float | None:
    """The run's gCO2eq per joule (intensity x PUE); None without gCO2eq (no carbon source)."""
    energy_j, emissions_g = metrics.get("energy_j"), metrics.get("emissions_g")
    if not (_finite(energy_j) and _finite(emissions_g)) or not energy_j:
        return None
    assert emissions_g is not None and energy_j is not None
    return emissions_g / energy_j


def emissions_per_point_g(metrics: Mapping[str, float], quality: float) -> float | None:
    """gCO2eq per item per quality point: the run's emissions shared out as its energy is. None
    without gCO2eq (no carbon source), an item count, or a positive quality value."""
    per_joule, per_item = grams_per_joule(metrics), metrics.get(ENERGY_PER_ITEM)
    if per_joule is None or not _finite(per_item) or not _finite(quality) or quality <= 0:
        return None
    assert per_item is not None
    return per_joule * per_item / quality


def _describe(level: Level) -> str:
    levels = (("warn", level.warn), ("fail", level.fail))
    return ", ".join(f"{word} > {value:+g}%" for word, value in levels if value is not None)
