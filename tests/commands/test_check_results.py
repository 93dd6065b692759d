"""`green-gate check` end to end on each results format: counts and quality read from what the real
tool wrote in each repeat (pytest-benchmark, pyperf and MLPerf LoadGen run here; vLLM, lm-eval and
asv files are the real tools' outputs kept in tests/data/results/), and a missing, stale or INVALID
output stopping the check with exit 3."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import run_cli
from tests.support.mlflow import seed_embedded_store
from tests.support.tools import write_tools

pytestmark = pytest.mark.slow

DATA = Path(__file__).resolve().parents[1] / "data" / "results"


def _check(
    project: Path, benchmark: str, cli_env: dict[str, str], *, repeats: int = 1, extra: str = ""
) -> tuple[int, str, dict[str, Any]]:
    (project / "green-budget.yml").write_text(
        "version: 1\nbenchmarks:\n"
        + benchmark
        + f"    repeats: {repeats}\n    warmup: 0\n    timeout_s: 120\n"
        + "carbon:\n  intensity_g_per_kwh: 100\n"
        + extra
    )
    seed_embedded_store(project)
    result = run_cli("check", "--json", "result.json", cwd=project, env=cli_env)
    doc = json.loads((project / "result.json").read_text())
    return result.returncode, result.stdout + result.stderr, doc["benchmarks"][0]


def _per_item(bench: dict[str, Any]) -> float:
    metrics = bench["metrics"]
    return float(metrics["energy_j"] / metrics["energy_per_prediction_j"])


def test_pytest_benchmark_calls_are_the_count_in_each_repeat(tmp_path: Path, cli_env: dict[str, str]) -> None:
    write_tools(tmp_path)
    code, output, bench = _check(
        tmp_path,
        "  - name: suite\n"
        "    command: mkdir -p out && python -m pytest -q -p no:cacheprovider test_suite.py "
        "--benchmark-json=out/$GREEN_GATE_REPEAT.json\n"
        "    unit: call\n"
        "    results: {format: pytest-benchmark, path: 'out/{repeat}.json', count: calls, "
        "quality: {small_mean_s: test_small/mean}}\n",
        cli_env,
        repeats=2,
        extra="quality:\n  small_mean_s: {max: 1}\n",
    )
    assert code == 0, output
    assert (tmp_path / "out/1.json").is_file() and (tmp_path / "out/2.json").is_file()
    assert _per_item(bench) == pytest.approx(200)  # 5 cases × 40 rounds × 1 iteration
    assert 0 < bench["quality"]["small_mean_s"] < 1
    assert {c["metric"]: c["status"] for c in bench["checks"]}["small_mean_s"] == "pass"
    assert "Energy per call (J)" in output


def test_pyperf_calls_are_the_count(tmp_path: Path, cli_env: dict[str, str]) -> None:
    write_tools(tmp_path)
    code, output, bench = _check(
        tmp_path,
        "  - name: perf\n"
        "    command: python bench_pyperf.py --quiet -o pyperf-$GREEN_GATE_REPEAT.json\n"
        "    unit: call\n"
        "    results: {format: pyperf, path: 'pyperf-{repeat}.json', count: calls,\n"
        "              quality: {sum_mean_s: sum_1k/mean}}\n",
        cli_env,
    )
    assert code == 0, output
    assert _per_item(bench) == pytest.approx(512)
    assert bench["quality"]["sum_mean_s"] > 0


def test_loadgen_samples_are_the_count(tmp_path: Path, cli_env: dict[str, str]) -> None:
    write_tools(tmp_path)
    code, output, bench = _check(
        tmp_path,
        "  - name: offline\n"
        "    command: python sut.py logs/$GREEN_GATE_REPEAT\n"
        "    unit: sample\n"
        "    results: {format: mlperf-loadgen, path: 'logs/{repeat}', quality: {qps: result_samples_per_second}}\n",
        cli_env,
    )
    assert code == 0, output
    assert _per_item(bench) == pytest.approx(220)
    assert bench["quality"]["qps"] > 0


def test_loadgen_run_marked_invalid_exits_3_naming_the_file_and_field(tmp_path: Path, cli_env: dict[str, str]) -> None:
    write_tools(tmp_path)
    code, output, bench = _check(
        tmp_path,
        "  - name: offline\n"
        "    command: python sut.py logs\n"
        "    env: {SUT_SLEEP_S: 0}\n"
        "    results: {format: mlperf-loadgen, path: logs}\n",
        cli_env,
    )
    assert code == 3, output
    assert f"{tmp_path / 'logs' / 'mlperf_log_detail.txt'}: field 'result_validity' is 'INVALID'" in output
    assert bench["verdict"] == "error"


@pytest.mark.parametrize(
    ("fixture", "results", "count", "quality"),
    [
        (
            "vllm-serve-result.json",
            "{format: vllm-bench, path: out.json, count: output_tokens, quality: {ttft_ms: mean_ttft_ms}}",
            106724,
            {"ttft_ms": pytest.approx(59.7957, rel=1e-5)},
        ),
        (
            "lm-eval-results.json",
            "{format: lm-eval, path: out.json, quality: {arc_acc: 'arc_easy/acc,none'}}",
            30,
            {"arc_acc": 0.3},
        ),
        (
            "asv-results-v2.json",
            "{format: asv, path: out.json, quality: {parse_s: time_units.time_unit_parse}}",
            13,
            {"parse_s": pytest.approx(0.011466357707977295)},
        ),
    ],
)
def test_kept_tool_outputs_are_gated_end_to_end(
    tmp_path: Path, cli_env: dict[str, str], fixture: str, results: str, count: int, quality: dict[str, Any]
) -> None:
    code, output, bench = _check(
        tmp_path,
        f"  - name: tool\n    command: cp {DATA / fixture} out.json\n    results: {results}\n",
        cli_env,
        extra="quality:\n" + "".join(f"  {name}: {{min: 0}}\n" for name in quality),
    )
    assert code == 0, output
    assert _per_item(bench) == pytest.approx(count)
    assert bench["quality"] == quality
    assert all(c["status"] == "pass" for c in bench["checks"] if c["metric"] in quality)


def test_json_and_stdout_formats(tmp_path: Path, cli_env: dict[str, str]) -> None:
    (tmp_path / "bench.py").write_text(
        "import json\n"
        "json.dump({'summary': {'images': 640, 'top1': 0.76}}, open('report.json', 'w'))\n"
        "print('requests completed: 64')\nprint('p99 latency: 12.5 ms')\n"
    )
    code, output, bench = _check(
        tmp_path,
        "  - name: j\n    command: python bench.py\n"
        "    results: {format: json, path: report.json, count: /summary/images, quality: {top1: /summary/top1}}\n",
        cli_env,
    )
    assert code == 0, output
    assert _per_item(bench) == pytest.approx(640)
    assert bench["quality"] == {"top1": 0.76}
    code, output, bench = _check(
        tmp_path,
        "  - name: s\n    command: python bench.py\n"
        "    results: {format: stdout, count: 'requests completed: (\\d+)',\n"
        "              quality: {p99_ms: 'p99 latency: ([0-9.]+) ms'}}\n",
        cli_env,
    )
    assert code == 0, output
    assert _per_item(bench) == pytest.approx(64)
    assert bench["quality"] == {"p99_ms": 12.5}


def test_stale_output_left_from_before_exits_3(tmp_path: Path, cli_env: dict[str, str]) -> None:
    (tmp_path / "out.json").write_text((DATA / "vllm-serve-result.json").read_text())
    old = time.time() - 3600
    os.utime(tmp_path / "out.json", (old, old))
    code, output, bench = _check(
        tmp_path,
        "  - name: tool\n    command: 'true'\n    results: {format: vllm-bench, path: out.json}\n",
        cli_env,
    )
    assert code == 3, output
    assert f"{tmp_path / 'out.json'}: the results file is stale" in output
    assert bench["verdict"] == "error" and bench["metrics"] == {}
