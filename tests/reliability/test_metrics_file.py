"""Property: whatever a benchmark writes to $GREEN_GATE_METRICS, parsing it ends in metrics the gate
can log and judge, or a BenchmarkError (exit 3) naming the file or the key, in a message of bounded
length; never another exception, never a hang, never a non-finite number or a name of the gate's."""

from __future__ import annotations

import math

import pytest
from hypothesis import given

from gate.bench.process import MAX_PREDICTIONS, METRICS_ENV, parse_metrics
from gate.errors import BenchmarkError, ExitCode
from gate.tracking.schema import benchmark_metric_problem
from tests.reliability.strategies import REPRODUCIBLE_THOUSAND, metrics_texts

pytestmark = pytest.mark.slow  # 1,000 generated cases take a few seconds

MAX_MESSAGE_CHARS = 1_000


@REPRODUCIBLE_THOUSAND
@given(metrics_texts())
def test_any_metrics_text_parses_or_is_a_benchmark_error_naming_the_key(text: str) -> None:
    try:
        parsed = parse_metrics(text)
    except BenchmarkError as error:
        assert error.exit_code == ExitCode.BENCHMARK_FAILED
        assert f"${METRICS_ENV}" in error.message
        assert len(error.render()) <= MAX_MESSAGE_CHARS, error.render()[:500]
        return
    assert parsed.predictions is None or 1 <= parsed.predictions <= MAX_PREDICTIONS
    assert all(math.isfinite(v) for v in parsed.quality.values())
    assert all(benchmark_metric_problem(name) is None for name in parsed.quality)
