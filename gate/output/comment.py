"""The sticky PR comment as text: its hidden marker and fitting GitHub's size limit. Pure, no I/O."""

from __future__ import annotations

import hashlib
import re

from gate.output.markdown import fence_opening

MARKER_PREFIX = "<!-- green-gate:sticky "
_KEY_UNSAFE = re.compile(r"[^A-Za-z0-9._/+=-]")


def sticky_key(budget_file: str | None, benchmarks: list[str]) -> str:
    """One comment per PR and benchmark set: the budget file and the benchmark names, hashed.

    Hashing keeps untrusted names out of the HTML comment entirely (nothing can close it early).
    """
    text = "\n".join([budget_file or "green-budget.yml", *sorted(benchmarks)])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def marker(key: str) -> str:
    """The hidden first line that finds the comment again, e.g. `<!-- green-gate:sticky 3f2a… -->`."""
    return f"{MARKER_PREFIX}{_KEY_UNSAFE.sub('_', key)[:64]} -->"


def with_marker(key: str, markdown: str) -> str:
    return f"{marker(key)}\n{markdown}"


def fit(markdown: str, limit_chars: int, pointer: str) -> str:
    """`markdown` if it fits in `limit_chars`, else its first whole lines, the code fences and
    `<details>` blocks left open closed again, then `pointer` (where the full report is)."""
    if len(markdown) <= limit_chars:
        return markdown
    tail = f"\n\n{pointer}\n"
    kept: list[str] = []
    size = 0
    open_fence: str | None = None
    open_details = 0
    closing = ""
    for line in markdown.split("\n"):
        next_fence, next_details = _track(line, open_fence, open_details)
        next_closing = (f"{next_fence}\n" if next_fence else "") + "</details>\n" * next_details
        if size + len(line) + 1 + len(next_closing) + len(tail) > limit_chars:
            break
        kept.append(line)
        size += len(line) + 1
        open_fence, open_details, closing = next_fence, next_details, next_closing
    body = "\n".join(kept).rstrip("\n")
    return f"{body}\n{closing}{tail}" if closing else f"{body}{tail}"


def _track(line: str, open_fence: str | None, open_details: int) -> tuple[str | None, int]:
    stripped = line.strip()
    if open_fence is not None:
        return (None if stripped == open_fence else open_fence), open_details
    opening = fence_opening(stripped)
    if opening:
        return opening, open_details
    opened = stripped.count("<details")
    closed = stripped.count("</details>")
    return None, max(0, open_details + opened - closed)


def marker_of(body: str) -> str:
    """The marker line a comment body starts with."""
    return body.split("\n", 1)[0]
