"""MLPerf Inference LoadGen's `mlperf_log_detail.txt`: one `:::MLLOG {json}` record per line.

The run's validity is `result_validity` (VALID / INVALID: minimum duration or query count not met,
early stopping failed); a run LoadGen marks INVALID is refused, never gated. Samples are the queries
LoadGen counted (`result_query_count`) times the samples in each (`effective_samples_per_query`:
1 for SingleStream and Server, the whole batch for Offline).
"""

from __future__ import annotations

import json

from gate.errors import quoted
from gate.results.model import ToolOutput, fail, number

TOOL = "MLPerf LoadGen"
COUNTS = ("samples", "queries")
PREFIX = ":::MLLOG "
DEFAULT_PATH = "mlperf_log_detail.txt"


def parse(text: str, source: str) -> ToolOutput:
    records: dict[str, object] = {}
    errors: list[str] = []
    for number_, line in enumerate(text.splitlines(), start=1):
        if not line.startswith(PREFIX):
            continue
        try:
            record = json.loads(line[len(PREFIX) :])
        except json.JSONDecodeError as exc:
            raise fail(
                source, f"line {number_} is not a LoadGen record ({exc.msg})", "the log is cut short or not LoadGen's"
            ) from None
        if not isinstance(record, dict) or not isinstance(record.get("key"), str):
            continue
        records[record["key"]] = record.get("value")
        metadata = record.get("metadata")
        if isinstance(metadata, dict) and metadata.get("is_error") is True:
            errors.append(str(record.get("value")))
    if "result_validity" not in records:
        raise fail(
            source,
            "field 'result_validity' is missing: LoadGen did not finish this run",
            f"point `results.path` at the run's {DEFAULT_PATH} (written by LoadGen when the test ends)",
        )
    validity = records["result_validity"]
    if validity != "VALID":
        unmet = [key for key in ("result_min_duration_met", "result_min_queries_met") if records.get(key) is False]
        why = f" ({', '.join(unmet)} false)" if unmet else ""
        more = f"; LoadGen logged errors: {'; '.join(errors[:3])}" if errors else ""
        raise fail(
            source,
            f"field 'result_validity' is {quoted(validity)}: LoadGen marked this run invalid{why}{more}",
            "make the run valid (for Offline raise offline_expected_qps or the SUT's work, for the other "
            "scenarios min_duration / min_query_count) — an invalid run is not gated",
        )
    queries = number(records.get("result_query_count"))
    per_query = number(records.get("effective_samples_per_query"))
    if queries is None or per_query is None:
        missing = "result_query_count" if queries is None else "effective_samples_per_query"
        raise fail(source, f"field {missing!r} is missing or not a number", "LoadGen writes it in every detail log")
    fields = {
        key: value for key, raw in records.items() if key.startswith("result_") and (value := number(raw)) is not None
    }
    return ToolOutput(counts={"samples": queries * per_query, "queries": queries}, fields=fields)
