"""pyperf's JSON (`-o FILE`, `--append FILE`): benchmarks, each with runs of values.

Each value is the mean time of one call over `loops` × `inner_loops` calls; `loops` sits in the run's
metadata, else the benchmark's, else the file's. Warm-up values are left out (pyperf does too).
Offered per benchmark (a case): `<name>/mean`, `/median`, `/min`, `/max` (seconds); counts: `cases`,
`values`, and `calls` (values × loops × inner_loops).
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping

from gate.results.model import ToolOutput, fail, load_json, mapping, number

TOOL = "pyperf"
COUNTS = ("cases", "values", "calls")


def parse(text: str, source: str) -> ToolOutput:
    data = mapping(load_json(text, source, TOOL), source, "the file", TOOL)
    benchmarks = data.get("benchmarks")
    if not isinstance(benchmarks, list) or not benchmarks:
        raise fail(source, "field 'benchmarks' is missing or empty", "write the results with pyperf's -o FILE")
    top = _meta(data)
    fields: dict[str, float] = {}
    names: list[str] = []
    values_count = calls = 0.0
    for index, entry in enumerate(benchmarks):
        bench = mapping(entry, source, f"field 'benchmarks/{index}'", TOOL)
        meta = _meta(bench)
        name = meta.get("name", top.get("name"))
        if not isinstance(name, str) or not name:
            raise fail(source, f"field 'benchmarks/{index}/metadata/name' is missing", "pyperf names every benchmark")
        runs = bench.get("runs")
        if not isinstance(runs, list):
            raise fail(source, f"field 'benchmarks/{index}/runs' is missing", "pyperf writes each benchmark's runs")
        values: list[float] = []
        for run_index, raw_run in enumerate(runs):
            run = mapping(raw_run, source, f"field 'benchmarks/{index}/runs/{run_index}'", TOOL)
            run_meta = _meta(run)
            raw_values = run.get("values")
            run_values = (
                [v for v in (number(x) for x in raw_values or ()) if v is not None]
                if isinstance(raw_values, list)
                else []
            )
            if not run_values:
                continue  # a calibration run: warm-ups only
            loops = number(_first(("loops",), run_meta, meta, top)) or 1.0
            inner = number(_first(("inner_loops",), run_meta, meta, top)) or 1.0
            values.extend(run_values)
            calls += len(run_values) * loops * inner
        if not values:
            raise fail(
                source,
                f"benchmark {name!r} (field 'benchmarks/{index}/runs') has no values",
                "the pyperf run was cut short; run it to the end",
            )
        names.append(name)
        values_count += len(values)
        fields[f"{name}/mean"] = statistics.fmean(values)
        fields[f"{name}/median"] = statistics.median(values)
        fields[f"{name}/min"] = min(values)
        fields[f"{name}/max"] = max(values)
    return ToolOutput(
        counts={"cases": float(len(names)), "values": values_count, "calls": calls}, fields=fields, cases=tuple(names)
    )


def _meta(holder: Mapping[str, object]) -> Mapping[str, object]:
    meta = holder.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _first(keys: tuple[str, ...], *metadata: object) -> object:
    for meta in metadata:
        if isinstance(meta, dict):
            for key in keys:
                if key in meta:
                    return meta[key]
    return None
