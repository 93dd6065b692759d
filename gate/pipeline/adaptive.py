"""Adaptive repeats (`repeats: {min, max}`): after each repeat, measure another one?

The baseline is read before measuring, so that after `min` repeats the interval on the change can
be computed after each one; measuring stops once it no longer straddles a warn or fail limit, or at
`max`. Every look uses the per-look confidence of gate.compare.stats.look_confidence (Bonferroni
over the looks), and the verdict is decided at that level too, so stopping early does not inflate
the false-fail rate (docs/statistics.md). The rule itself is pure: gate.compare.verdict.keep_measuring.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from gate.carbon.model import Intensity
from gate.compare import baseline_rules, stats, verdict
from gate.compare.model import Baseline
from gate.config.budget import BenchmarkSpec, Rules
from gate.devices import conditions
from gate.devices.conditions import DISTURBED
from gate.energy.model import RepeatResult, RunSummary
from gate.energy.summary import summarise

# decided: the interval cleared every limit; max reached: it still straddled one at max;
# no baseline: nothing to decide against, so max were run (this run may become the baseline, and
# every later check's interval carries its spread over its repeats); no interval: a baseline exists
# but no interval can be computed against it (fewer than 2 per-repeat values a throttled GPU did not
# disturb, other hardware or energy method), so more repeats cannot decide anything and min were run.
StopReason = Literal["decided", "max reached", "no baseline", "no interval"]


@dataclass(frozen=True)
class AdaptiveRun:
    """How an adaptive benchmark's repeats ended: how many ran of min–max, and why it stopped."""

    min_repeats: int
    max_repeats: int
    repeats_run: int
    stopped: StopReason
    paired: bool = False  # counted in pairs of base and this commit

    def describe(self) -> str:
        ran = f"{self.repeats_run} pair{'' if self.repeats_run == 1 else 's'}" if self.paired else self.repeats_run
        head = f"Adaptive repeats ({self.min_repeats}–{self.max_repeats}): {ran} ran"
        if self.stopped == "no baseline":
            return (
                f"{head}, stopped: no baseline (with nothing to decide against it runs max: it may become "
                "the baseline later checks are judged against)."
            )
        if self.stopped == "no interval":
            return f"{head}, stopped: no interval against this baseline (more repeats could not decide)."
        return f"{head}, stopped: {self.stopped}."

    def to_dict(self) -> dict[str, object]:
        return {
            "min": self.min_repeats,
            "max": self.max_repeats,
            "repeats_run": self.repeats_run,
            "stopped": self.stopped,
            "paired": self.paired,
        }


def undisturbed_repeats(baseline: Baseline, metric: str) -> int:
    """How many of the baseline's repeats of `metric` the verdict compares with: those a throttled GPU
    or a tenant did not disturb (gate.compare.verdict.undisturbed leaves the others out)."""
    series = baseline.per_repeat.get(metric, ())
    flags = baseline.per_repeat.get(DISTURBED, ())
    if len(flags) != len(series):
        return len(series)
    return sum(1 for flag in flags if not flag > 0)


class Stopping:
    """The stopping rule for one adaptive benchmark, asked by the runner after each repeat past min."""

    def __init__(
        self,
        spec: BenchmarkSpec,
        rules: Rules,
        baseline: Baseline | None,
        past_runs: Sequence[Mapping[str, Sequence[float]]] | None,
        *,
        confidence: float,
        comparable: bool,
        intensity: Intensity | None = None,
        rematch: Callable[[Mapping[str, float]], Baseline | None] | None = None,
    ) -> None:
        """`rematch` (the run's conditions so far -> the baseline the lookup prefers under them;
        gate.pipeline.baseline.rematch) lets each look judge against the baseline the verdict will."""
        assert spec.repeats_max is not None, "Stopping is for adaptive specs"
        self.min_repeats, self.max_repeats = spec.repeats, spec.repeats_max
        self.rules = rules
        self.baseline: Baseline | None = None
        self.look_confidence = stats.look_confidence(confidence, self.min_repeats, self.max_repeats)
        self.noise = verdict.job_noise_by_metric(rules, past_runs) if past_runs is not None else {}
        self._intensity = intensity
        self._comparable = comparable
        self._rematch = rematch
        self.stopped: StopReason = "no baseline"
        self.paired = False
        self._use(baseline)

    def _use(self, baseline: Baseline | None) -> None:
        if baseline is None or baseline is self.baseline:
            return
        self.baseline = baseline
        has_series = any(undisturbed_repeats(baseline, m) >= 2 for m in self.rules.limits_pct)
        # Until a look decides it, it runs to max (also when min is max, and no look is made).
        self.stopped = "max reached" if self._comparable and has_series else "no interval"

    @classmethod
    def for_pairs(
        cls, spec: BenchmarkSpec, rules: Rules, confidence: float, intensity: Intensity | None = None
    ) -> Stopping | None:
        """Paired mode's stopping rule (None for a fixed number of pairs): the base is measured in this
        job, so there is always something to decide against, and no job-to-job term."""
        if spec.repeats_max is None:
            return None
        rule = cls(spec, rules, None, None, confidence=confidence, comparable=True, intensity=intensity)
        rule.stopped = "max reached" if rules.limits_pct else "no interval"
        rule.paired = True
        return rule

    def more_pairs(self, candidate: tuple[RepeatResult, ...], base: tuple[RepeatResult, ...]) -> bool:
        """Paired mode: another pair? Asked with both sides' repeats so far (pair i is repeat i of each)."""
        if self.stopped == "no interval":
            return False
        base_summary = summarise(list(base), self._intensity)
        self.baseline = Baseline(
            "paired", dict(base_summary.metrics), None, None, 0, per_repeat=dict(base_summary.per_repeat), paired=True
        )
        return self._look(summarise(list(candidate), self._intensity), len(candidate))

    def more(self, repeats: tuple[RepeatResult, ...]) -> bool:
        if self.stopped == "no baseline":
            return True  # the runner stops at max
        summary = summarise(list(repeats), self._intensity)
        if self._rematch is not None and summary.conditions:
            self._use(self._rematch(conditions.medians(summary.conditions)))
        if self.stopped == "no interval" or self.baseline is None:
            return False
        if baseline_rules.energy_method_differences(self.baseline.energy_method, summary.energy_method):
            self.stopped = "no interval"
            return False
        return self._look(summary, len(repeats))

    def _look(self, summary: RunSummary, done: int) -> bool:
        assert self.baseline is not None
        go, why = verdict.keep_measuring(
            summary,
            self.baseline,
            self.rules,
            self.look_confidence,
            self.noise,
            done,
            self.min_repeats,
            self.max_repeats,
        )
        if not go and why == "decided":
            self.stopped = "decided"
        return go

    def result(self, repeats_run: int) -> AdaptiveRun:
        return AdaptiveRun(self.min_repeats, self.max_repeats, repeats_run, self.stopped, self.paired)
