"""The budget's `results:` block: what it builds, and each mistake refused before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from gate.config.budget import Level, ResultsSpec
from gate.config.load import parse_budget
from gate.errors import ConfigError

HEAD = "version: 1\nbenchmarks:\n  - name: b\n    command: python b.py\n    results:\n"


def _budget(block: str) -> str:
    return HEAD + "".join(f"      {line}\n" for line in block.strip().splitlines())


def test_a_results_block_builds_the_spec_with_its_line() -> None:
    text = _budget("format: lm-eval\npath: out/**/results_*.json\ncount: samples\nquality:\n  acc: arc_easy/acc,none")
    (spec,) = parse_budget(text, Path("/repo/green-budget.yml")).benchmarks
    assert spec.results == ResultsSpec(
        "lm-eval", "out/**/results_*.json", "samples", (("acc", "arc_easy/acc,none"),), 5
    )


def test_no_results_block_reads_the_metrics_file() -> None:
    (spec,) = parse_budget("version: 1\nbenchmarks:\n  - {name: b, command: x}\n", Path("b.yml")).benchmarks
    assert spec.results is None


def test_loadgen_path_defaults_to_its_detail_log() -> None:
    (spec,) = parse_budget(_budget("format: mlperf-loadgen"), Path("b.yml")).benchmarks
    assert spec.results is not None and spec.results.path is None


@pytest.mark.parametrize(
    ("block", "message", "line"),
    [
        (
            "format: vllm-bench\npath: r.json\ncount: tokenz",
            "'tokenz' is not a count vllm-bench offers; use one of: requests, input_tokens, output_tokens, tokens",
            8,
        ),
        ("format: pytest-benchmark", "format 'pytest-benchmark' needs 'path'", 5),
        (
            "format: json\npath: r.json\ncount: stats/n",
            "'stats/n' is not a JSON Pointer: a JSON Pointer starts with '/'",
            8,
        ),
        ("format: json\npath: r.json", "format 'json' needs 'count': a JSON Pointer to the count", 5),
        ("format: stdout\ncount: 'n=\\d+'", "has 0 capturing groups", 7),
        ("format: stdout\ncount: 'a=(\\d+)'\npath: out.txt", "'path' does not apply to format 'stdout'", 8),
        ("format: metrics\npath: m.json", "'path' does not apply to format 'metrics'", 7),
        ("format: pyperf\npath: 'out/{run}.json'", "the only placeholder a path takes is {repeat}", 7),
        (
            "format: lm-eval\npath: r.json\nquality:\n  energy_j: arc/acc,none",
            "quality metric name 'energy_j' is one of the metrics the gate computes itself",
            8,
        ),
        (
            "format: pyperf\npath: p.json\nformat2: x",
            "unknown key 'benchmarks[0].results.format2'; did you mean 'format'?",
            8,
        ),
        ("format: pyperf\npath: p.json\nzzz: x", None, None),
    ],
)
def test_mistakes_are_configuration_errors_with_the_line(block: str, message: str | None, line: int | None) -> None:
    text = _budget(block)
    if message is None:  # an unknown key like no known one is a warning, as everywhere in the budget
        budget = parse_budget(text, Path("/repo/green-budget.yml"))
        assert any("unknown key 'benchmarks[0].results.zzz'" in w for w in budget.warnings)
        return
    with pytest.raises(ConfigError) as caught:
        parse_budget(text, Path("/repo/green-budget.yml"))
    assert message in caught.value.message
    assert caught.value.line == line


def test_unknown_format_lists_the_formats() -> None:
    with pytest.raises(ConfigError, match="'vllm' is not one of: metrics, vllm-bench, mlperf-loadgen"):
        parse_budget(_budget("format: vllm\npath: r.json"), Path("b.yml"))


def test_case_limits_build_with_their_lines_and_a_glob_matches() -> None:
    text = (
        "version: 1\nbenchmarks:\n  - name: b\n    command: pytest\n    cases:\n"
        "      'test_*': {energy_per_item_j: {fail: +15%}}\n      test_large: {energy_j: {warn: 5, fail: 10}}\n"
    )
    (spec,) = parse_budget(text, Path("b.yml")).benchmarks
    assert spec.rules.case_limits("test_small") == ("test_*", {"energy_per_item_j": Level(fail=15.0, line=6)})
    assert spec.rules.case_limits("test_large") == ("test_large", {"energy_j": Level(warn=5.0, fail=10.0, line=7)})
    assert spec.rules.case_limits("bench_x") is None


def test_case_limit_with_warn_above_fail_is_refused() -> None:
    text = "version: 1\nbenchmarks:\n  - name: b\n    command: pytest\n    cases:\n"
    text += "      a: {energy_j: {warn: 9, fail: 3}}\n"
    with pytest.raises(ConfigError, match=r"cases\.a\.energy_j: warn \(9\) is above fail \(3\)") as caught:
        parse_budget(text, Path("b.yml"))
    assert caught.value.line == 6


def test_case_limit_on_an_unknown_figure_is_an_unknown_key() -> None:
    text = "version: 1\nbenchmarks:\n  - name: b\n    command: pytest\n    cases:\n      a: {joules: {fail: 3}}\n"
    budget = parse_budget(text, Path("b.yml"))
    assert budget.warnings == ("b.yml:6: unknown key 'benchmarks[0].cases.a.joules' is ignored",)
