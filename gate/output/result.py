"""The machine-readable result of a check (`--json`, `.green-gate/results/`), and the report's input.

Format version 1. Top-level `verdict` is one of pass, warn, fail, error.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gate import __version__, paths, secrets
from gate.compare.model import Baseline, Decision, Verdict
from gate.devices import conditions
from gate.energy.model import RunSummary, ScopeSummary
from gate.errors import OutputError

FORMAT_VERSION = 1
RESULT_SCHEMA = "result.v1.schema.json"


@dataclass(frozen=True)
class BenchmarkOutcome:
    """One benchmark's part of the result, assembled once from the check's stages."""

    name: str
    kind: str
    command: str
    repeats: int
    warmup: int
    baseline_branch: str
    summary: RunSummary | None = None
    unit: str = "prediction"  # what energy_per_prediction_j counts: J per <unit>
    baseline: Baseline | None = None
    decision: Decision | None = None
    error: str | None = None
    output_tail: tuple[str, ...] = ()
    mlflow_run_id: str | None = None
    mlflow_run_url: str | None = None
    notes: tuple[str, ...] = ()
    # Recent baseline runs, oldest first: {run_id, commit, start_time_ms, metrics} (for the trend chart).
    history: tuple[dict[str, Any], ...] = ()
    paired_base: RunSummary | None = None  # paired mode: the base commit's repeats in this job
    # Adaptive repeats: {min, max, repeats_run, stopped} (gate.pipeline.adaptive.AdaptiveRun.to_dict)
    adaptive: dict[str, object] | None = None

    @property
    def verdict(self) -> Verdict:
        if self.error is not None or self.decision is None:
            return "error"
        return self.decision.verdict

    def to_dict(self) -> dict[str, Any]:
        summary = self.summary
        return {
            "name": self.name,
            "kind": self.kind,
            "command": self.command,
            "repeats": self.repeats,
            "warmup": self.warmup,
            "unit": self.unit,
            "verdict": self.verdict,
            "metrics": dict(summary.metrics) if summary else {},
            "per_repeat": {k: list(v) for k, v in summary.per_repeat.items()} if summary else {},
            "quality": dict(summary.quality) if summary else {},
            "scopes": [scope_dict(s) for s in summary.scopes] if summary else [],
            "phases": [asdict(p) for p in summary.phases] if summary else [],
            "provenance": summary.provenance if summary else None,
            "intensity": asdict(summary.intensity) if summary and summary.intensity else None,
            "baseline_branch": self.baseline_branch,
            "baseline": asdict(self.baseline) if self.baseline else None,
            "checks": [asdict(c) for c in self.decision.checks] if self.decision else [],
            "notes": [*(self.decision.notes if self.decision else ()), *self.notes],
            "error": self.error,
            "output_tail": list(self.output_tail),
            "mlflow_run_id": self.mlflow_run_id,
            "mlflow_run_url": self.mlflow_run_url,
            "history": list(self.history),
            "adaptive": self.adaptive,
            "conditions": run_conditions(summary),
        }


def scope_dict(scope: ScopeSummary) -> dict[str, Any]:
    """A scope as the JSON holds it: the GPU engine's per-GPU figures only where there are some."""
    data = asdict(scope)
    for key in ("calibration", "counter_staleness_s"):
        if not data[key]:
            del data[key]
    return data


def run_conditions(summary: RunSummary | None) -> dict[str, Any] | None:
    """The runner's condition around each repeat and their medians; None where none was read."""
    if summary is None or not summary.conditions:
        return None
    return {
        "medians": conditions.medians(summary.conditions),
        "per_repeat": [c.to_dict() for c in summary.conditions],
    }


def build_document(
    *,
    verdict: Verdict,
    exit_code: int | None,
    budget_file: str | None,
    tracking_uri: str | None,
    context: dict[str, Any],
    hardware: dict[str, Any],
    outcomes: list[BenchmarkOutcome],
    notes: list[str],
    error: dict[str, str | None] | None = None,
    complete: bool | None = None,
) -> dict[str, Any]:
    """The result document; `complete` defaults to whether the check has an exit code (a partial result
    saved while it runs has none). docs/templates.md and result.v1.schema.json describe every field."""
    return {
        "format": FORMAT_VERSION,
        "gate_version": __version__,
        "verdict": verdict,
        "exit_code": exit_code,  # None while the check is still running (a partial, saved result)
        "complete": exit_code is not None if complete is None else complete,
        "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "budget_file": budget_file,
        "tracking_uri": tracking_uri,
        "context": context,
        "hardware": hardware,
        "notes": notes,
        "error": error,
        "benchmarks": [o.to_dict() for o in outcomes],
    }


def write_json(path: Path, document: dict[str, Any]) -> None:
    """Write atomically: a reader never sees half a result. Redacted (gate.secrets) before it is
    serialised, as JSON escaping could hide a value: every result, spooled run and `--json` file
    passes here."""
    document = secrets.active_secrets().redact_data(document)
    document, where = finite_data(document)
    if where and isinstance(document.get("notes"), list):
        document["notes"] = [*document["notes"], non_finite_note(where)]
    text = json.dumps(document, indent=2, sort_keys=False, allow_nan=False) + "\n"
    try:
        write_atomically(path, text)
    except OSError as exc:  # an unwritable or missing folder, a full disk
        raise write_error(path, exc) from None


def write_atomically(path: Path, text: str, *, mode: int | None = None) -> None:
    """Write beside `path`, then rename over it, so a reader (a later step, node_exporter) never sees
    half a file; `mode` widens the temporary file's owner-only permissions. Raises OSError."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def finite_data(data: Any, at: str = "") -> tuple[Any, list[str]]:
    """JSON-like data with every NaN and infinity replaced by None, and the key paths where that was
    done. Bare `NaN`/`Infinity` is not JSON (strict parsers, jq and GitHub's API refuse it); a meter,
    a carbon source, a metrics file or an MLflow value may still hand one over."""
    if isinstance(data, float) and not math.isfinite(data):
        return None, [at or "(value)"]
    if isinstance(data, dict):
        out: dict[Any, Any] = {}
        where: list[str] = []
        for key, value in data.items():
            out[key], found = finite_data(value, f"{at}.{key}" if at else str(key))
            where += found
        return out, where
    if isinstance(data, (list, tuple)):
        items = [finite_data(value, f"{at}[{i}]") for i, value in enumerate(data)]
        return [v for v, _ in items], [w for _, found in items for w in found]
    return data, []


def non_finite_note(where: list[str]) -> str:
    shown = ", ".join(where[:10]) + (f" and {len(where) - 10} more" if len(where) > 10 else "")
    return f"not a finite number, written as null: {shown}"


def write_error(path: Path, exc: OSError) -> OutputError:
    """The error for an output file that could not be written: which, why, and what to change."""
    # mkdir(parents=True) on a path through a regular file says "File exists": name the real problem.
    if isinstance(exc, (FileExistsError, NotADirectoryError)):
        reason = "part of its folder path is a file, not a folder"
    else:
        reason = exc.strerror or str(exc)
    return OutputError(
        f"cannot write {path}: {reason}",
        hint="free disk space, or make the folder writable, or give another path (--json, --report-file)",
    )


def load_document(path: Path) -> dict[str, Any]:
    """Read a saved result and check it against the result schema: it may come from an untrusted job."""
    from importlib import resources

    import jsonschema

    from gate.errors import ConfigError

    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read the result file: {exc.strerror}", file=str(path)) from exc
    except ValueError as exc:
        raise ConfigError(f"not JSON: {exc}", file=str(path), hint="pass the file `check --json` wrote") from exc
    schema = json.loads(resources.files("gate.output").joinpath(RESULT_SCHEMA).read_text(encoding="utf-8"))
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(document))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        raise ConfigError(
            f"not a green-gate result (format {FORMAT_VERSION}): at {where}: {error.message[:200]}",
            file=str(path),
            hint="pass the file `green-gate check --json` wrote, with the same green-gate version",
        )
    result: dict[str, Any] = document
    return result


def local_result_path(cwd: Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return paths.results_dir(cwd) / f"check-{stamp}.json"
