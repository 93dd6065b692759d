"""Each tool format's parser on files the real tools wrote (tests/data/results/README.md says where
each comes from), and on what a broken or foreign file looks like."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gate.errors import BenchmarkError
from gate.results import asv, lm_eval, mlperf_loadgen, pyperf, pytest_benchmark, vllm_bench
from gate.results.formats import FORMATS, TOOL_FORMATS

DATA = Path(__file__).resolve().parents[1] / "data" / "results"


def test_vllm_serve_result_offers_requests_and_tokens() -> None:
    path = DATA / "vllm-serve-result.json"
    out = vllm_bench.parse(path.read_text(), str(path))
    assert out.counts == {"requests": 500, "input_tokens": 100895, "output_tokens": 106724, "tokens": 207619}
    assert out.fields["mean_ttft_ms"] == pytest.approx(59.7957, rel=1e-5)
    assert out.fields["request_throughput"] == pytest.approx(1.92182, rel=1e-5)


def test_vllm_throughput_output_json_offers_requests_and_tokens() -> None:
    text = json.dumps(
        {
            "elapsed_time": 12.5,
            "num_requests": 1000,
            "total_num_tokens": 256000,
            "requests_per_second": 80.0,
            "tokens_per_second": 20480.0,
        }
    )
    out = vllm_bench.parse(text, "throughput.json")
    assert out.counts == {"requests": 1000, "tokens": 256000}
    assert out.fields["tokens_per_second"] == 20480.0


def test_vllm_file_without_its_counts_names_the_field() -> None:
    with pytest.raises(BenchmarkError, match=r"'completed'.*'num_requests'") as caught:
        vllm_bench.parse('{"backend": "vllm"}', "out/serve.json")
    assert caught.value.file == "out/serve.json"


def test_vllm_count_that_is_not_a_number_is_refused() -> None:
    text = '{"completed": "500", "total_input_tokens": 1, "total_output_tokens": 2}'
    with pytest.raises(BenchmarkError, match="field 'completed' is '500', not a count"):
        vllm_bench.parse(text, "serve.json")


def test_lm_eval_results_offer_samples_and_each_task_metric() -> None:
    path = DATA / "lm-eval-results.json"
    out = lm_eval.parse(path.read_text(encoding="utf-8"), str(path))
    assert out.counts == {"samples": 30, "tasks": 3}
    assert out.fields["arc_easy/acc,none"] == 0.3
    assert out.fields["wikitext/word_perplexity,none"] == pytest.approx(130.48136)
    assert "arc_easy/acc_stderr,none" not in out.fields  # "N/A": not a number
    assert "arc_easy/sample_len" not in out.fields


def test_lm_eval_samples_file_is_not_a_results_file() -> None:
    with pytest.raises(BenchmarkError, match="field 'results' is missing"):
        lm_eval.parse('{"doc_id": 0, "target": "A"}', "samples_arc_easy.jsonl")


def test_asv_results_offer_each_measured_value_as_a_case() -> None:
    path = DATA / "asv-results-v2.json"
    out = asv.parse(path.read_text(), str(path))
    assert out.counts == {"cases": 13}
    assert out.fields["time_units.time_unit_parse"] == pytest.approx(0.011466357707977295)
    # The parameterised benchmark: each combination a case; the failed one (null) is not.
    assert out.fields["time_other.time_parameterized(1)"] == 1
    assert out.fields["time_other.time_parameterized(2)"] == 4
    assert "time_other.time_parameterized(3)" not in out.fields
    assert "time_AAA_skip" not in out.fields and "time_AAA_failure" not in out.fields  # NaN, null


def test_asv_results_of_the_old_format_ask_for_asv_update() -> None:
    with pytest.raises(BenchmarkError, match="not asv's results format 2") as caught:
        asv.parse('{"version": 1, "results": {"a": 1.0}}', "old.json")
    assert "asv update" in (caught.value.hint or "")


def test_pytest_benchmark_without_cases_is_refused_not_zero() -> None:
    with pytest.raises(BenchmarkError, match="'benchmarks' is empty"):
        pytest_benchmark.parse('{"benchmarks": [], "version": "5.1.0"}', "bench.json")


def test_pyperf_benchmark_with_only_warmups_is_refused() -> None:
    text = json.dumps({"benchmarks": [{"metadata": {"name": "b", "loops": 4}, "runs": [{"warmups": [[1, 0.1]]}]}]})
    with pytest.raises(BenchmarkError, match=r"benchmark 'b'.*has no values"):
        pyperf.parse(text, "pyperf.json")


def test_pyperf_loops_come_from_the_run_then_the_benchmark_then_the_file() -> None:
    text = json.dumps(
        {
            "metadata": {"loops": 2, "inner_loops": 10},
            "benchmarks": [
                {
                    "metadata": {"name": "a"},
                    "runs": [{"values": [1.0, 3.0]}, {"metadata": {"loops": 8}, "values": [2.0]}],
                }
            ],
        }
    )
    out = pyperf.parse(text, "p.json")
    assert out.counts == {"cases": 1, "values": 3, "calls": 2 * 2 * 10 + 1 * 8 * 10}
    assert out.fields["a/mean"] == 2.0 and out.fields["a/median"] == 2.0


@pytest.mark.parametrize("name", sorted(TOOL_FORMATS))
def test_every_format_names_the_file_when_it_is_not_json_or_not_its_log(name: str) -> None:
    with pytest.raises(BenchmarkError) as caught:
        TOOL_FORMATS[name].parse("this is not what the tool writes\n", "results/out.txt")
    assert caught.value.file == "results/out.txt"
    assert caught.value.hint


def test_loadgen_log_cut_short_has_no_validity() -> None:
    text = ':::MLLOG {"key": "loadgen_version", "value": "6.0.17", "metadata": {}}\n'
    with pytest.raises(BenchmarkError, match="'result_validity' is missing"):
        mlperf_loadgen.parse(text, "mlperf_log_detail.txt")


def test_the_budget_schema_lists_exactly_these_formats() -> None:
    schema = json.loads((Path(__file__).resolve().parents[2] / "gate/config/green-budget.v1.schema.json").read_text())
    assert schema["$defs"]["results"]["properties"]["format"]["enum"] == list(FORMATS)
