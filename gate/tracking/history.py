"""A benchmark's history as plain rows (read from MLflow's run entities or its REST JSON), and its
renderings: table, CSV, JSON. Pure."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from gate.output.result import finite_data
from gate.tracking import schema

# Columns of the table, in order; CSV and JSON carry every metric.
TABLE_METRICS = ("energy_per_prediction_j", "energy_j", "duration_s")


@dataclass(frozen=True)
class HistoryRow:
    run_id: str
    run_name: str
    start_time_ms: int
    status: str  # MLflow's: FINISHED, FAILED, RUNNING, ...
    commit: str | None
    branch: str | None
    pr_number: int | None
    verdict: str | None
    baseline_eligible: bool
    provenance: str | None
    hardware_id: str | None
    metrics: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_run(
        cls,
        *,
        run_id: str,
        run_name: str,
        start_time_ms: int,
        status: str,
        tags: Mapping[str, str],
        metrics: Mapping[str, Any],
    ) -> HistoryRow:
        """A row from a run's attributes, tags and latest metrics (the `repeat.*` series left out)."""
        pr = tags.get(schema.TAG_PR)
        return cls(
            run_id=run_id,
            run_name=run_name,
            start_time_ms=start_time_ms,
            status=status,
            commit=tags.get(schema.TAG_GIT_COMMIT) or None,
            branch=tags.get(schema.TAG_GIT_BRANCH) or None,
            pr_number=int(pr) if pr and pr.isdigit() else None,
            verdict=tags.get(schema.TAG_VERDICT),
            baseline_eligible=tags.get(schema.TAG_ELIGIBLE) == "true",
            provenance=tags.get(schema.TAG_PROVENANCE),
            hardware_id=tags.get(schema.TAG_HARDWARE),
            metrics={k: float(v) for k, v in metrics.items() if not k.startswith(schema.SERIES_PREFIX)},
        )


def row_from_run(run: Any) -> HistoryRow:
    """A row from an MLflow `Run` entity (`info`, `data.tags`, `data.metrics`)."""
    return HistoryRow.from_run(
        run_id=str(run.info.run_id),
        run_name=str(run.info.run_name or ""),
        start_time_ms=int(run.info.start_time or 0),
        status=str(run.info.status),
        tags=run.data.tags,
        metrics=run.data.metrics,
    )


def row_from_rest(run: Mapping[str, Any]) -> HistoryRow:
    """A run as MLflow's REST API returns it: `info`, and `data` with lists of key/value pairs."""
    info = run.get("info", {})
    data = run.get("data", {})
    tags = {str(t["key"]): str(t.get("value", "")) for t in data.get("tags", [])}
    return HistoryRow.from_run(
        run_id=str(info.get("run_id") or info.get("run_uuid", "")),
        run_name=str(info.get("run_name") or tags.get("mlflow.runName", "")),
        start_time_ms=int(info.get("start_time") or 0),
        status=str(info.get("status", "")),
        tags=tags,
        metrics={str(m["key"]): m.get("value", 0.0) for m in data.get("metrics", [])},
    )


def only_commits(rows: Iterable[HistoryRow], commits: Sequence[str]) -> list[HistoryRow]:
    """Rows whose commit is one of `commits` (full SHAs or unique prefixes of at least 7 characters)."""
    wanted = [c.lower() for c in commits]
    return [r for r in rows if r.commit and any(r.commit.lower().startswith(w) for w in wanted)]


def render_table(rows: Sequence[HistoryRow], *, metrics: Sequence[str] = TABLE_METRICS) -> str:
    header = ["time (UTC)", "commit", "branch", "verdict", *metrics, "baseline?", "run"]
    body = [
        [
            _utc(r.start_time_ms),
            (r.commit or "-")[:7],
            f"PR#{r.pr_number}" if r.pr_number is not None else (r.branch or "-"),
            r.verdict or "-",
            *(_number(r.metrics.get(m)) for m in metrics),
            "yes" if r.baseline_eligible else "no",
            r.run_id[:8],
        ]
        for r in rows
    ]
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *body, strict=True)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in [header, *body]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n"


def render_csv(rows: Sequence[HistoryRow]) -> str:
    metric_names = sorted({k for r in rows for k in r.metrics})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "start_time_utc",
            "run_id",
            "run_name",
            "status",
            "commit",
            "branch",
            "pr_number",
            "verdict",
            "baseline_eligible",
            "provenance",
            "hardware_id",
            *metric_names,
        ]
    )
    for r in rows:
        writer.writerow(
            [
                _utc(r.start_time_ms),
                r.run_id,
                r.run_name,
                r.status,
                r.commit or "",
                r.branch or "",
                "" if r.pr_number is None else r.pr_number,
                r.verdict or "",
                "true" if r.baseline_eligible else "false",
                r.provenance or "",
                r.hardware_id or "",
                *(_csv_number(r.metrics.get(m)) for m in metric_names),
            ]
        )
    return out.getvalue()


def render_json(rows: Sequence[HistoryRow]) -> str:
    # MLflow stores NaN and infinite metrics as they were logged; JSON has no word for them: null.
    data, _ = finite_data([{**asdict(r), "start_time_utc": _utc(r.start_time_ms)} for r in rows])
    return json.dumps(data, indent=2, allow_nan=False) + "\n"


def _utc(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def _csv_number(value: float | None) -> str:
    return "" if value is None else repr(float(value))
