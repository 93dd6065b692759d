"""airspeed velocity's results file (`results/<machine>/<commit>-<env>.json`, api version 2).

`results` maps each benchmark to a row in the order of `result_columns`; its `result` column holds
one value per parameter combination (`params` the combinations' axes), `null` where the benchmark
failed and NaN where it was skipped. Each measured value is a case, offered under the benchmark's
name, or `name(p1, p2)` for a parameterised one; `cases` counts them.
"""

from __future__ import annotations

import itertools

from gate.results.model import ToolOutput, fail, load_json, mapping, number

TOOL = "asv"
COUNTS = ("cases",)


def parse(text: str, source: str) -> ToolOutput:
    data = mapping(load_json(text, source, TOOL), source, "the file", TOOL)
    if data.get("version") != 2:
        raise fail(
            source,
            f"field 'version' is {data.get('version')!r}, not asv's results format 2",
            "rewrite older results with `asv update`, and check that `results.path` names a results file "
            "(not benchmarks.json or machine.json)",
        )
    columns = data.get("result_columns")
    if not isinstance(columns, list) or "result" not in columns:
        raise fail(
            source, "field 'result_columns' is missing or has no 'result'", "asv writes it in every results file"
        )
    at_result = columns.index("result")
    at_params = columns.index("params") if "params" in columns else None
    fields: dict[str, float] = {}
    cases: list[str] = []
    for name, raw in mapping(data.get("results"), source, "field 'results'", TOOL).items():
        if not isinstance(raw, list):
            raise fail(source, f"field 'results/{name}' is not a list", "asv writes each benchmark as a row")
        values = raw[at_result] if len(raw) > at_result else None
        if not isinstance(values, list):
            continue  # failed or not run: no value for any combination
        params = raw[at_params] if at_params is not None and len(raw) > at_params else []
        labels = _labels(name, params if isinstance(params, list) else [], len(values))
        for label, value in zip(labels, values, strict=True):
            found = number(value)
            if found is not None:
                fields[label] = found
                cases.append(label)
    if not cases:
        raise fail(
            source,
            "field 'results' holds no measured value: every benchmark failed or was skipped",
            "run `asv run` by hand to see why",
        )
    return ToolOutput(counts={"cases": float(len(cases))}, fields=fields, cases=tuple(cases))


def _labels(name: str, params: list[object], count: int) -> list[str]:
    axes = [axis for axis in params if isinstance(axis, list)]
    if not axes:
        return [name] if count == 1 else [f"{name}({index})" for index in range(count)]
    combos = [f"{name}({', '.join(str(p) for p in combo)})" for combo in itertools.product(*axes)]
    return combos if len(combos) == count else [f"{name}({index})" for index in range(count)]
