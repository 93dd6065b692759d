"""The result formats the budget's `results.format` names, and what each offers. Pure."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gate.results import asv, lm_eval, mlperf_loadgen, pyperf, pytest_benchmark, vllm_bench
from gate.results.model import ToolOutput

METRICS_FILE = "metrics"  # the default: the benchmark writes $GREEN_GATE_METRICS
JSON = "json"  # any JSON file, read by JSON Pointers
STDOUT = "stdout"  # a regular expression over the benchmark's output


@dataclass(frozen=True)
class ToolFormat:
    """One tool's result file: its parser, the counts it offers (the first is the default)."""

    tool: str
    parse: Callable[[str, str], ToolOutput]
    counts: tuple[str, ...]
    default_path: str | None = None  # where the tool writes it when the budget does not say

    @property
    def default_count(self) -> str:
        return self.counts[0]


TOOL_FORMATS: dict[str, ToolFormat] = {
    "vllm-bench": ToolFormat(vllm_bench.TOOL, vllm_bench.parse, vllm_bench.COUNTS),
    "mlperf-loadgen": ToolFormat(
        mlperf_loadgen.TOOL, mlperf_loadgen.parse, mlperf_loadgen.COUNTS, mlperf_loadgen.DEFAULT_PATH
    ),
    "lm-eval": ToolFormat(lm_eval.TOOL, lm_eval.parse, lm_eval.COUNTS),
    "pytest-benchmark": ToolFormat(pytest_benchmark.TOOL, pytest_benchmark.parse, pytest_benchmark.COUNTS),
    "pyperf": ToolFormat(pyperf.TOOL, pyperf.parse, pyperf.COUNTS),
    "asv": ToolFormat(asv.TOOL, asv.parse, asv.COUNTS),
}

FORMATS = (METRICS_FILE, *TOOL_FORMATS, JSON, STDOUT)
