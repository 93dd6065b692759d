"""Read one repeat's tool output: find the file, refuse a missing, stale or malformed one, pick the
budget's count and quality metrics from it. The file system is read here; the parsing is pure.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from pathlib import Path

from gate.config.budget import ResultsSpec
from gate.errors import BenchmarkError, quoted
from gate.results import formats, json_pointer, stdout
from gate.results.model import MAX_RESULT_BYTES, ToolOutput, fail

REPEAT_ENV = "GREEN_GATE_REPEAT"
# A file system stamps mtimes from a coarse clock (one jiffy, up to 10 ms on Linux) that can lag
# time.time(): a file written just after the repeat started may carry a stamp a little before it.
MTIME_SLACK_S = 0.02
_GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True)
class RepeatCounts:
    """What one repeat did, as the budget counts it, and the quality metrics it reported."""

    count: int
    quality: dict[str, float]
    cases: tuple[str, ...] = ()
    source: str = ""  # the file (or "the benchmark's output") it was read from


def read_repeat(
    spec: ResultsSpec, *, cwd: Path, repeat: int, started_wall_s: float, output: tuple[str, ...]
) -> RepeatCounts:
    """The count and quality metrics of measured repeat `repeat` (1-based), which started at
    `started_wall_s` (time.time()); `output` is the benchmark's output tail. Raises BenchmarkError
    (exit 3) naming the file and the field."""
    if spec.format == formats.STDOUT:
        count_pattern = spec.count or ""
        count = stdout.find(output, count_pattern, "count")
        quality = {name: stdout.find(output, pattern, name) for name, pattern in spec.quality}
        return RepeatCounts(_whole(count, stdout.SOURCE, count_pattern), quality, source=stdout.SOURCE)
    path = locate(spec, cwd=cwd, repeat=repeat, started_wall_s=started_wall_s)
    source = str(path)
    text = _read(path)
    if spec.format == formats.JSON:
        document = json_pointer.parse_document(text, source)
        pointer = spec.count or ""
        count = json_pointer.resolve(document, pointer, source)
        quality = {name: json_pointer.resolve(document, pointer_, source) for name, pointer_ in spec.quality}
        return RepeatCounts(_whole(count, source, pointer), quality, source=source)
    tool = formats.TOOL_FORMATS[spec.format]
    parsed = tool.parse(text, source)
    name = spec.count or tool.default_count
    return RepeatCounts(
        _whole(_count(parsed, name, source, spec.format), source, name),
        {metric: _field(parsed, field, source, spec.format) for metric, field in spec.quality},
        cases=parsed.cases,
        source=source,
    )


def locate(spec: ResultsSpec, *, cwd: Path, repeat: int, started_wall_s: float) -> Path:
    """The file this repeat wrote: `path` with {repeat} filled in, the newest glob match, written
    since the repeat started."""
    tool = formats.TOOL_FORMATS.get(spec.format)
    pattern = (spec.path or (tool.default_path if tool else None) or "").replace("{repeat}", str(repeat))
    full = pattern if os.path.isabs(pattern) else str(cwd / pattern)
    if _GLOB_CHARS & set(pattern):
        matches = [Path(p) for p in glob.glob(full, recursive=True)]
    else:
        matches = [Path(full)] if os.path.lexists(full) else []
    matches = [_in_folder(p, tool) for p in matches]
    if not matches:
        raise fail(
            full,
            f"the results file is missing: the benchmark wrote nothing at {quoted(pattern)} in repeat {repeat}",
            f"make the benchmark write {tool.tool if tool else 'its JSON'} results there (the path is relative to "
            f"the working directory {cwd}; {{repeat}} is ${REPEAT_ENV}), or fix `results.path`",
        )
    stamped = sorted(((_mtime(p), p) for p in matches), key=lambda pair: pair[0], reverse=True)
    fresh = [p for mtime, p in stamped if mtime >= started_wall_s - MTIME_SLACK_S]
    if not fresh:
        newest_mtime, newest = stamped[0]
        raise fail(
            str(newest),
            f"the results file is stale: last written {started_wall_s - newest_mtime:.3g} s before repeat "
            f"{repeat} started, so it is not this repeat's output",
            "make the benchmark write its results on every run (a fixed path is rewritten each repeat; "
            "{repeat} in the path gives each its own file)",
        )
    return fresh[0]


def _in_folder(path: Path, tool: formats.ToolFormat | None) -> Path:
    if path.is_dir() and tool is not None and tool.default_path:
        return path / tool.default_path
    return path


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return float("-inf")


def _read(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_RESULT_BYTES + 1)
    except IsADirectoryError:
        raise fail(str(path), "is a folder, not a results file", "point `results.path` at the file") from None
    except OSError as exc:
        raise fail(str(path), f"cannot be read: {exc.strerror or exc}", "check the file's permissions") from None
    if len(data) > MAX_RESULT_BYTES:
        raise fail(
            str(path),
            f"is larger than {MAX_RESULT_BYTES // (1024 * 1024)} MiB, the most the gate reads",
            "check that `results.path` names the tool's results file",
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise fail(str(path), "is not UTF-8 text", "point `results.path` at the tool's text/JSON results") from None


def _count(parsed: ToolOutput, name: str, source: str, fmt: str) -> float:
    if name not in parsed.counts:
        offered = ", ".join(parsed.counts) or "none"
        raise fail(source, f"count {name!r} is not in this {fmt} file (it offers: {offered})", "change `results.count`")
    return parsed.counts[name]


def _field(parsed: ToolOutput, field: str, source: str, fmt: str) -> float:
    if field in parsed.fields:
        return parsed.fields[field]
    close = [name for name in parsed.fields if field.lower() in name.lower()][:5]
    offered = f"; close: {', '.join(close)}" if close else f"; it has {len(parsed.fields)} numeric fields"
    raise fail(
        source,
        f"field {quoted(field)} is missing from this {fmt} file{offered}",
        "fix the field name under `results.quality` (docs/benchmarks.md lists each format's field names)",
    )


def _whole(count: float, source: str, field: str) -> int:
    """The count as the whole number J per item divides by; zero is refused, never gated as free."""
    if count <= 0:
        raise BenchmarkError(
            f"field {quoted(field)} is {count:g}: the repeat did no work to charge its energy to",
            hint="check that the benchmark ran its workload (and that `results.count` is the right count)",
            file=source,
        )
    return max(round(count), 1)
