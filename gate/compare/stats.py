"""Noise-aware comparison of repeated measurements. Pure functions on plain numbers, no I/O.

The gate compares a candidate (this run) with a baseline through the ratio of their geometric means
and a confidence interval for it, computed with Student's t on the *logarithms* of the values:

- independent samples (a baseline from history): Welch's t, unequal variances, Welch–Satterthwaite
  degrees of freedom;
- paired samples (base and PR commits run alternately in one job): one-sample t on the per-pair log
  ratios, so drift shared by the two runs of a pair cancels.

Why logs: energy is positive and its noise multiplicative (a hotter chip costs x% more, not x J more),
so the difference of log means is the log of a ratio, and its interval maps back to a ratio interval
that cannot go below zero. Why t rather than a bootstrap: with 3–10 repeats a percentile bootstrap's
interval is too narrow (its A/A false-alarm rate is several times the nominal one; see
docs/statistics.md for the simulation), while t's small-sample quantiles are exact for log-normal
noise and conservative enough for the rest.

A limit is *exceeded* only when the whole interval lies above it (the change is significantly beyond
the limit); when only the point estimate is above it the result is *uncertain*.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

# The budget's own defaults, so a call that leaves them out decides as a default budget does.
from gate.config.budget import DEFAULT_CONFIDENCE, DEFAULT_OUTLIER_K

Method = Literal["welch-log", "paired-log"]
Judgement = Literal["beyond", "uncertain", "within"]
# 1.4826 x MAD estimates the standard deviation of normal data.
MAD_TO_SD = 1.4826


@dataclass(frozen=True)
class Comparison:
    """candidate / baseline as a ratio of geometric means, with its two-sided confidence interval."""

    ratio: float
    low: float
    high: float
    confidence: float
    method: Method
    n_candidate: int
    n_baseline: int
    dof: float

    @property
    def change_pct(self) -> float:
        return (self.ratio - 1.0) * 100.0

    @property
    def low_pct(self) -> float:
        return (self.low - 1.0) * 100.0

    @property
    def high_pct(self) -> float:
        return (self.high - 1.0) * 100.0

    @property
    def half_width_pct(self) -> float:
        """Half the interval's width in percentage points (the interval is symmetric in logs only)."""
        return (self.high - self.low) * 50.0

    @property
    def significant(self) -> bool:
        """The interval excludes "no change"."""
        return self.low > 1.0 or self.high < 1.0

    def describe(self) -> str:
        """How a reviewer reads it: '+6.1% ± 1.2% (95% CI)'."""
        # A per-look level of adaptive repeats (1 - 0.05/6 = 99.1666...%) reads as 99.17%.
        return f"{self.change_pct:+.1f}% ± {self.half_width_pct:.1f}% ({round(self.confidence * 100, 2):g}% CI)"

    def judge(self, limit_pct: float) -> Judgement:
        """`beyond`: the whole interval is above the limit; `uncertain`: only the point estimate is."""
        if self.low_pct > limit_pct:
            return "beyond"
        if self.change_pct > limit_pct:
            return "uncertain"
        return "within"


def compare_independent(
    candidate: Sequence[float], baseline: Sequence[float], *, confidence: float = DEFAULT_CONFIDENCE
) -> Comparison:
    """Welch's t interval for the ratio of geometric means of two independent samples (≥ 2 each)."""
    return _welch(candidate, baseline, 0.0, math.inf, confidence, "compare_independent")


def _welch(
    candidate: Sequence[float],
    baseline: Sequence[float],
    extra_log_var: float,
    extra_dof: float,
    confidence: float,
    caller: str,
) -> Comparison:
    """Welch's interval on the difference of log means, its variance widened by `extra_log_var`
    (known with `extra_dof` degrees of freedom; infinite: taken as known) in Satterthwaite's dof."""
    _check_confidence(confidence)
    log_c, log_b = _logs(candidate, "candidate"), _logs(baseline, "baseline")
    if len(log_c) < 2 or len(log_b) < 2:
        raise ValueError(f"{caller}() needs at least 2 values on each side")
    n_c, n_b = len(log_c), len(log_b)
    var_c, var_b = statistics.variance(log_c) / n_c, statistics.variance(log_b) / n_b
    total = var_c + var_b + extra_log_var
    extra_part = extra_log_var**2 / extra_dof if math.isfinite(extra_dof) else 0.0
    parts = var_c**2 / (n_c - 1) + var_b**2 / (n_b - 1) + extra_part
    # With no spread at all the interval is a point whatever the dof.
    dof = total**2 / parts if parts > 0 else float(n_c + n_b - 2)
    diff = statistics.fmean(log_c) - statistics.fmean(log_b)
    return _interval(diff, math.sqrt(total), dof, confidence, "welch-log", n_c, n_b)


# With fewer past runs than this the job-to-job spread is not estimated but assumed (the prior).
MIN_RUNS_FOR_JOB_NOISE = 3
DEFAULT_JOB_NOISE_CV_PCT = 1.0


@dataclass(frozen=True)
class JobNoise:
    """The job-to-job spread of a benchmark on one kind of hardware, on the log scale.

    Two-level (random-effects) model of the log of repeat j in job i: y_ij = mu + u_i + e_ij, with
    u_i ~ N(0, tau^2) the job's offset (another chip, day, neighbour) and e_ij ~ N(0, sigma_i^2) the
    noise within it. A job's log mean then varies by tau^2 + sigma_i^2 / n_i, so the method-of-moments
    estimate from k past jobs is tau^2 = max(0, s^2(job log means) - mean(sigma_i^2 / n_i)), with
    k - 1 degrees of freedom. With fewer than MIN_RUNS_FOR_JOB_NOISE jobs tau is the prior instead."""

    log_var: float  # tau^2
    dof: float  # of the estimate; infinite for the prior (taken as known)
    runs: int  # past jobs it rests on
    assumed: bool  # the prior, not an estimate

    @property
    def cv_pct(self) -> float:
        return math.sqrt(math.expm1(self.log_var)) * 100.0

    def describe(self) -> str:
        word = "assumed" if self.assumed else "estimated"
        runs = f"{self.runs} past run" + ("" if self.runs == 1 else "s")
        return f"job-to-job noise {word} {self.cv_pct:.1f}%: {runs}"


def job_noise(past_runs: Sequence[Sequence[float]], *, prior_cv_pct: float = DEFAULT_JOB_NOISE_CV_PCT) -> JobNoise:
    """tau^2 from the repeats of past jobs (each ≥ 2 positive values; see JobNoise for the model)."""
    usable = [_logs(run, "past run") for run in past_runs if len(run) >= 2]
    if len(usable) < MIN_RUNS_FOR_JOB_NOISE:
        prior = math.log1p((prior_cv_pct / 100.0) ** 2)
        return JobNoise(log_var=prior, dof=math.inf, runs=len(usable), assumed=True)
    means = [statistics.fmean(logs) for logs in usable]
    within = statistics.fmean(statistics.variance(logs) / len(logs) for logs in usable)
    tau2 = max(0.0, statistics.variance(means) - within)
    return JobNoise(log_var=tau2, dof=float(len(usable) - 1), runs=len(usable), assumed=False)


def compare_across_jobs(
    candidate: Sequence[float],
    baseline: Sequence[float],
    noise: JobNoise,
    *,
    confidence: float = DEFAULT_CONFIDENCE,
) -> Comparison:
    """Welch's interval widened by the offsets of the two jobs: each side is one job, so the
    difference of log means varies by s_c^2/n_c + s_b^2/n_b + 2 tau^2; Satterthwaite's dof counts
    tau^2's own (k - 1, infinite for a prior)."""
    return _welch(candidate, baseline, 2.0 * noise.log_var, noise.dof, confidence, "compare_across_jobs")


def compare_paired(
    candidate: Sequence[float], baseline: Sequence[float], *, confidence: float = DEFAULT_CONFIDENCE
) -> Comparison:
    """t interval for the mean log ratio of pairs (candidate[i], baseline[i]); ≥ 2 pairs."""
    _check_confidence(confidence)
    log_c, log_b = _logs(candidate, "candidate"), _logs(baseline, "baseline")
    if len(log_c) != len(log_b):
        raise ValueError(f"paired comparison needs as many candidate as baseline values ({len(log_c)} vs {len(log_b)})")
    if len(log_c) < 2:
        raise ValueError("compare_paired() needs at least 2 pairs")
    diffs = [c - b for c, b in zip(log_c, log_b, strict=True)]
    n = len(diffs)
    se = math.sqrt(statistics.variance(diffs) / n)
    return _interval(statistics.fmean(diffs), se, float(n - 1), confidence, "paired-log", n, n)


def cv_pct(values: Sequence[float]) -> float:
    """Coefficient of variation in percent: sample standard deviation over mean (≥ 2 positive values)."""
    if len(values) < 2:
        raise ValueError("cv_pct() needs at least 2 values")
    mean = statistics.fmean(values)
    if not mean > 0:
        raise ValueError(f"cv_pct() needs a positive mean, got {mean!r}")
    return statistics.stdev(values) / mean * 100.0


def geomean(values: Sequence[float]) -> float:
    """The geometric mean of positive values: the centre the log-scale interval is built on."""
    return math.exp(statistics.fmean(_logs(values, "geomean")))


def resolves(comparison: Comparison, limit_pct: float) -> bool:
    """Whether the interval is narrow enough to judge a +limit_pct% limit: its half-width is at most the
    limit. Wider, an unchanged run can land on either side of the limit by noise alone, so no verdict
    drawn from it (pass, "could be noise", or "significant improvement") means anything."""
    return comparison.half_width_pct <= limit_pct


def outliers(values: Sequence[float], *, k: float = DEFAULT_OUTLIER_K) -> tuple[int, ...]:
    """Indices of values further than k x (1.4826 x MAD) from the median; none when MAD is 0 or n < 3."""
    if len(values) < 3:
        return ()
    centre = statistics.median(values)
    mad = statistics.median(abs(v - centre) for v in values)
    if mad == 0:
        return ()
    scale = MAD_TO_SD * mad
    return tuple(i for i, v in enumerate(values) if abs(v - centre) > k * scale)


def t_quantile(p: float, dof: float) -> float:
    """The p-quantile of Student's t with `dof` (> 0, may be fractional) degrees of freedom."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be in (0, 1), got {p}")
    if dof <= 0:
        raise ValueError(f"degrees of freedom must be positive, got {dof}")
    if p == 0.5:
        return 0.0
    if p < 0.5:
        return -t_quantile(1.0 - p, dof)
    low, high = 0.0, 1.0
    while t_cdf(high, dof) < p:  # bracket, then bisect: monotone and robust for any dof
        low, high = high, high * 2.0
    for _ in range(200):
        mid = (low + high) / 2.0
        if t_cdf(mid, dof) < p:
            low = mid
        else:
            high = mid
        if high - low < 1e-12 * max(1.0, high):
            break
    return (low + high) / 2.0


def t_cdf(t: float, dof: float) -> float:
    """P(T ≤ t) for Student's t with `dof` degrees of freedom."""
    x = dof / (dof + t * t)
    tail = 0.5 * _regularized_beta(x, dof / 2.0, 0.5)
    return 1.0 - tail if t > 0 else tail


# --- helpers ----------------------------------------------------------------------------------


def _interval(diff: float, se: float, dof: float, confidence: float, method: Method, n_c: int, n_b: int) -> Comparison:
    half = t_quantile(0.5 + confidence / 2.0, dof) * se
    return Comparison(
        ratio=math.exp(diff),
        low=math.exp(diff - half),
        high=math.exp(diff + half),
        confidence=confidence,
        method=method,
        n_candidate=n_c,
        n_baseline=n_b,
        dof=dof,
    )


def _logs(values: Sequence[float], side: str) -> list[float]:
    bad = [v for v in values if not (v > 0 and math.isfinite(v))]
    if bad:
        raise ValueError(f"{side} values must be positive and finite, got {bad[0]!r}")
    return [math.log(v) for v in values]


def _check_confidence(confidence: float) -> None:
    if not 0.5 <= confidence < 1.0:
        raise ValueError(f"confidence must be in [0.5, 1), got {confidence}")


def _regularized_beta(x: float, a: float, b: float) -> float:
    """I_x(a, b) by its continued fraction (modified Lentz), as in Numerical Recipes' betai."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_fraction(x, a, b) / a
    return 1.0 - math.exp(log_front) * _beta_fraction(1.0 - x, b, a) / b


def _beta_fraction(x: float, a: float, b: float) -> float:
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    result = d
    for m in range(1, 300):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            result *= c * d
        if abs(c * d - 1.0) < 1e-15:
            break
    return result


# --- adaptive repeats: when to measure another one ---------------------------------------------

StopWhy = Literal["below min", "decided", "max reached", "undecided"]


def look_confidence(confidence: float, min_repeats: int, max_repeats: int) -> float:
    """The confidence each interim look uses so the whole sequence keeps the nominal error rate.

    Stopping at the first of up to L = max - min + 1 looks whose interval clears a limit is L tests
    of one hypothesis; naively at level alpha each, the chance that one of them wrongly clears it
    grows towards L x alpha. Bonferroni over the looks, alpha / L per look, bounds it by alpha
    whatever the looks' correlation (conservative: successive looks share most of their repeats)."""
    _check_confidence(confidence)
    if not 2 <= min_repeats <= max_repeats:
        raise ValueError(f"need 2 <= min_repeats <= max_repeats, got {min_repeats} and {max_repeats}")
    looks = max_repeats - min_repeats + 1
    return 1.0 - (1.0 - confidence) / looks


def should_continue(
    comparison: Comparison | None, limits_pct: Sequence[float], repeats_done: int, min_repeats: int, max_repeats: int
) -> tuple[bool, StopWhy]:
    """Measure another repeat? Yes below `min_repeats`, and after it while the interval (computed at
    `look_confidence`) straddles a limit, until `max_repeats`. `comparison` is None before there is one."""
    if repeats_done < min_repeats:
        return True, "below min"
    if comparison is not None and not any(comparison.low_pct <= limit < comparison.high_pct for limit in limits_pct):
        return False, "decided"
    if repeats_done >= max_repeats:
        return False, "max reached"
    return True, "undecided"
