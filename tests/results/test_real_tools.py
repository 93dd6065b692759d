"""The parsers on files pytest-benchmark, pyperf and MLPerf LoadGen write in a real run here."""

from __future__ import annotations

from pathlib import Path

import pytest

from gate.errors import BenchmarkError
from gate.results import mlperf_loadgen, pyperf, pytest_benchmark
from tests.support import tools

pytestmark = pytest.mark.slow


def test_pytest_benchmark_json_offers_each_case_and_its_calls(tmp_path: Path) -> None:
    path = tools.run_pytest_benchmark(tmp_path, tmp_path / "bench.json")
    out = pytest_benchmark.parse(path.read_text(), str(path))
    assert out.cases == ("test_small", "test_medium", "test_large", "test_sort", "test_join")
    assert out.counts == {"cases": 5, "rounds": 200, "calls": 200}
    assert 0 < out.fields["test_small/min"] <= out.fields["test_small/mean"] <= out.fields["test_small/max"]
    assert out.fields["test_small/rounds"] == 40


def test_pyperf_json_offers_each_benchmark_and_its_calls(tmp_path: Path) -> None:
    path = tools.run_pyperf(tmp_path, tmp_path / "pyperf.json")
    out = pyperf.parse(path.read_text(), str(path))
    assert out.cases == ("sum_1k", "sorted_1k")
    # 2 processes × 2 values each, 64 loops a value (warm-ups left out)
    assert out.counts == {"cases": 2, "values": 8, "calls": 8 * 64}
    assert out.fields["sum_1k/mean"] > 0


def test_loadgen_valid_offline_run_counts_its_samples(tmp_path: Path) -> None:
    path = tools.run_loadgen(tmp_path, tmp_path / "logs")
    out = mlperf_loadgen.parse(path.read_text(), str(path))
    # Offline: one query of expected QPS × min duration × 1.1 samples
    assert out.counts == {"samples": 220, "queries": 1}
    assert out.fields["result_samples_per_second"] > 0


def test_loadgen_run_it_marked_invalid_is_refused_with_its_reason(tmp_path: Path) -> None:
    path = tools.run_loadgen(tmp_path, tmp_path / "logs", sleep_s=0)
    assert "Result is : INVALID" in (path.parent / "mlperf_log_summary.txt").read_text()
    with pytest.raises(BenchmarkError, match=r"'result_validity' is 'INVALID'.*result_min_duration_met") as caught:
        mlperf_loadgen.parse(path.read_text(), str(path))
    assert caught.value.file == str(path)
