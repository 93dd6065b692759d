"""Markdown text from values and from untrusted strings: escaping, code spans, links, fences, numbers.

Pure and free of Jinja, so anything that prints a quantity or builds Markdown (progress lines, the
PR comment) can use it without loading the report templates. The report registers these as filters.
"""

from __future__ import annotations

import math
import re
from typing import Any

from gate.units import SI_PREFIXED_UNITS, si_prefix

_MD_ESCAPES = {
    "\\": "\\\\",
    "|": "\\|",  # no new table cells
    "*": "\\*",  # no emphasis (`_` stays: intraword in names, and GitHub ignores it there)
    "~": "\\~",
    "[": "\\[",  # no links or images
    "]": "\\]",
    "&": "&amp;",  # no entities (`&#64;` would be an @)
    "<": "&lt;",  # no HTML: no tags, no `<!--` that swallows the rest, no `<details>`
    "`": "'",  # no code spans
    "@": "@\u200b",  # no @-mentions (a zero-width space breaks them)
    "#": "#\u200b",  # no issue cross-references (#123) from untrusted text
    "\r": " ",
    "\n": " ",  # one line: no headings, lists or block quotes
}
_MD_TABLE = str.maketrans(_MD_ESCAPES)
# Control characters other than tab and line breaks: an ESC starts a terminal sequence in the log
# (the report goes to stdout too), and none belongs in Markdown. Shown as U+FFFD.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def inert_data(data: Any) -> Any:
    """JSON-like data with every string made safe to render anywhere, fenced code included: no
    control characters, and no `<!--`, which would hide the rest of a comment from readers (and
    could pose as the sticky comment's marker). Applied to a result before any template sees it."""
    if isinstance(data, str):
        return _CONTROL.sub("\ufffd", data).replace("<!--", "<\u200b!--")
    if isinstance(data, dict):
        return {inert_data(k): inert_data(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [inert_data(v) for v in data]
    return data


_SAFE_URL = re.compile(r"https?://[^\s()<>\[\]`\"'\\]+")


def quantity(value: float | None, unit: str) -> str:
    """A number with an SI prefix and 3-4 significant digits: 0.01234 J -> '12.34 mJ'."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if unit in SI_PREFIXED_UNITS and value != 0:
        prefixed = si_prefix(value)
        if prefixed is None:
            return f"{value:.3e} {unit}"
        scale, prefix = prefixed
        return f"{value / scale:.4g} {prefix}{unit}"
    if unit == "kWh" and value != 0 and abs(value) < 1e-3:
        return f"{value:.3e} kWh"
    return f"{value:.4g} {unit}".rstrip()


def percent(change: float | None) -> str:
    return "—" if change is None else f"{change:+.1f}%"


def md(text: Any) -> str:
    """Make untrusted text inert in Markdown (a table cell, a list item, a sentence)."""
    return str(text).translate(_MD_TABLE)


def code(text: Any) -> str:
    """Untrusted text as an inline code span: it shows literally (no mentions, links or HTML there)."""
    cleaned = str(text).replace("`", "'").replace("\r", " ").replace("\n", " ").replace("|", "\\|")
    cleaned = cleaned.replace("@", "@\u200b")  # GitHub ignores mentions in code, but be sure
    return f"`{cleaned}`"


def url(text: Any) -> str:
    """`text` when it is a plain http(s) URL that cannot break out of `(...)`, else '' (render no link)."""
    value = str(text or "")
    return value if _SAFE_URL.fullmatch(value) else ""


def fence_opening(line: str) -> str | None:
    """The backtick run that opens a code fence on this (stripped) line, if it opens one."""
    run = len(line) - len(line.lstrip("`"))
    return line[:run] if run >= 3 else None


def fence(lines: list[str]) -> str:
    """A code fence longer than any backtick run in `lines`, so output cannot close it."""
    longest = 0
    for line in lines:
        run = 0
        for char in line:
            run = run + 1 if char == "`" else 0
            longest = max(longest, run)
    return "`" * max(3, longest + 1)
