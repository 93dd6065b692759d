"""The Markdown report, pinned by golden files (UPDATE_GOLDEN=1 rewrites them after a deliberate change)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from gate.carbon.model import Intensity
from gate.compare.model import Baseline
from gate.compare.quality import with_relative_quality
from gate.compare.verdict import evaluate
from gate.config.budget import Level, Rules
from gate.energy.model import PhaseSummary
from gate.output.markdown import fence, md, quantity
from gate.output.report import phase_rows, render, table_rows
from gate.output.result import BenchmarkOutcome
from tests.helpers import summary
from tests.support.documents import INTENSITY, RULES, document, outcome
from tests.support.golden import check_golden

LIVE_AFTER_FALLBACK = Intensity(
    302.0,
    "Electricity Maps latest value for DE, lifecycle, estimated",
    "DE",
    1.2,
    provider="electricitymaps",
    basis="live",
    timestamp="2026-11-23T11:00:00.000Z",
    fallback=("electricitymaps zone DE-X: Electricity Maps: the token was refused (HTTP 401: Invalid | token)",),
)


def test_regression_against_baseline() -> None:
    current = summary(
        [91.9, 99.2, 99.0], predictions=107880, quality={"accuracy": 0.9689}, intensity=INTENSITY, power_w=21.8
    )
    base = Baseline(
        run_id="bd84bbff" + "0" * 24,
        metrics={
            "energy_per_prediction_j": 0.0007673,
            "energy_j": 82.77,
            "energy_kwh": 2.299e-05,
            "duration_s": 3.782,
            "mean_power_w": 21.89,
            "emissions_g": 0.008495,
        },
        commit="4b1e0c2aa",
        branch="main",
        start_time_ms=0,
        url="http://mlflow/#/experiments/1/runs/bd84bbff",
    )
    result = outcome(summary=current, baseline=base, decision=evaluate(current, base, RULES))
    check_golden("report_fail.md", render(document(result, "fail")))


def test_first_run_records_a_baseline() -> None:
    current = summary([82.77], predictions=107880, quality={"accuracy": 0.9689}, intensity=None, power_w=21.89)
    result = outcome(summary=current, decision=evaluate(current, None, RULES))
    check_golden(
        "report_first_run.md",
        render(document(result, "pass", ["No carbon source in the budget file: gCO2eq not computed."])),
    )


def test_benchmark_failure_shows_the_output_tail() -> None:
    result = outcome(
        error="benchmark 'digits-svc-inference' exited with status 1 (repeat 1/3)",
        output_tail=("Traceback (most recent call last):", "ValueError: bad | input <b>", "``` and ````"),
    )
    check_golden("report_error.md", render(document(result, "error")))


def test_fence_outgrows_backticks_in_output() -> None:
    assert fence(["plain"]) == "```"
    assert fence(["a ```` b", "``"]) == "`````"


def test_untrusted_text_stays_inert_in_table_cells() -> None:
    assert md("a|b\nc <script> `x` @octocat") == "a\\|b c &lt;script> 'x' @\u200boctocat"
    current = summary([1.0], quality={"acc|uracy": 0.5})
    rows = table_rows(
        document(outcome(summary=current, decision=evaluate(current, None, Rules())), "pass")["benchmarks"][0]
    )
    assert rows[-1]["metric"] == "acc\\|uracy"


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (0.0007673, "J", "767.3 µJ"),
        (82.77, "J", "82.77 J"),
        (1500.0, "J", "1.5 kJ"),
        (2.299e-05, "kWh", "2.299e-05 kWh"),
        (0.5, "kWh", "0.5 kWh"),
        (None, "J", "—"),
        (0.0, "W", "0 W"),
        (0.5, "s", "500 ms"),
        (0.99996, "s", "1 s"),
    ],
)
def test_quantities_are_readable(value: float | None, unit: str, text: str) -> None:
    assert quantity(value, unit) == text


def test_live_intensity_states_zone_time_and_the_fallback_chain() -> None:
    current = summary([82.77], predictions=107880, quality={"accuracy": 0.9689}, intensity=LIVE_AFTER_FALLBACK)
    rules = Rules(budgets={"grid_intensity_g_per_kwh": Level(warn=250.0, line=30)})
    result = outcome(summary=current, decision=evaluate(current, None, rules))
    check_golden("report_live_intensity.md", render(document(result, "warn")))


def test_regression_decided_on_repeats_states_the_interval() -> None:
    current = summary(
        [99.0, 99.4, 98.7, 99.9, 98.8], predictions=107880, quality={"accuracy": 0.9689}, intensity=INTENSITY
    )
    base_summary = summary([82.9, 82.5, 83.1, 82.7, 82.8], predictions=107880, intensity=INTENSITY)
    base = Baseline(
        run_id="bd84bbff" + "0" * 24,
        metrics=dict(base_summary.metrics),
        commit="4b1e0c2aa",
        branch="main",
        start_time_ms=0,
        per_repeat=dict(base_summary.per_repeat),
    )
    result = replace(outcome(summary=current, baseline=base, decision=evaluate(current, base, RULES)), repeats=5)
    text = render(document(result, "fail"))
    assert "| +19.8% ± 0.7% |" in text
    check_golden("report_fail_repeats.md", text)


def test_a_paired_base_is_named_as_measured_in_this_job_not_as_an_mlflow_run() -> None:
    current = summary([99.0, 99.4, 98.7, 99.9, 98.8], predictions=107880, intensity=INTENSITY)
    base_summary = summary([82.9, 82.5, 83.1, 82.7, 82.8], predictions=107880, intensity=INTENSITY)
    base = Baseline(
        run_id="paired:4b1e0c2aa000",
        metrics=dict(base_summary.metrics),
        commit="4b1e0c2aa",
        branch="main",
        start_time_ms=0,
        per_repeat=dict(base_summary.per_repeat),
        paired=True,
    )
    result = replace(outcome(summary=current, baseline=base, decision=evaluate(current, base, RULES)), repeats=5)
    doc = document(result, "fail")
    report, comment = render(doc), render(doc, "pr_comment.md.j2")
    assert "Compared with the base, `main` @ `4b1e0c2`, measured in this job alternately with this commit." in report
    assert "Against the base, `main` @ `4b1e0c2`, measured in this job alternately with this commit." in comment
    assert "- **Baseline:** the base, `main` @ `4b1e0c2`, measured in this job (paired)" in comment
    assert "paired:" not in report + comment
    check_golden("pr_comment_paired.md", comment)


def _first_run(**kwargs: object) -> BenchmarkOutcome:
    current = summary([82.77], predictions=107880, quality={"accuracy": 0.9689}, power_w=21.89)
    return outcome(summary=current, decision=evaluate(current, None, RULES), **kwargs)


def _first_run_sentence(doc: dict[str, object]) -> str:
    (line,) = [x for x in render(doc).splitlines() if "for this hardware" in x]
    return line


def test_a_pr_run_without_a_baseline_does_not_claim_to_be_recorded_as_one() -> None:
    import copy

    doc = copy.deepcopy(document(_first_run(mlflow_run_id="r1"), "pass"))
    assert doc["context"]["pr_number"] is not None
    sentence = _first_run_sentence(doc)
    assert "recorded as one" not in sentence.replace("not recorded as one", "")
    assert "not recorded as a baseline" in sentence


def test_a_branch_run_not_in_mlflow_does_not_claim_to_be_recorded() -> None:
    import copy

    doc = copy.deepcopy(document(_first_run(), "pass"))
    doc["context"].update(pr_number=None, base_branch=None, branch="main")
    sentence = _first_run_sentence(doc)
    assert "not in MLflow" in sentence and "is recorded as one" not in sentence


def test_a_branch_run_logged_within_budget_is_recorded_as_the_baseline() -> None:
    import copy

    doc = copy.deepcopy(document(_first_run(mlflow_run_id="r1"), "pass"))
    doc["context"].update(pr_number=None, base_branch=None, branch="main")
    assert "this run is recorded as one" in _first_run_sentence(doc)


def test_a_branch_run_over_budget_does_not_claim_to_be_recorded_as_the_baseline() -> None:
    import copy

    current = summary([1.0, 1.1, 1.0])
    over = outcome(summary=current, decision=evaluate(current, None, RULES), mlflow_run_id="r1")
    assert over.verdict == "fail"
    doc = copy.deepcopy(document(over, "fail"))
    doc["context"].update(pr_number=None, base_branch=None, branch="main")
    assert "over budget, this run is not recorded as one" in _first_run_sentence(doc)


def test_a_benchmark_counting_tokens_reads_j_per_token_with_its_quality_against_the_baseline() -> None:

    rules = Rules(
        limits_pct={"energy_per_prediction_j": Level(fail=5.0)},
        quality_min_ratio={"accuracy": (0.99, 8)},
        efficiency_pct={"accuracy": Level(fail=2.0, line=8)},
    )
    current = summary([97.0], predictions=1000, quality={"accuracy": 0.9})
    base = Baseline("b" * 32, {"energy_per_prediction_j": 0.1, "accuracy": 0.95}, "c0ffee0", "main", 0)
    decision = with_relative_quality(evaluate(current, base, rules), current, base, rules)
    bench = document(outcome(summary=current, baseline=base, decision=decision, unit="token"), "fail")
    rows = {row["metric"]: row for row in table_rows(bench["benchmarks"][0])}
    assert rows["Energy per token (J)"]["current"] == "97 mJ"
    assert (rows["accuracy"]["baseline"], rows["accuracy"]["change"]) == ("0.95", "-5.3%")
    assert rows["accuracy"]["status"].startswith("❌ fail")
    efficiency = rows["Energy per token per accuracy point (J)"]
    assert (efficiency["baseline"], efficiency["current"], efficiency["change"]) == ("105.3 mJ", "107.8 mJ", "+2.4%")
    assert "Energy per token" in render(bench, "pr_comment.md.j2")
    assert "Emissions per token per accuracy point (gCO2eq)" not in rows  # no carbon source: no gCO2eq


def test_grams_per_item_per_quality_point_stand_beside_the_joules_with_their_change() -> None:
    rules = Rules(quality_min_ratio={"accuracy": (0.99, 8)}, efficiency_pct={"accuracy": Level(fail=2.0, line=8)})
    current = summary([97.0, 97.5, 96.5], predictions=1000, quality={"accuracy": 0.9}, intensity=INTENSITY)
    base_run = summary([100.0, 100.4, 99.6], predictions=1000, intensity=INTENSITY)
    base = Baseline(
        "b" * 32, {**base_run.metrics, "accuracy": 0.95}, "c0ffee0", "main", 0, per_repeat=dict(base_run.per_repeat)
    )
    decision = with_relative_quality(evaluate(current, base, rules), current, base, rules)
    bench = document(outcome(summary=current, baseline=base, decision=decision, unit="token"), "fail")
    rows = {row["metric"]: row for row in table_rows(bench["benchmarks"][0])}
    joules = rows["Energy per token per accuracy point (J)"]
    assert joules["change"].startswith("+2.4% ± ")  # decided on repeats, as a relative limit is
    grams = rows["Emissions per token per accuracy point (gCO2eq)"]
    # 369.5 g/kWh: 100 J per run is 1.026e-02 g; per token (1000) per point (0.95)
    assert grams["baseline"] == f"{0.01026389 / 1000 / 0.95:.4g} gCO2eq"
    assert (grams["change"], grams["limit"], grams["status"]) == ("+2.4%", "—", "—")
    check_golden("report_efficiency.md", render(bench))


def test_a_loaded_runner_is_inconclusive_with_its_cv_and_the_advice() -> None:
    # An unchanged benchmark on a loaded runner: -14.0% ± 27.5%, which alone would read as "within the limit".
    current = summary(
        [60.0, 95.0, 70.0, 88.0, 52.0], predictions=107880, quality={"accuracy": 0.9689}, intensity=INTENSITY
    )
    base_summary = summary([82.9, 82.5, 83.1, 82.7, 82.8], predictions=107880, intensity=INTENSITY)
    base = Baseline(
        run_id="bd84bbff" + "0" * 24,
        metrics=dict(base_summary.metrics),
        commit="4b1e0c2aa",
        branch="main",
        start_time_ms=0,
        per_repeat=dict(base_summary.per_repeat),
    )
    decision = evaluate(current, base, RULES)
    result = replace(outcome(summary=current, baseline=base, decision=decision), repeats=5)
    text = render(document(result, decision.verdict))
    assert "inconclusive: " in text and "use paired mode, more repeats, or a quieter runner" in text
    check_golden("report_inconclusive.md", text)


def test_prefill_and_decode_each_show_energy_per_token_in_report_and_comment() -> None:
    current = replace(
        summary([100.0, 101.0, 99.0], predictions=1088, quality={"accuracy": 0.97}, intensity=INTENSITY),
        phases=(
            PhaseSummary("prefill", 40.0, 1.0, 1024, 40.0 / 1024),
            PhaseSummary("decode", 60.0, 3.0, 64, 60.0 / 64),
        ),
    )
    result = outcome(summary=current, unit="token", decision=evaluate(current, None, RULES))
    doc = document(result, "pass")
    report = render(doc)
    assert "| prefill | 1,024 | 40 J | 1 s | 39.06 mJ |" in report
    assert "| decode | 64 | 60 J | 3 s | 937.5 mJ |" in report
    check_golden("report_phases.md", report)
    check_golden("pr_comment_phases.md", render(doc, "pr_comment.md.j2"))


def test_one_phase_or_phases_without_items_add_no_phase_table() -> None:
    one = replace(summary([100.0]), phases=(PhaseSummary("encode", 100.0, 1.0, 1000, 0.1),))
    uncounted = replace(
        summary([100.0]),
        phases=(PhaseSummary("load", 10.0, 1.0, None, None), PhaseSummary("encode", 90.0, 1.0, None, None)),
    )
    for current in (one, uncounted):
        bench = document(outcome(summary=current, decision=evaluate(current, None, RULES)), "pass")["benchmarks"][0]
        assert phase_rows(bench) == []
        assert bench["phases"]  # the JSON keeps them all the same
