"""lm-evaluation-harness's results JSON (`lm_eval --output_path`): the quality side of a benchmark.

`results` holds each task's metrics as `"<metric>,<filter>"` (e.g. `"acc,none"`); they are offered as
`<task>/<metric>,<filter>` (`arc_easy/acc,none`). `n-samples` holds each task's samples (`effective`:
after `--limit`); their sum is the `samples` count. Stderr fields the harness could not compute
(`"N/A"`) are not numbers and are left out.
"""

from __future__ import annotations

from gate.results.model import ToolOutput, fail, load_json, mapping, number

TOOL = "lm-evaluation-harness"
COUNTS = ("samples", "tasks")


def parse(text: str, source: str) -> ToolOutput:
    data = mapping(load_json(text, source, TOOL), source, "the file", TOOL)
    if "results" not in data:
        raise fail(
            source,
            "field 'results' is missing",
            "point `results.path` at the results_<date>.json lm_eval writes under --output_path (not a samples file)",
        )
    results = mapping(data["results"], source, "field 'results'", TOOL)
    fields: dict[str, float] = {}
    for task, metrics in results.items():
        for key, value in mapping(metrics, source, f"field 'results/{task}'", TOOL).items():
            found = number(value)
            if found is not None and key != "sample_len":
                fields[f"{task}/{key}"] = found
    samples = 0.0
    n_samples = mapping(data.get("n-samples", {}), source, "field 'n-samples'", TOOL)
    for task, counts in n_samples.items():
        entry = mapping(counts, source, f"field 'n-samples/{task}'", TOOL)
        value = number(entry.get("effective", entry.get("original")))
        if value is None:
            raise fail(source, f"field 'n-samples/{task}/effective' is not a number", "lm_eval writes it per task")
        samples += value
    if not n_samples:
        raise fail(
            source,
            "field 'n-samples' is missing or empty: no sample count to charge energy to",
            "use a results file from lm-evaluation-harness 0.4 or later",
        )
    return ToolOutput(counts={"samples": samples, "tasks": float(len(results))}, fields=fields)
