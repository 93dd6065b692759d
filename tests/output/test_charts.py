"""The trend chart: recent baselines and this run, the fail limit as its own series, colours set in
its init block; and every chart the templates can produce rendered by the real mermaid package in
headless Chromium, so a chart that does not parse never reaches a PR."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from gate.output.report import CHART_COLOURS, render, trend_chart
from tests.commands.test_comment import fail_document
from tests.support import mermaid


def _bench() -> dict[str, Any]:
    bench: dict[str, Any] = fail_document()["benchmarks"][0]
    return bench


def every_chart() -> dict[str, str]:
    """One chart per shape the template can draw: with and without a fail limit, each trend metric,
    a named unit, one history point, and values from nano to kilo."""
    charts: dict[str, str] = {}
    base = _bench()
    charts["fail limit"] = trend_chart(base)
    no_limit = copy.deepcopy(base)
    no_limit["checks"] = [c for c in no_limit["checks"] if c["rule"] != "relative"]
    charts["no limit"] = trend_chart(no_limit)
    tokens = copy.deepcopy(base)
    tokens["unit"] = "token"
    charts["unit"] = trend_chart(tokens)
    per_run = copy.deepcopy(base)
    del per_run["metrics"]["energy_per_prediction_j"]
    for h in per_run["history"]:
        h["metrics"] = {"energy_j": 80.0 + len(h["run_id"])}
    charts["energy per run"] = trend_chart(per_run)
    single = copy.deepcopy(base)
    single["history"] = single["history"][-1:]
    charts["one baseline"] = trend_chart(single)
    for name, scale in (("nano", 1e-6), ("kilo", 1e6)):
        scaled = copy.deepcopy(base)
        scaled["metrics"]["energy_per_prediction_j"] *= scale
        for h in scaled["history"]:
            h["metrics"]["energy_per_prediction_j"] *= scale
        for c in scaled["checks"]:
            if c["metric"] == "energy_per_prediction_j" and c.get("baseline"):
                c["baseline"] *= scale
        charts[name] = trend_chart(scaled)
    comment = render(fail_document(), "pr_comment.md.j2")
    charts["as in the comment"] = re.search(r"```mermaid\n.*?```", comment, re.S).group(0)  # type: ignore[union-attr]
    assert all(charts.values()), [name for name, chart in charts.items() if not chart]
    return charts


def test_the_fail_limit_is_its_own_series_at_the_baseline_times_one_plus_the_limit() -> None:
    chart = trend_chart(_bench())
    runs, limit = re.findall(r"^    line \"[^\"]*\" \[(.*)\]$", chart, re.M)
    assert runs == "770.2, 765.5, 767.3, 895.8"
    assert limit == ", ".join(["805.7"] * 4)  # 767.3 µJ x 1.05


def test_the_fail_limit_line_is_labelled_in_its_series_and_in_the_title() -> None:
    chart = trend_chart(_bench())
    assert re.findall(r'^    line "([^"]*)" ', chart, re.M) == ["runs", "fail limit +5%"]
    # Older mermaid draws no legend: the title says which line is the limit too.
    assert re.search(r'^    title ".*red line: fail limit \+5%"$', chart, re.M)


def test_baseline_runs_on_one_commit_keep_a_point_each() -> None:
    bench = _bench()
    for h in bench["history"]:
        h["commit"] = "4b1e0c2aa"  # the baseline branch re-run on one commit
    chart = trend_chart(bench)
    labels = re.findall(r'"([^"]*)"', re.search(r"^    x-axis \[(.*)\]$", chart, re.M).group(1))  # type: ignore[union-attr]
    assert labels == ["4b1e0c2", "4b1e0c2 (2)", "4b1e0c2 (3)", "this run"]
    runs = re.search(r'^    line "runs" \[(.*)\]$', chart, re.M).group(1)  # type: ignore[union-attr]
    assert len(runs.split(", ")) == len(labels)


def test_colours_are_set_in_the_init_block_for_light_and_dark_themes() -> None:
    chart = trend_chart(_bench())
    init = chart.splitlines()[1]
    assert init.startswith("%%{init:") and init.endswith("}%%")
    assert f'"plotColorPalette": "{CHART_COLOURS["runs"]}, {CHART_COLOURS["fail_limit"]}"' in init
    assert '"backgroundColor": "transparent"' in init


def test_without_a_relative_limit_only_the_runs_are_drawn() -> None:
    bench = _bench()
    bench["checks"] = []
    assert re.findall(r'^    line "([^"]*)"', trend_chart(bench), re.M) == ["runs"]
    assert "fail limit" not in trend_chart(bench)


@pytest.mark.slow
def test_every_chart_the_templates_can_produce_renders_in_mermaid() -> None:
    reason = mermaid.missing()
    if reason:
        pytest.skip(reason)
    charts = every_chart()
    rendered = mermaid.render(list(charts.values()))
    failed = {name: r.detail for name, r in zip(charts, rendered, strict=True) if not r.ok}
    assert failed == {}, f"mermaid {mermaid.mermaid_version()} refused: {failed}"
    for name, result in zip(charts, rendered, strict=True):
        assert "<svg" in result.detail, name
        series = 2 if name not in ("no limit", "energy per run") else 1
        assert result.detail.count('class="line-plot-') >= series or result.detail.count("<path") >= series, name
    assert CHART_COLOURS["fail_limit"] in rendered[0].detail  # the init block's palette took effect
