"""The sticky PR comment as text: its hidden marker and fitting GitHub's size limit. Pure, no I/O."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from gate.output.markdown import fence_opening, md, percent, quantity, url

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


# With more benchmarks than this the comment shows in full only those that failed or warned (at most
# MAX_DETAILED of them), and the rest as one row each in a collapsed table.
ALL_DETAILED_UP_TO = 5
MAX_DETAILED = 20
_SEVERITY = {"error": 0, "fail": 1, "warn": 2, "pass": 3}
_ICON = {"pass": "✅ pass", "warn": "⚠️ warn", "fail": "❌ fail", "error": "💥 error", "missing": "💥 did not report"}
_HEADLINE_METRICS = ("energy_per_prediction_j", "energy_j")


def comment_view(document: dict[str, Any]) -> dict[str, Any]:
    """What the comment shows: `detailed` (benchmarks in full, worst first) and `rest` (one-line rows).

    A few benchmarks are all shown in full; more, and those that failed or warned lead, and the
    others are rows of one collapsed table, so a monorepo's 200 benchmarks stay readable (and short).
    """
    benchmarks = sorted(document.get("benchmarks") or [], key=lambda b: _SEVERITY.get(b.get("verdict"), 0))
    if len(benchmarks) <= ALL_DETAILED_UP_TO:
        return {"detailed": benchmarks, "rest": [], "rest_title": ""}
    flagged = [b for b in benchmarks if b.get("verdict") != "pass"]
    detailed = flagged[:MAX_DETAILED]
    rest = benchmarks[len(detailed) :]
    passed = sum(1 for b in rest if b.get("verdict") == "pass")
    title = f"{len(rest)} more benchmark{'s' if len(rest) != 1 else ''}"
    if passed == len(rest):
        title += ", all within budget"
    else:
        title += f" ({passed} within budget)"
    return {"detailed": detailed, "rest": [summary_row(b) for b in rest], "rest_title": title}


def summary_row(bench: dict[str, Any]) -> dict[str, str]:
    """One benchmark as one table row: where it ran, its headline figure, the change and the verdict."""
    metrics = bench.get("metrics") or {}
    metric = next((m for m in _HEADLINE_METRICS if isinstance(metrics.get(m), (int, float))), None)
    value = change = "—"
    if metric is not None:
        value = quantity(metrics[metric], "J")
        if metric == "energy_per_prediction_j":
            value += f" per {md(bench.get('unit') or 'prediction')}"
        relative = [c for c in bench.get("checks") or [] if c.get("metric") == metric and c.get("rule") == "relative"]
        base = ((bench.get("baseline") or {}).get("metrics") or {}).get(metric)
        pct = relative[0].get("change_pct") if relative else None
        if pct is None and isinstance(base, (int, float)) and base:
            pct = (metrics[metric] / base - 1) * 100
        change = percent(pct)
    where = bench.get("where") or {}
    shown_where = md(where.get("leg") or "")  # the legs table says on which runner and hardware
    if where.get("nodes"):
        shown_where += f" × {where['nodes']} nodes"
    return {
        "name": md(bench.get("name", "")),
        "where": shown_where or "—",
        "value": value,
        "change": change,
        "status": _ICON.get(str(bench.get("verdict")), "💥 error"),
    }


def legs_table(document: dict[str, Any]) -> str:
    """A fan-in's jobs: how many reported of those expected (naming the missing), and each one's
    runner, hardware and verdict. Empty for one job's result."""
    fanin = document.get("fanin")
    if not isinstance(fanin, dict):
        return ""
    lines = [
        f"**{md(fanin.get('summary', ''))}**",
        "",
        "| Job | Runner | Hardware | Benchmarks | Verdict |",
        "|---|---|---|---|---|",
    ]
    for leg in fanin.get("legs") or []:
        name = md(leg["leg"])
        run_url = url(leg.get("run_url"))
        if run_url:
            name = f"[{name}]({run_url})"
        nodes = f" × {leg['nodes']} nodes" if leg.get("nodes") else ""
        lines.append(
            f"| {name} | {md(leg.get('runner') or '—')} | {md(leg.get('hardware', ''))}{nodes} "
            f"| {leg.get('benchmarks', 0)} | {_ICON.get(str(leg.get('verdict')), '💥 error')} |"
        )
    for missing in fanin.get("missing") or []:
        lines.append(f"| {md(missing)} | — | — | — | {_ICON['missing']} |")
    return "\n".join(lines)
