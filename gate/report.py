"""Render the Markdown report from a result document (see result.py) with a Jinja template."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from gate.models import METRICS

DEFAULT_TEMPLATE = "report.md.j2"
HEADLINE = {
    "pass": "✅ green-gate: within the energy budget",
    "warn": "⚠️ green-gate: within the energy budget, with warnings",
    "fail": "❌ green-gate: energy budget exceeded",
    "error": "💥 green-gate: the check could not complete",
}
STATUS_ICON = {"pass": "✅ pass", "warn": "⚠️ warn", "fail": "❌ fail", "skip": "➖ skipped", "error": "💥 error"}
_SEVERITY = {"skip": 0, "pass": 1, "warn": 2, "fail": 3}
_SI = [(1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, ""), (1e-3, "m"), (1e-6, "µ"), (1e-9, "n")]


def template_dir() -> Path:
    """Templates ship inside the package (wheel) or sit at the repository root (source checkout)."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "templates", here.parent / "templates"):
        if (candidate / DEFAULT_TEMPLATE).is_file():
            return candidate
    raise FileNotFoundError(f"{DEFAULT_TEMPLATE} not found next to the gate package")


def quantity(value: float | None, unit: str) -> str:
    """A number with an SI prefix and 3-4 significant digits: 0.01234 J -> '12.34 mJ'."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if unit in ("J", "W", "g", "s") and value != 0:
        for scale, prefix in _SI:
            if abs(value) >= scale * 0.9995:
                return f"{value / scale:.4g} {prefix}{unit}"
        return f"{value:.3e} {unit}"
    if unit == "kWh" and value != 0 and abs(value) < 1e-3:
        return f"{value:.3e} kWh"
    return f"{value:.4g} {unit}".rstrip()


def percent(change: float | None) -> str:
    return "—" if change is None else f"{change:+.1f}%"


def md(text: Any) -> str:
    """Make untrusted text inert inside a Markdown table cell."""
    out = str(text).replace("\r", " ").replace("\n", " ").replace("|", "\\|")
    out = out.replace("<", "&lt;").replace("`", "'")  # no HTML tags, no code spans
    return out.replace("@", "@\u200b")  # no @-mentions


def fence(lines: list[str]) -> str:
    """A code fence longer than any backtick run in `lines`, so output cannot close it."""
    longest = 0
    for line in lines:
        run = 0
        for char in line:
            run = run + 1 if char == "`" else 0
            longest = max(longest, run)
    return "`" * max(3, longest + 1)


def table_rows(bench: dict[str, Any]) -> list[dict[str, str]]:
    """One row per metric: baseline, this run, change, the limits that apply and the worst status."""
    checks_by_metric: dict[str, list[dict[str, Any]]] = {}
    for check in bench["checks"]:
        checks_by_metric.setdefault(check["metric"], []).append(check)
    baseline_metrics = (bench.get("baseline") or {}).get("metrics", {})
    rows = []
    names = [m for m in METRICS if m in bench["metrics"] or m in checks_by_metric]
    for name in names:
        info = METRICS[name]
        current = bench["metrics"].get(name)
        base = baseline_metrics.get(name)
        change = (current / base - 1) * 100 if current is not None and base else None
        rows.append(
            _row(
                f"{info.label} ({info.unit})",
                quantity(base, info.unit),
                quantity(current, info.unit),
                _change_with_interval(checks_by_metric.get(name, [])) or percent(change),
                checks_by_metric.get(name, []),
            )
        )
    quality_names = sorted(set(bench["quality"]) | {c["metric"] for c in bench["checks"] if c["rule"] == "quality"})
    for name in quality_names:
        current = bench["quality"].get(name)
        rows.append(
            _row(md(name), "—", "—" if current is None else f"{current:.4g}", "—", checks_by_metric.get(name, []))
        )
    return rows


def _change_with_interval(checks: list[dict[str, Any]]) -> str | None:
    """'+6.1% ± 0.9%' when a relative check decided on repeats (its interval, see gate.stats)."""
    for check in checks:
        interval = check.get("interval_pct")
        if check["rule"] == "relative" and interval and check.get("change_pct") is not None:
            low, high = interval
            return f"{check['change_pct']:+.1f}% ± {(high - low) / 2:.1f}%"
    return None


def _row(label: str, base: str, current: str, change: str, checks: list[dict[str, Any]]) -> dict[str, str]:
    limit = "; ".join(c["limit"] for c in checks if c["limit"]) or "—"
    active = [c for c in checks]
    status = "—"
    if active:
        worst = max(active, key=lambda c: _SEVERITY[c["status"]])
        status = STATUS_ICON[worst["status"]]
        if worst["status"] in ("warn", "fail", "skip") and worst["reason"]:
            status += f" ({md(worst['reason'])})"
    return {
        "metric": label,
        "baseline": base,
        "current": current,
        "change": change,
        "limit": md(limit),
        "status": status,
    }


def render(document: dict[str, Any], template: str = DEFAULT_TEMPLATE) -> str:
    import jinja2  # lazily: only needed once there is something to report

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template_dir())),
        autoescape=False,  # Markdown, not HTML: untrusted text goes through the `md` filter
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(md=md, quantity=quantity, percent=percent)
    env.globals.update(status_icon=STATUS_ICON, headline=HEADLINE, table_rows=table_rows, fence=fence)
    return env.get_template(template).render(result=document)
