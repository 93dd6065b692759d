"""Numbers a benchmark prints, read with a regular expression over its output's last lines.

The expression has one capturing group (the number); the last match wins, so a benchmark that
prints progress and then a total is read at its total.
"""

from __future__ import annotations

import re

from gate.errors import quoted
from gate.results.model import fail, number

SOURCE = "the benchmark's output"


def pattern_problem(pattern: str) -> str | None:
    """Why `pattern` cannot read a number, or None."""
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        return f"not a regular expression: {exc}"
    if compiled.groups != 1:
        return f"has {compiled.groups} capturing groups; give exactly one, around the number, e.g. 'tokens: (\\d+)'"
    return None


def find(lines: tuple[str, ...], pattern: str, field: str) -> float:
    """The number the last match of `pattern` captures in `lines`."""
    compiled = re.compile(pattern)
    captured: str | None = None
    for line in lines:
        for match in compiled.finditer(line):
            captured = match.group(1)
    if captured is None:
        raise fail(
            SOURCE,
            f"{field}: the pattern {pattern!r} matches nothing in the last {len(lines)} lines",
            "print the figure on a line of its own at the end of the run, or fix the pattern in `results:`",
        )
    try:
        value = number(float(captured.replace(",", "").replace("_", "")))
    except ValueError:
        value = None
    if value is None:
        raise fail(
            SOURCE, f"{field}: the pattern {pattern!r} captured {quoted(captured)}, not a number", "capture digits"
        )
    return value
