"""Render the Markdown report from a result document (see result.py) with a Jinja template."""

from __future__ import annotations

import math
import re
import statistics
from decimal import Decimal
from pathlib import Path
from typing import Any

from gate.carbon.model import BASIS_WORDS
from gate.compare.quality import EFFICIENCY_PREFIX, grams_per_joule
from gate.devices.conditions import DISTURBED
from gate.energy.model import METRICS, phase_metric
from gate.energy.summary import CENTRAL_STATISTIC, QUALITY_STATISTIC
from gate.errors import ConfigError
from gate.output import comment, markdown
from gate.units import DEFAULT_ITEM_UNIT, SI_PREFIXED_UNITS, metric_label, plural, si_prefix

DEFAULT_TEMPLATE = "report.md.j2"
HEADLINE = {
    "pass": "✅ green-gate: within the energy budget",
    "warn": "⚠️ green-gate: within the energy budget, with warnings",
    "fail": "❌ green-gate: energy budget exceeded",
    "error": "💥 green-gate: the check could not complete",
}
STATUS_ICON = {"pass": "✅ pass", "warn": "⚠️ warn", "fail": "❌ fail", "skip": "➖ skipped", "error": "💥 error"}
_SEVERITY = {"skip": 0, "pass": 1, "warn": 2, "fail": 3}
# The intensity has its own line under the table; it takes a row only when a budget rule is on it.
_ROWS_ONLY_WHEN_CHECKED = {"grid_intensity_g_per_kwh"}


def template_dir() -> Path:
    """The default templates: the top-level `templates/` folder of a source checkout, which a wheel
    (and so the container image) carries as `gate/templates/`."""
    package = Path(__file__).resolve().parents[1]
    installed = package / "templates"
    return installed if installed.is_dir() else package.parent / "templates"


def table_rows(bench: dict[str, Any]) -> list[dict[str, str]]:
    """One row per metric: baseline, this run, change, the limits that apply and the worst status."""
    checks_by_metric: dict[str, list[dict[str, Any]]] = {}
    for check in bench["checks"]:
        checks_by_metric.setdefault(check["metric"], []).append(check)
    baseline_metrics = (bench.get("baseline") or {}).get("metrics", {})
    rows = []
    names = [
        m for m in METRICS if m in checks_by_metric or (m in bench["metrics"] and m not in _ROWS_ONLY_WHEN_CHECKED)
    ]
    item_unit = item_unit_of(bench)
    for name in names:
        info = METRICS[name]
        current = bench["metrics"].get(name)
        base = baseline_metrics.get(name)
        change = (current / base - 1) * 100 if current is not None and base else None
        centred = _centres(checks_by_metric.get(name, []), info.unit)
        rows.append(
            _row(
                f"{metric_label(name, info.label, item_unit)} ({info.unit})",
                centred[1] if centred else markdown.quantity(base, info.unit),
                centred[0] if centred else markdown.quantity(current, info.unit),
                change_text(change, checks_by_metric.get(name, [])),
                checks_by_metric.get(name, []),
            )
        )
    quality_names = sorted(set(bench["quality"]) | {c["metric"] for c in bench["checks"] if c["rule"] == "quality"})
    efficiency = [n for n in quality_names if n.startswith(EFFICIENCY_PREFIX)]
    for name in quality_names:
        if name in efficiency:
            continue
        current = bench["quality"].get(name)
        # The baseline's value and the change show where a rule judged this metric against the baseline.
        relative = next((c for c in checks_by_metric.get(name, []) if c.get("baseline") is not None), None)
        rows.append(
            _row(
                markdown.md(name),
                "—" if relative is None else f"{relative['baseline']:.4g}",
                "—" if current is None else f"{current:.4g}",
                "—" if relative is None else markdown.percent(relative["change_pct"]),
                checks_by_metric.get(name, []),
            )
        )
    for name in efficiency:
        checks = checks_by_metric[name]
        (check, *_) = checks
        point = markdown.md(name[len(EFFICIENCY_PREFIX) :])
        # Decided on repeats, its columns are the geometric means the change was computed from.
        current_j, base_j = _centre_values(checks, rule="quality") or (check["current"], check["baseline"])
        centred = _centres(checks, "J", rule="quality")
        rows.append(
            _row(
                f"Energy per {item_unit} per {point} point (J)",
                centred[1] if centred else markdown.quantity(base_j, "J"),
                centred[0] if centred else markdown.quantity(current_j, "J"),
                _change_with_interval(checks, rule="quality") or markdown.percent(check["change_pct"]),
                checks,
            )
        )
        # Beside it, unlimited: the same figure in gCO2eq (a grid-intensity change is not the change's doing).
        current_g = _times(current_j, grams_per_joule(bench["metrics"]))
        if current_g is not None:
            base_g = _times(base_j, grams_per_joule((bench.get("baseline") or {}).get("metrics") or {}))
            rows.append(
                _row(
                    f"Emissions per {item_unit} per {point} point (gCO2eq)",
                    "—" if base_g is None else f"{base_g:.4g} gCO2eq",
                    f"{current_g:.4g} gCO2eq",
                    markdown.percent((current_g / base_g - 1) * 100 if base_g else None),
                    [],
                )
            )
    return rows


def statistic_sentence(bench: dict[str, Any]) -> str:
    """The one place a report names its central statistic (gate.energy.summary.central)."""
    repeats = bench.get("repeats")
    count = f"{repeats} repeat" + ("" if repeats == 1 else "s")
    warmup = bench.get("warmup")
    text = f"Figures are {CENTRAL_STATISTIC}s of {count}"
    if isinstance(warmup, int) and not isinstance(warmup, bool):
        text += f" after {warmup} warm-up"
    if bench.get("quality"):
        text += f" ({QUALITY_STATISTIC}s for quality metrics)"
    text += "; a change is the ratio of two such figures"
    if any(c.get("geomean_current") is not None for c in bench.get("checks") or []):
        text += ", and a row with an interval shows each side's CV"
    return text + "."


def _times(value: Any, factor: float | None) -> float | None:
    return float(value) * factor if _finite(value) and factor is not None else None


def phase_rows(bench: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per measured phase when the benchmark marked several and one counted its items
    (prefill and decode): J per item of each phase, which the run's total J per item blends."""
    phases = [p for p in bench.get("phases") or [] if isinstance(p, dict)]
    case_checks = [c for c in bench["checks"] if str(c["metric"]).startswith("phase.")]
    if len(phases) < 2 or not (any(_finite(p.get("energy_per_item_j")) for p in phases) or case_checks):
        return []
    rows = []
    for p in phases:
        # A case's own limits (the budget's `cases:`): its change and verdict beside its figures.
        prefix = phase_metric(str(p.get("name", "")), "")
        checks = [c for c in case_checks if str(c["metric"]).startswith(prefix)]
        judged = _row("", "", "", "", checks)
        rows.append(
            {
                "phase": markdown.md(p.get("name", "")),
                "count": f"{p['items']:,}" if isinstance(p.get("items"), int) else "—",
                "energy": markdown.quantity(p.get("energy_j"), "J"),
                "duration": markdown.quantity(p.get("duration_s"), "s"),
                "per_item": markdown.quantity(p.get("energy_per_item_j"), "J"),
                "change": change_text(checks[0]["change_pct"], checks) if checks else "—",
                "limit": judged["limit"],
                "status": judged["status"],
                "judged": bool(case_checks),  # the budget sets case limits: the table shows their verdicts
            }
        )
    return rows


def change_text(change_pct: float | None, checks: list[dict[str, Any]]) -> str:
    """The change, with its uncertainty when a relative check decided on repeats (see gate.compare.stats)."""
    return _change_with_interval(checks) or markdown.percent(change_pct)


def _change_with_interval(checks: list[dict[str, Any]], rule: str = "relative") -> str | None:
    """'+6.1% ± 0.9%' when a check of `rule` decided on repeats (its interval, see gate.compare.stats)."""
    for check in checks:
        interval = check.get("interval_pct")
        if check["rule"] == rule and interval and check.get("change_pct") is not None:
            low, high = interval
            return f"{check['change_pct']:+.1f}% ± {(high - low) / 2:.1f}%"
    return None


def _centre_values(checks: list[dict[str, Any]], rule: str = "relative") -> tuple[float, float] | None:
    """(this run, baseline): the geometric means a change on repeats was computed from."""
    for check in checks:
        if check["rule"] == rule and _finite(check.get("geomean_current")) and _finite(check.get("geomean_baseline")):
            return float(check["geomean_current"]), float(check["geomean_baseline"])
    return None


def _centres(checks: list[dict[str, Any]], unit: str, rule: str = "relative") -> tuple[str, str] | None:
    """(this run, baseline) as the change on repeats was computed from them: geometric means, each with
    its CV, so the columns and the change never disagree (medians could, in sign even)."""
    for check in checks:
        if check["rule"] != rule or check.get("geomean_current") is None:
            continue
        sides = []
        for side in ("current", "baseline"):
            cv = check.get(f"cv_{side}_pct")
            spread = f" (CV {cv:.1f}%)" if cv is not None else ""
            sides.append(markdown.quantity(check[f"geomean_{side}"], unit) + spread)
        return sides[0], sides[1]
    return None


def _row(label: str, base: str, current: str, change: str, checks: list[dict[str, Any]]) -> dict[str, str]:
    limit = "; ".join(c["limit"] for c in checks if c["limit"]) or "—"
    active = [c for c in checks if not c.get("waived")]
    status = "—"
    if active:
        worst = max(active, key=lambda c: _SEVERITY[c["status"]])
        status = STATUS_ICON[worst["status"]]
        improved = worst["status"] == "pass" and str(worst["reason"]).startswith("improved")
        if (worst["status"] in ("warn", "fail", "skip") or improved) and worst["reason"]:
            status += f" ({markdown.md(worst['reason'])})"
    waived = [c for c in checks if c.get("waived")]
    if waived:  # what was waived stays visible: its status, why, and who accepted it
        text = f"{STATUS_ICON[waived[0]['status']]}, {markdown.md(waived[0]['waived'])}"
        status = text if status in ("—", STATUS_ICON["pass"]) else f"{status}; {text}"
    return {
        "metric": label,
        "baseline": base,
        "current": current,
        "change": change,
        "limit": markdown.md(limit),
        "status": status,
    }


def render(document: dict[str, Any], template: str = DEFAULT_TEMPLATE) -> str:
    """Render one of the packaged templates (`report.md.j2`, `pr_comment.md.j2`)."""
    import jinja2  # lazily: only needed once there is something to report

    env = _environment(jinja2.Environment, jinja2.FileSystemLoader(str(template_dir())))
    text: str = env.get_template(template).render(result=markdown.inert_data(document))
    return text


# A user template's arithmetic: results of at most this many bits (a 64-bit float's range is ~1024).
MAX_RESULT_BITS = 4096


def _check_binop(operator: str, left: Any, right: Any) -> None:
    """Refuse `**` and `*` whose result would be huge, before computing it (_TemplateLimit)."""
    ints = _is_int(left) and _is_int(right)
    if operator == "**" and ints and right > 0 and abs(left) > 1 and right * math.log2(abs(left)) > MAX_RESULT_BITS:
        raise _TemplateLimit(f"{left} ** {right} is over {MAX_RESULT_BITS} bits: a template computes small numbers")
    if operator != "*":
        return
    if ints and left.bit_length() + right.bit_length() > MAX_RESULT_BITS:
        raise _TemplateLimit(f"a product over {MAX_RESULT_BITS} bits in a template")
    for sequence, count in ((left, right), (right, left)):
        repeated = isinstance(sequence, (str, list, tuple)) and _is_int(count)
        if repeated and len(sequence) * count > MAX_RENDERED_CHARS:
            raise _TemplateLimit(
                f"repeating {len(sequence):,} items {count:,} times is over the {MAX_RENDERED_CHARS:,} "
                "a template may render"
            )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# A user template renders text: bounded in size, and in the loops it may run (nested ranges multiply).
MAX_RENDERED_CHARS = 1024 * 1024
MAX_RANGE_ITEMS = 10_000
MAX_RANGE_ITEMS_PER_RENDER = 1_000_000


class _TemplateLimit(Exception):
    """A user template went past a limit or outside its folder: becomes a ConfigError at its line."""


def render_user_template(document: dict[str, Any], path: Path) -> str:
    """Render a repository's own template in Jinja's sandbox, with the same context as the packaged ones.

    The template sees a copy of the result it cannot modify (the verdict, PR and commit posted come
    from the gate, never from the template), includes only files inside its own folder (symlinks
    resolved), and is bounded in its ranges and its rendered size. Any template error becomes a
    ConfigError naming the file and line (exit code 2).
    """
    import copy

    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    path = path.resolve()
    root = path.parent

    class ConfinedLoader(jinja2.FileSystemLoader):
        def get_source(self, environment: Any, template: str) -> Any:
            resolved = (root / template).resolve()
            if not resolved.is_relative_to(root):
                raise _TemplateLimit(
                    f"template {template} resolves to {resolved}, outside the template's folder {root}"
                )
            return super().get_source(environment, template)

    class BoundedSandbox(ImmutableSandboxedEnvironment):
        """Arithmetic and repetition bounded: `10 ** 100000000` would compute for minutes, and
        `'x' * 3000000000` take gigabytes, before the rendered size is ever counted."""

        intercepted_binops = frozenset({"**", "*"})

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            _check_binop(operator, left, right)
            return super().call_binop(context, operator, left, right)

    env = _environment(BoundedSandbox, ConfinedLoader(str(root)))
    range_items = [0]

    def bounded_range(*args: int) -> range:
        items = range(*args)
        range_items[0] += len(items)
        if len(items) > MAX_RANGE_ITEMS or range_items[0] > MAX_RANGE_ITEMS_PER_RENDER:
            raise _TemplateLimit(
                f"range() of {len(items):,} items: a template may use ranges of up to {MAX_RANGE_ITEMS:,} items, "
                f"{MAX_RANGE_ITEMS_PER_RENDER:,} in all"
            )
        return items

    env.globals["range"] = bounded_range
    try:
        parts: list[str] = []
        size_chars = 0
        for part in env.get_template(path.name).generate(result=markdown.inert_data(copy.deepcopy(document))):
            size_chars += len(part)
            if size_chars > MAX_RENDERED_CHARS:
                raise _TemplateLimit(f"the rendered template is over {MAX_RENDERED_CHARS:,} characters")
            parts.append(part)
        return "".join(parts)
    except jinja2.TemplateNotFound as exc:
        raise ConfigError(f"template {exc.name} not found", file=str(path), hint="check the template path") from exc
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigError(
            f"template syntax error: {exc.message}", file=exc.filename or str(path), line=exc.lineno
        ) from exc
    except _TemplateLimit as exc:
        file, line = _template_frame(exc, path)
        raise ConfigError(
            str(exc), file=file, line=line, hint="keep includes in the template's folder and its output small"
        ) from None
    except Exception as exc:  # UndefinedError, SecurityError, TypeError, … raised while rendering
        file, line = _template_frame(exc, path)
        raise ConfigError(
            f"template error: {type(exc).__name__}: {exc}",
            file=file,
            line=line,
            hint="the context is documented in docs/templates.md",
        ) from exc


def _template_frame(exc: BaseException, path: Path) -> tuple[str, int | None]:
    """Jinja rewrites tracebacks so the template's frames carry its file name and line: take the last."""
    import traceback

    frames = [
        f for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(path) or f.filename.endswith(".j2")
    ]
    if frames:
        return frames[-1].filename, frames[-1].lineno
    return str(path), None


def _environment(cls: Any, loader: Any) -> Any:
    import jinja2

    env = cls(
        loader=loader,
        autoescape=False,  # Markdown, not HTML: untrusted text goes through the `md` filter
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        md=markdown.md,
        code=markdown.code,
        url=markdown.url,
        quantity=markdown.quantity,
        percent=markdown.percent,
        plural=plural,
    )
    env.globals.update(
        status_icon=STATUS_ICON,
        headline=HEADLINE,
        table_rows=table_rows,
        phase_rows=phase_rows,
        conditions_line=conditions_line,
        conditions_matter=conditions_matter,
        item_unit_of=item_unit_of,
        statistic_sentence=statistic_sentence,
        fence=markdown.fence,
        basis_words=BASIS_WORDS,
        trend_chart=trend_chart,
        comment_view=comment.comment_view,
        legs_table=comment.legs_table,
        metric_info={name: {"label": i.label, "unit": i.unit} for name, i in METRICS.items()},
    )
    return env


def trend_chart(bench: dict[str, Any], metric: str | None = None, limit: int = 10) -> str:
    """A Mermaid line chart of `metric` over the benchmark's recent baseline runs and this run.

    GitHub renders ```mermaid blocks itself, so no image hosting is needed. Empty without history.
    Only numbers and hex commit ids reach the chart: nothing untrusted can break its syntax.
    """
    history = bench.get("history") or []
    metric = metric or next((m for m in TREND_METRICS if m in bench["metrics"]), None)
    if metric is None or metric not in METRICS:
        return ""
    points = [
        (_short_sha(h.get("commit")) or f"run {i + 1}", h["metrics"][metric])
        for i, h in enumerate(history[-limit:])
        if isinstance(h.get("metrics"), dict) and _finite(h["metrics"].get(metric))
    ]
    if not points:
        return ""
    if _finite(bench["metrics"].get(metric)):
        points.append(("this run", bench["metrics"][metric]))
    points = list(zip(_distinct(label for label, _ in points), (v for _, v in points), strict=True))
    info = METRICS[metric]
    fail = _fail_line(bench, metric)
    fail_at = fail[0] if fail else None
    scale, prefix = _prefix(max([abs(v) for _, v in points] + ([abs(fail_at)] if fail_at else [])), info.unit)
    unit = f"{prefix}{info.unit}"
    labels = ", ".join(f'"{label}"' for label, _ in points)
    values = ", ".join(_chart_number(v / scale) for _, v in points)
    series = [f'    line "runs" [{values}]']
    title = f"{metric_label(metric, info.label, item_unit_of(bench))} ({unit})"
    if fail is not None:  # the fail limit as its own flat series: baseline x (1 + limit)
        limit_label = f"fail limit {_chart_number(fail[1]) if fail[1] < 0 else '+' + _chart_number(fail[1])}%"
        series.append(f'    line "{limit_label}" [{", ".join([_chart_number(fail[0] / scale)] * len(points))}]')
        # Mermaid 12 draws a legend from the series' names; older ones (GitHub's may be) draw none, so
        # the title names the flat line and its colour as well.
        title += f", red line: {limit_label}"
    return "\n".join(
        [
            "```mermaid",
            CHART_INIT,
            "xychart-beta",
            f'    title "{title}"',
            f"    x-axis [{labels}]",
            f'    y-axis "{unit}"',
            *series,
            "```",
        ]
    )


# Colours that read on GitHub's light (#ffffff) and dark (#0d1117) backgrounds alike: a mid blue for
# the runs, a mid red for the fail limit, mid grey text; the theme's default line is near-invisible.
CHART_COLOURS = {"runs": "#2f81f7", "fail_limit": "#e5534b", "text": "#768390"}
CHART_INIT = (
    '%%{init: {"theme": "base", "themeVariables": {"xyChart": {'
    f'"plotColorPalette": "{CHART_COLOURS["runs"]}, {CHART_COLOURS["fail_limit"]}", '
    '"backgroundColor": "transparent", '
    f'"titleColor": "{CHART_COLOURS["text"]}", '
    f'"xAxisLabelColor": "{CHART_COLOURS["text"]}", "xAxisTitleColor": "{CHART_COLOURS["text"]}", '
    f'"xAxisLineColor": "{CHART_COLOURS["text"]}", "xAxisTickColor": "{CHART_COLOURS["text"]}", '
    f'"yAxisLabelColor": "{CHART_COLOURS["text"]}", "yAxisTitleColor": "{CHART_COLOURS["text"]}", '
    f'"yAxisLineColor": "{CHART_COLOURS["text"]}", "yAxisTickColor": "{CHART_COLOURS["text"]}"'
    "}}}}%%"
)
_FAIL_PCT = re.compile(r"fail > \+?(-?\d+(?:\.\d+)?)%")


def _chart_number(value: float) -> str:
    """4 significant digits, never in exponent form: mermaid's chart grammar reads no `7.7e-10`."""
    return format(Decimal(f"{value:.4g}"), "f")


def _fail_line(bench: dict[str, Any], metric: str) -> tuple[float, float] | None:
    """(where the relative fail limit on `metric` lies, the limit in %): the baseline's figure the
    change was computed from x (1 + limit); None without one."""
    for check in bench["checks"]:
        if check["metric"] != metric or check["rule"] != "relative" or not _finite(check.get("baseline")):
            continue
        match = _FAIL_PCT.search(str(check.get("limit") or ""))
        if match:
            pct = float(match.group(1))
            return float(check["baseline"]) * (1 + pct / 100), pct
    return None


def _distinct(labels: Any) -> list[str]:
    """The chart's x labels, each once: mermaid draws points that share a category as one, so a second
    run of one commit (a re-run, a pinned baseline measured again) becomes `abc1234 (2)`."""
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return out


TREND_METRICS = ("energy_per_prediction_j", "energy_j")


def conditions_line(bench: dict[str, Any]) -> str | None:
    """The runner's condition in one line, beside the baseline's where known: what a reviewer needs
    to tell a busier runner from costlier code. None where nothing was read."""
    block = bench.get("conditions")
    if not isinstance(block, dict):
        return None
    now: dict[str, Any] = block.get("medians") or {}
    base_block = bench.get("baseline") or {}
    then: dict[str, Any] = base_block.get("conditions") or {}
    parts = []
    for key, label, fmt in (
        ("speed_index", "speed index", "{:,.0f} MB/CPU-s"),
        ("cpu_pressure_some_pct", "CPU pressure", "{:.0f}%"),
        ("load_avg_1m", "load", "{:.1f}"),
        ("threads_max", "threads", "{:.0f}"),
    ):
        value = now.get(key)
        if not _finite(value):
            continue
        text = f"{label} {fmt.format(value)}"
        if _finite(then.get(key)) and key != "threads_max":
            text += f" (baseline {fmt.format(then[key])})"
        parts.append(text)
    line = ", ".join(parts)
    gpu = _gpu_conditions(bench, block.get("per_repeat") or [])
    if gpu:
        line = f"{line}; {gpu}" if line else gpu
    return f"Runner: {line}." if line else None


def conditions_matter(bench: dict[str, Any]) -> bool:
    """Whether the runner line belongs in a short text (the PR comment): both runs' conditions were
    read, so they were compared, or a throttled GPU or a tenant disturbed a repeat on either side."""
    block = bench.get("conditions")
    base_block = bench.get("baseline") or {}
    compared = isinstance(block, dict) and bool(block.get("medians")) and bool(base_block.get("conditions"))
    return compared or any(_disturbed(bench)) or any(_disturbed(base_block))


def _disturbed(side: dict[str, Any]) -> list[bool]:
    """A side's per-repeat GPU disturbance flags (gate.devices.conditions.DISTURBED), empty where none."""
    flags = (side.get("per_repeat") or {}).get(DISTURBED) or []
    return [bool(f) for f in flags if _finite(f)]


def _gpu_conditions(bench: dict[str, Any], repeats: list[dict[str, Any]]) -> str | None:
    """'GPU SM clock 1,410 MHz, throttled or shared in 1 of 5 repeats (baseline 0 of 5)'; None without GPUs."""
    clocks = [
        g["sm_clock_mhz_median"]
        for r in repeats
        for g in (r.get("gpus") or [])
        if isinstance(g, dict) and _finite(g.get("sm_clock_mhz_median"))
    ]
    flags, base_flags = _disturbed(bench), _disturbed(bench.get("baseline") or {})
    if not clocks and not flags:
        return None
    parts = [f"SM clock {statistics.median(clocks):,.0f} MHz"] if clocks else []
    if flags:
        text = f"throttled or shared in {sum(flags)} of {len(flags)} repeats"
        if base_flags:
            text += f" (baseline {sum(base_flags)} of {len(base_flags)})"
        parts.append(text)
    return "GPU " + ", ".join(parts)


def item_unit_of(bench: dict[str, Any]) -> str:
    """The benchmark's item word; the default for a document that names none or an unusable one.

    The budget schema admits only lower-case words, so nothing else can reach a chart's syntax.
    """
    unit = bench.get("unit")
    return unit if isinstance(unit, str) and re.fullmatch(r"[a-z][a-z0-9_-]{0,39}", unit) else DEFAULT_ITEM_UNIT


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _short_sha(commit: Any) -> str:
    text = str(commit or "")[:7]
    return text if re.fullmatch(r"[0-9a-f]{4,7}", text) else ""


def _prefix(value: float, unit: str) -> tuple[float, str]:
    """(scale, prefix) for a chart axis reaching `value`; unscaled for other units and below nano."""
    prefixed = si_prefix(value) if unit in SI_PREFIXED_UNITS and value != 0 else None
    return prefixed or (1.0, "")
