"""vLLM's benchmark results: `vllm bench serve --save-result` and `vllm bench throughput --output-json`.

serve writes `completed`, `total_input_tokens`, `total_output_tokens` and its throughput and latency
figures (`request_throughput`, `mean_ttft_ms`, `p99_itl_ms`, ...); throughput writes `num_requests`,
`total_num_tokens` (prompt and output together), `requests_per_second`, `tokens_per_second`.
"""

from __future__ import annotations

from gate.results.model import ToolOutput, fail, load_json, mapping, numeric_fields, required_count

TOOL = "vLLM's benchmark"
COUNTS = ("requests", "input_tokens", "output_tokens", "tokens")


def parse(text: str, source: str) -> ToolOutput:
    data = mapping(load_json(text, source, TOOL), source, "the file", TOOL)
    fields = numeric_fields(data)
    if "completed" in data:  # vllm bench serve --save-result
        requests = required_count(data, "completed", source, TOOL)
        input_tokens = required_count(data, "total_input_tokens", source, TOOL)
        output_tokens = required_count(data, "total_output_tokens", source, TOOL)
        counts = {
            "requests": requests,
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "tokens": input_tokens + output_tokens,
        }
        return ToolOutput(counts=counts, fields=fields)
    if "num_requests" in data:  # vllm bench throughput --output-json
        counts = {
            "requests": required_count(data, "num_requests", source, TOOL),
            "tokens": required_count(data, "total_num_tokens", source, TOOL),
        }
        if "total_output_tokens" in data:
            counts["output_tokens"] = required_count(data, "total_output_tokens", source, TOOL)
        return ToolOutput(counts=counts, fields=fields)
    raise fail(
        source,
        "field 'completed' (vllm bench serve) or 'num_requests' (vllm bench throughput) is missing",
        "run `vllm bench serve --save-result` or `vllm bench throughput --output-json FILE` and point "
        "`results.path` at that file",
    )
