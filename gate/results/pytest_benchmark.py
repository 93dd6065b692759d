"""pytest-benchmark's `--benchmark-json` file: one entry per benchmarked test (a case).

Each case has `stats` (`rounds`, `iterations`, `mean`, `median`, `min`, `max`, `stddev`, `ops`; times
in seconds); they are offered as `<case>/<stat>` where the case is its `name` (`test_parse[small]`).
Counts: `cases`, `rounds` (all cases' rounds) and `calls` (rounds × iterations, summed).
"""

from __future__ import annotations

from gate.results.model import ToolOutput, fail, load_json, mapping, number

TOOL = "pytest-benchmark"
COUNTS = ("cases", "rounds", "calls")
STATS = ("min", "max", "mean", "stddev", "median", "iqr", "ops", "total", "rounds", "iterations")


def parse(text: str, source: str) -> ToolOutput:
    data = mapping(load_json(text, source, TOOL), source, "the file", TOOL)
    benchmarks = data.get("benchmarks")
    if not isinstance(benchmarks, list):
        raise fail(source, "field 'benchmarks' is missing or not a list", "run pytest with --benchmark-json=PATH")
    if not benchmarks:
        raise fail(
            source,
            "field 'benchmarks' is empty: pytest ran no benchmark",
            "check the test selection (-k, markers) and that the tests use the `benchmark` fixture",
        )
    fields: dict[str, float] = {}
    names: list[str] = []
    rounds = calls = 0.0
    for index, entry in enumerate(benchmarks):
        case = mapping(entry, source, f"field 'benchmarks/{index}'", TOOL)
        name = case.get("name")
        if not isinstance(name, str) or not name:
            raise fail(source, f"field 'benchmarks/{index}/name' is missing", "pytest-benchmark names every case")
        stats = mapping(case.get("stats"), source, f"field 'benchmarks/{index}/stats'", TOOL)
        case_rounds = number(stats.get("rounds"))
        iterations = number(stats.get("iterations"))
        if case_rounds is None or iterations is None:
            raise fail(
                source,
                f"field 'benchmarks/{index}/stats/rounds' or '/iterations' is missing",
                "pytest-benchmark writes both for every case",
            )
        names.append(name)
        rounds += case_rounds
        calls += case_rounds * iterations
        for stat in STATS:
            value = number(stats.get(stat))
            if value is not None:
                fields[f"{name}/{stat}"] = value
    counts = {"cases": float(len(names)), "rounds": rounds, "calls": calls}
    return ToolOutput(counts=counts, fields=fields, cases=tuple(names))
