"""A tool's output as plain values: the counts it offers, its numeric fields, its cases. No I/O here."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from gate.errors import BenchmarkError, cut, quoted

# A result file is a few MB at most (vLLM keeps per-request lists); more is the wrong file.
MAX_RESULT_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class ToolOutput:
    """What one tool output says about one repeat.

    `counts`: the units of work it did, by name (`requests`, `output_tokens`, `samples`, `cases`);
    `fields`: every numeric field the budget may map to a quality metric, by the name the docs give;
    `cases`: for suites, each case's own fields (pytest-benchmark tests, pyperf benchmarks, asv).
    """

    counts: dict[str, float]
    fields: dict[str, float]
    cases: tuple[str, ...] = field(default=())


def fail(source: str, what: str, hint: str) -> BenchmarkError:
    """The error a parser raises: names the file (or stdout), the field and how to fix it."""
    return BenchmarkError(what, hint=hint, file=source)


def load_json(text: str, source: str, tool: str) -> object:
    """`text` as JSON, or an error naming `source` and where the JSON breaks."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise fail(
            source,
            f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}); expected {tool}'s result file",
            "check that `results.path` names the file the tool writes, and that the run completed",
        ) from None
    except (RecursionError, ValueError) as exc:
        raise fail(source, f"cannot be read as JSON: {cut(str(exc))}", "check `results.path`") from None


def mapping(value: object, source: str, where: str, tool: str) -> Mapping[str, object]:
    if not isinstance(value, dict):
        raise fail(
            source,
            f"{where} is {type(value).__name__}, not an object as {tool} writes it",
            f"check that `results.path` names {tool}'s result file and `results.format` is right",
        )
    return value


def number(value: object) -> float | None:
    """A finite JSON number (not a boolean), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def required_count(data: Mapping[str, object], key: str, source: str, tool: str) -> float:
    """A count field that must be there: a finite number at least 0."""
    if key not in data:
        raise fail(source, f"field {quoted(key)} is missing", f"{tool} writes it in every result; is this its file?")
    value = number(data[key])
    if value is None or value < 0:
        raise fail(
            source, f"field {quoted(key)} is {quoted(data[key])}, not a count", f"{tool} writes it as a whole number"
        )
    return value


def numeric_fields(data: Mapping[str, object], prefix: str = "") -> dict[str, float]:
    """Every finite number directly in `data`, keyed `prefix + key` (lists and strings skipped)."""
    fields: dict[str, float] = {}
    for key, value in data.items():
        found = number(value)
        if found is not None:
            fields[prefix + str(key)] = found
    return fields
