"""Noise-aware comparison: values pinned against published t tables and scipy's ttest intervals."""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Callable

import pytest

from gate.compare import stats
from gate.compare.stats import compare_independent, compare_paired, outliers, t_cdf, t_quantile

CANDIDATE = [106.1, 107.0, 105.5, 106.4, 105.9]
BASELINE = [100.0, 101.0, 99.5, 100.3, 99.8]


@pytest.mark.parametrize(
    ("p", "dof", "expected"),
    [
        (0.975, 4, 2.7764451051977934),  # the t table every textbook prints
        (0.975, 10, 2.228138851986274),
        (0.995, 1, 63.656741162871526),
        (0.975, 7.5, 2.333039626864974),  # fractional dof, as Welch–Satterthwaite gives
        (0.95, 30, 1.697260886593957),
    ],
)
def test_t_quantile_matches_the_tables(p: float, dof: float, expected: float) -> None:
    assert t_quantile(p, dof) == pytest.approx(expected, rel=1e-9)
    assert t_quantile(1 - p, dof) == pytest.approx(-expected, rel=1e-9)
    assert t_cdf(expected, dof) == pytest.approx(p, abs=1e-12)


@pytest.mark.parametrize("p", [0.6, 0.9, 0.975, 0.995, 0.999, 0.9999])
def test_t_quantile_matches_the_closed_forms_of_one_and_two_degrees_of_freedom(p: float) -> None:
    # dof 1 is Cauchy's distribution, F(t) = 1/2 + atan(t)/π; for dof 2, F(t) = 1/2 + t / (2√(2 + t²)).
    assert t_quantile(p, 1) == pytest.approx(math.tan(math.pi * (p - 0.5)), rel=1e-11)
    assert t_quantile(p, 2) == pytest.approx((2 * p - 1) / math.sqrt(2 * p * (1 - p)), rel=1e-11)


@pytest.mark.parametrize("t", [0.05, 0.3, 1.0, 2.5, 10.0, 100.0])
def test_t_cdf_matches_the_closed_forms_of_one_two_and_three_degrees_of_freedom(t: float) -> None:
    assert t_cdf(t, 1) == pytest.approx(0.5 + math.atan(t) / math.pi, abs=1e-14)
    assert t_cdf(t, 2) == pytest.approx(0.5 + t / (2 * math.sqrt(2 + t * t)), abs=1e-14)
    three = 0.5 + (t / (math.sqrt(3) * (1 + t * t / 3)) + math.atan(t / math.sqrt(3))) / math.pi
    assert t_cdf(t, 3) == pytest.approx(three, abs=1e-14)


@pytest.mark.parametrize(
    ("t", "dof", "expected"),
    [  # scipy.stats.t.cdf: many degrees of freedom and a t near 0, where the continued fraction's form matters
        (0.05, 30, 0.5197730956750235),
        (0.05, 120, 0.5198972413668055),
        (0.05, 500, 0.5199288223446878),
        (0.3, 500, 0.6178490820245965),
    ],
)
def test_t_cdf_near_zero_with_many_degrees_of_freedom(t: float, dof: float, expected: float) -> None:
    assert t_cdf(t, dof) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    ("p", "dof", "expected"),
    [
        (0.55, 120, 0.1259275682522095),
        (0.55, 500, 0.125725186671953),
        (0.6, 500, 0.2534819498516658),
    ],  # scipy.stats.t.ppf
)
def test_t_quantile_near_the_median_with_many_degrees_of_freedom(p: float, dof: float, expected: float) -> None:
    assert t_quantile(p, dof) == pytest.approx(expected, rel=1e-10)


def test_t_cdf_known_value_and_bad_arguments() -> None:
    assert t_cdf(2.0, 5) == pytest.approx(0.9490302605850708, abs=1e-12)
    assert t_quantile(0.5, 3) == 0.0
    with pytest.raises(ValueError, match="p must be in"):
        t_quantile(1.0, 3)
    with pytest.raises(ValueError, match="degrees of freedom"):
        t_quantile(0.9, 0)


def test_welch_on_logs_matches_scipy_interval() -> None:
    # scipy.stats.ttest_ind(log(c), log(b), equal_var=False).confidence_interval(0.95)
    result = compare_independent(CANDIDATE, BASELINE)
    assert math.log(result.low) == pytest.approx(0.05073305252693569, abs=1e-12)
    assert math.log(result.high) == pytest.approx(0.06680312236652877, abs=1e-12)
    assert result.dof == pytest.approx(7.957108048740209)
    assert result.change_pct == pytest.approx(6.05292621694973)
    assert (result.method, result.n_candidate, result.n_baseline) == ("welch-log", 5, 5)
    assert result.significant
    assert result.describe() == "+6.1% ± 0.9% (95% CI)"


def test_paired_on_logs_matches_scipy_interval() -> None:
    # scipy.stats.ttest_rel(log(c), log(b)).confidence_interval(0.95)
    result = compare_paired(CANDIDATE, BASELINE)
    assert math.log(result.low) == pytest.approx(0.0579462154537855, abs=1e-12)
    assert math.log(result.high) == pytest.approx(0.059589959439679326, abs=1e-12)
    assert result.dof == 4.0 and result.method == "paired-log"
    assert result.describe() == "+6.1% ± 0.1% (95% CI)"


@pytest.mark.parametrize(
    ("candidate", "limit_pct", "judgement"),
    [
        (CANDIDATE, 5.0, "beyond"),  # the whole interval [+5.2%, +6.9%] is above +5%
        (CANDIDATE, 6.0, "uncertain"),  # the point (+6.05%) is above +6%, the interval is not
        (CANDIDATE, 7.0, "within"),
    ],
)
def test_limit_is_exceeded_only_when_the_whole_interval_is_beyond_it(
    candidate: list[float], limit_pct: float, judgement: str
) -> None:
    assert compare_independent(candidate, BASELINE).judge(limit_pct) == judgement


def test_no_change_is_not_significant_and_noise_widens_the_interval() -> None:
    same = compare_independent([100.0, 101.0, 99.0], [100.5, 99.5, 100.0])
    assert not same.significant
    assert same.low < 1.0 < same.high
    noisy = compare_independent([100.0, 110.0, 90.0], [100.5, 99.5, 100.0])
    assert noisy.half_width_pct > same.half_width_pct
    assert (
        compare_independent(CANDIDATE, BASELINE, confidence=0.99).half_width_pct
        > compare_independent(CANDIDATE, BASELINE).half_width_pct
    )


def test_identical_repeats_give_a_zero_width_interval() -> None:
    result = compare_independent([2.0, 2.0], [1.0, 1.0])
    assert result.ratio == result.low == result.high == pytest.approx(2.0)
    assert result.describe() == "+100.0% ± 0.0% (95% CI)"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: compare_independent([1.0], [1.0, 2.0]), "at least 2 values"),
        (lambda: compare_independent([1.0, 0.0], [1.0, 2.0]), "candidate values must be positive"),
        (lambda: compare_independent([1.0, 2.0], [1.0, math.nan]), "baseline values must be positive"),
        (lambda: compare_paired([1.0, 2.0, 3.0], [1.0, 2.0]), "as many candidate as baseline"),
        (lambda: compare_paired([1.0], [1.0]), "at least 2 pairs"),
        (lambda: compare_independent([1.0, 2.0], [1.0, 2.0], confidence=1.0), "confidence must be"),
    ],
)
def test_bad_input_is_refused_with_a_reason(call: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def test_outliers_beyond_k_mad() -> None:
    assert outliers([1.0, 1.01, 0.99, 1.0, 1.3]) == (4,)
    assert outliers([1.0, 1.01, 0.99, 1.0, 1.3], k=100) == ()
    assert outliers([1.0, 1.0, 1.0, 5.0]) == ()  # MAD 0: nothing can be called an outlier
    assert outliers([1.0, 9.0]) == ()  # too few to tell


# --- job-to-job noise: the two-level model ----------------------------------------------------


def _jobs(rng: random.Random, k: int, n: int, tau: float, sigma: float) -> list[list[float]]:
    """k jobs of n repeats, log-normal: a job offset N(0, tau) and noise N(0, sigma) on the log scale."""
    jobs = []
    for _ in range(k):
        offset = rng.gauss(0.0, tau)
        jobs.append([math.exp(offset + rng.gauss(0.0, sigma)) for _ in range(n)])
    return jobs


def test_with_too_few_past_runs_the_job_noise_is_the_stated_prior() -> None:
    noise = stats.job_noise([[1.0, 1.01], [1.02, 1.03]])
    assert noise.assumed and noise.runs == 2 and math.isinf(noise.dof)
    assert noise.cv_pct == pytest.approx(1.0)
    assert noise.describe() == "job-to-job noise assumed 1.0%: 2 past runs"
    assert stats.job_noise([[1.0]], prior_cv_pct=2.5).describe() == "job-to-job noise assumed 2.5%: 0 past runs"


def test_job_noise_is_estimated_from_past_runs() -> None:
    rng = random.Random(7)
    noise = stats.job_noise(_jobs(rng, 400, 5, tau=0.03, sigma=0.01))
    assert not noise.assumed and noise.runs == 400 and noise.dof == 399
    assert noise.cv_pct == pytest.approx(3.0, abs=0.3)
    assert noise.describe().startswith("job-to-job noise estimated 3.")


def test_no_job_offsets_estimate_no_job_noise() -> None:
    rng = random.Random(11)
    noise = stats.job_noise(_jobs(rng, 400, 5, tau=0.0, sigma=0.02))
    assert noise.cv_pct < 0.5  # the within-job noise is not counted twice


def test_without_job_noise_the_interval_is_welchs() -> None:
    # scipy.stats.ttest_ind(log(c), log(b), equal_var=False).confidence_interval(0.95), as above
    none = stats.JobNoise(log_var=0.0, dof=5.0, runs=6, assumed=False)
    across = stats.compare_across_jobs(CANDIDATE, BASELINE, none)
    assert math.log(across.low) == pytest.approx(0.05073305252693569, abs=1e-12)
    assert math.log(across.high) == pytest.approx(0.06680312236652877, abs=1e-12)
    assert across.dof == pytest.approx(7.957108048740209)


@pytest.mark.parametrize(("noise_dof", "t_975"), [(4.0, 2.7764451), (math.inf, 2.3060041)])
def test_two_jobs_offsets_add_twice_the_job_variance(noise_dof: float, t_975: float) -> None:
    # No spread within either job: the interval is the two jobs' offsets alone, sqrt(2 tau^2) on the
    # log scale, with tau^2's own dof (4; t table 2.7764) or, for a prior taken as known, the
    # samples' 5 + 5 - 2 (t table 2.3060).
    tau2 = math.log1p(0.02**2)
    noise = stats.JobNoise(log_var=tau2, dof=noise_dof, runs=5, assumed=False)
    result = stats.compare_across_jobs([1.08] * 5, [1.0] * 5, noise)
    half = t_975 * math.sqrt(2.0 * tau2)
    assert result.dof == pytest.approx(noise_dof if math.isfinite(noise_dof) else 8.0)
    assert (result.low, result.ratio, result.high) == pytest.approx(
        (1.08 * math.exp(-half), 1.08, 1.08 * math.exp(half)), rel=1e-6
    )


def test_job_noise_brings_the_a_a_false_alarm_rate_back_to_nominal() -> None:
    # Two unchanged jobs whose offsets (CV 3%) dwarf the noise within them (1%): Welch alone treats
    # the offset as a change; with tau estimated from 20 past jobs the 95% interval holds ~95%.
    rng = random.Random(3)
    trials, welch_alarms, across_alarms = 600, 0, 0
    for _ in range(trials):
        past = _jobs(rng, 20, 5, tau=0.03, sigma=0.01)
        cand, base = _jobs(rng, 2, 5, tau=0.03, sigma=0.01)
        welch_alarms += stats.compare_independent(cand, base).significant
        across_alarms += stats.compare_across_jobs(cand, base, stats.job_noise(past)).significant
    assert welch_alarms / trials > 0.5
    assert across_alarms / trials < 0.08


# --- adaptive repeats: the stopping rule ------------------------------------------------------


def test_each_look_uses_the_bonferroni_share_of_alpha() -> None:
    assert stats.look_confidence(0.95, 5, 5) == pytest.approx(0.95)  # a fixed count: one look
    assert stats.look_confidence(0.95, 3, 12) == pytest.approx(0.995)  # 10 looks at 0.5% each
    with pytest.raises(ValueError, match="min_repeats"):
        stats.look_confidence(0.95, 6, 3)


def test_more_repeats_while_the_interval_straddles_a_limit_until_max() -> None:
    straddles = compare_independent([1.04, 1.06, 1.02], [1.0, 1.01, 0.99])
    clear = compare_independent([1.20, 1.21, 1.19], [1.0, 1.01, 0.99])
    assert stats.should_continue(None, [5.0], 2, 3, 12) == (True, "below min")
    assert stats.should_continue(straddles, [2.0, 5.0], 3, 3, 12) == (True, "undecided")
    assert stats.should_continue(straddles, [2.0, 5.0], 12, 3, 12) == (False, "max reached")
    assert stats.should_continue(clear, [2.0, 5.0], 3, 3, 12) == (False, "decided")


def _adaptive_fails(rng: random.Random, ratio: float, confidence: float, corrected: bool) -> bool:
    """One check measured adaptively (min 3, max 12, CV 3%): does it fail a +5% limit?"""
    look = stats.look_confidence(confidence, 3, 12) if corrected else confidence
    base = [math.exp(rng.gauss(0.0, 0.03)) for _ in range(12)]
    cand: list[float] = []
    while True:
        cand.append(ratio * math.exp(rng.gauss(0.0, 0.03)))
        result = compare_independent(cand, base, confidence=look) if len(cand) >= 2 else None
        go_on, _ = stats.should_continue(result, [5.0], len(cand), 3, 12)
        if not go_on:
            assert result is not None
            return result.low_pct > 5.0


def test_the_corrected_stopping_rule_keeps_the_false_fail_rate_at_its_nominal_level() -> None:
    # A true change of exactly +5% must not "significantly exceed" +5% more than 2.5% of the time.
    rng = random.Random(5)
    trials = 150
    corrected = sum(_adaptive_fails(rng, 1.05, 0.95, corrected=True) for _ in range(trials)) / trials
    naive = sum(_adaptive_fails(rng, 1.05, 0.95, corrected=False) for _ in range(trials)) / trials
    assert corrected <= 0.025
    assert naive > 0.05  # stopping at the first look that clears the limit inflates it (8% here)


def test_a_per_look_confidence_reads_with_at_most_two_decimals() -> None:
    values = [1.0, 1.01, 0.99]
    level = stats.look_confidence(0.95, 3, 8)  # 6 looks: 99.1666...%
    assert stats.compare_independent(values, values, confidence=level).describe() == "+0.0% ± 4.0% (99.17% CI)"
    assert stats.compare_independent(values, values).describe().endswith("(95% CI)")


# --- boundaries of the pure helpers ---------------------------------------------------------------


def _interval(low: float, high: float, ratio: float = 1.0) -> stats.Comparison:
    return stats.Comparison(ratio, low, high, 0.95, "welch-log", 5, 5, 8.0)


def test_a_significant_change_either_way_excludes_one() -> None:
    assert compare_independent(BASELINE, CANDIDATE).significant  # a clear improvement: wholly below 1
    assert not _interval(1.0, 1.1).significant  # touching "no change" is not excluding it
    assert not _interval(0.9, 1.0).significant
    assert _interval(1.0001, 1.1).significant and _interval(0.9, 0.9999).significant


def test_an_interval_resolves_a_limit_equal_to_its_half_width() -> None:
    interval = _interval(0.5, 1.5)  # half-width exactly 50 points
    assert interval.half_width_pct == 50.0
    assert stats.resolves(interval, 50.0) and not stats.resolves(interval, math.nextafter(50.0, 0.0))


def test_confidence_may_be_one_half_but_no_less() -> None:
    assert compare_independent(CANDIDATE, BASELINE, confidence=0.5).describe() == "+6.1% ± 0.3% (50% CI)"
    with pytest.raises(ValueError, match=r"confidence must be in \[0.5, 1\), got 0.49"):
        compare_independent(CANDIDATE, BASELINE, confidence=0.49)


def test_three_values_are_enough_to_call_an_outlier() -> None:
    assert outliers([1.0, 1.1, 5.0]) == (2,)


def test_a_value_exactly_k_mad_away_is_not_an_outlier() -> None:
    values = [0.0, 1.0, 2.0, 3.0, 10.0]  # median 2, MAD 1: 10 is 8 away
    k = 8.0 / stats.MAD_TO_SD
    while k * stats.MAD_TO_SD != 8.0:
        k = math.nextafter(k, math.inf if k * stats.MAD_TO_SD < 8.0 else -math.inf)
    assert outliers(values, k=k) == ()
    assert outliers(values, k=math.nextafter(k, 0.0)) == (4,)


def test_job_noise_counts_only_runs_with_two_repeats_and_says_run_for_one() -> None:
    assert stats.job_noise([[1.0, 1.01]]).describe() == "job-to-job noise assumed 1.0%: 1 past run"
    three = stats.job_noise([[1.0, 1.01], [1.0], [1.02, 1.03], [1.1, 1.11]])
    assert (three.runs, three.dof, three.assumed) == (3, 2.0, False)
    assert three.log_var == pytest.approx(0.0024828084791859916, rel=1e-9)


def test_the_looks_start_at_two_repeats() -> None:
    assert stats.look_confidence(0.95, 2, 2) == 0.95
    with pytest.raises(ValueError, match="need 2 <= min_repeats <= max_repeats, got 1 and 5"):
        stats.look_confidence(0.95, 1, 5)


def test_an_interval_starting_at_a_limit_straddles_it_and_one_ending_there_does_not() -> None:
    starts = _interval(1.05, 1.08, 1.06)
    ends = _interval(1.02, 1.05, 1.03)
    assert stats.should_continue(starts, [starts.low_pct], 5, 3, 12) == (True, "undecided")
    assert stats.should_continue(ends, [ends.high_pct], 5, 3, 12) == (False, "decided")
    assert stats.should_continue(starts, [starts.low_pct], 11, 3, 12) == (True, "undecided")


def test_t_cdf_at_the_ends_and_below_zero() -> None:
    assert t_cdf(-2.0, 5) == pytest.approx(1.0 - 0.9490302605850708, abs=1e-12)
    assert t_cdf(0.0, 5) == 0.5
    assert t_cdf(math.inf, 5) == 1.0


def test_no_values_have_no_outliers() -> None:
    assert outliers([]) == ()


def test_a_cv_needs_two_values_and_a_positive_mean() -> None:
    with pytest.raises(ValueError, match=r"cv_pct\(\) needs at least 2 values"):
        stats.cv_pct([1.0])
    with pytest.raises(ValueError, match=r"cv_pct\(\) needs a positive mean, got -1.0"):
        stats.cv_pct([-1.0, -1.0])


@pytest.mark.parametrize(
    "value",
    [compare_independent(CANDIDATE, BASELINE), stats.job_noise([])],
    ids=["comparison", "job-noise"],
)
def test_statistics_values_are_frozen(value: object) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        value.dof = 1.0  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: compare_paired(CANDIDATE, BASELINE, confidence=1.0), r"confidence must be in \[0.5, 1\), got 1.0"),
        (lambda: stats.look_confidence(1.0, 3, 5), r"confidence must be in \[0.5, 1\), got 1.0"),
        (lambda: stats.cv_pct([-1.0, 1.0]), r"cv_pct\(\) needs a positive mean, got 0.0"),
        (lambda: t_quantile(0.0, 3), r"p must be in \(0, 1\), got 0.0"),
    ],
)
def test_every_entry_point_refuses_what_it_cannot_compute(call: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()
