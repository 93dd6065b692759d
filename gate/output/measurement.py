"""The measuring job's artifact: what `green-gate measure` measured, for `green-gate judge` to decide.

The two-half check (docs/action.md#security): the pull request's job measures with no credentials
and writes this folder; a `workflow_run` job of the base repository reads it, checks that it belongs
to the run that triggered it, and decides with the base branch's budget and MLflow's baseline.

Written by the pull request's job, so read here as untrusted input: a regular file of bounded size,
checked against `measurement.v1.schema.json`, then rebuilt into the gate's frozen values. Every
repeat is kept (`per_repeat`), so the judge decides on the same data a one-job check would.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gate import __version__
from gate.carbon.model import Intensity
from gate.compare.model import Baseline
from gate.devices.conditions import GpuConditions, RepeatConditions
from gate.devices.gpu import GpuInfo
from gate.devices.hardware import Hardware
from gate.energy.model import PhaseSummary, RunSummary, ScopeSummary
from gate.errors import ConfigError
from gate.files import read_regular, why_unreadable
from gate.output.result import finite_data, non_finite_note, write_atomically, write_error

FILE_NAME = "measurement.json"
FORMAT = "green-gate-measurement"
FORMAT_VERSION = 1
SCHEMA = "measurement.v1.schema.json"
MAX_BYTES = 32 * 1024 * 1024  # every repeat of many benchmarks fits many times over
MAX_BUDGET_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Provenance:
    """Where the measurement was taken: what the judge checks against the triggering run."""

    repository: str | None
    head_sha: str | None  # the pull request's head commit, as measured
    run_id: str | None  # GITHUB_RUN_ID of the measuring run
    run_attempt: str | None
    event_name: str | None
    pr_number: int | None  # a claim: the judge asks GitHub whether that PR's head is head_sha
    head_branch: str | None
    base_branch: str | None
    base_sha: str | None
    budget_file: str
    budget_sha256: str  # of budget_text


@dataclass(frozen=True)
class MeasuredBenchmark:
    """One benchmark as measured: a failed one keeps what it measured before failing."""

    name: str
    summary: RunSummary | None
    error: str | None = None
    output_tail: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    baseline: Baseline | None = None  # paired mode: the base commit measured in the same job
    base: RunSummary | None = None


@dataclass(frozen=True)
class Artifact:
    provenance: Provenance
    budget_text: str  # the pull request's budget file, for the judge to name what it changed
    hardware: Hardware
    benchmarks: tuple[MeasuredBenchmark, ...] = ()
    notes: tuple[str, ...] = ()
    complete: bool = False  # False: the measuring job stopped before every benchmark was measured
    gate_version: str = __version__
    created_at: str = field(default_factory=lambda: datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))

    def benchmark(self, name: str) -> MeasuredBenchmark | None:
        return next((b for b in self.benchmarks if b.name == name), None)


def budget_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def to_document(artifact: Artifact) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "gate_version": artifact.gate_version,
        "created_at": artifact.created_at,
        "complete": artifact.complete,
        "provenance": asdict(artifact.provenance),
        "budget_text": artifact.budget_text,
        "hardware": asdict(artifact.hardware),
        "notes": list(artifact.notes),
        "benchmarks": [
            {
                "name": b.name,
                "summary": _json(asdict(b.summary)) if b.summary else None,
                "error": b.error,
                "output_tail": list(b.output_tail),
                "notes": list(b.notes),
                "baseline": _json(asdict(b.baseline)) if b.baseline else None,
                "base": _json(asdict(b.base)) if b.base else None,
            }
            for b in artifact.benchmarks
        ],
    }


def write(folder: Path, artifact: Artifact) -> Path:
    """Write `folder/measurement.json` atomically (a reader never sees half of it); redacted like
    every file the gate writes. Raises OutputError."""
    from gate import secrets

    document = secrets.active_secrets().redact_data(to_document(artifact))
    document, where = finite_data(document)
    if where:
        document["notes"] = [*document["notes"], non_finite_note(where)]
    path = folder / FILE_NAME
    try:
        write_atomically(path, json.dumps(document, indent=1, allow_nan=False) + "\n")
    except OSError as exc:
        raise write_error(path, exc) from None
    return path


def load(folder: Path) -> Artifact:
    """The artifact in `folder` (or the file itself), checked and rebuilt. Raises ConfigError (exit 2)
    for anything that is not a measurement this gate version wrote."""
    path = folder / FILE_NAME if folder.is_dir() else folder
    hint = "pass the folder `green-gate measure --out` wrote (the measuring job's artifact)"
    try:
        raw = read_regular(path, MAX_BYTES)
    except OSError as exc:
        raise ConfigError(f"cannot read the measurement: {why_unreadable(exc)}", file=str(path), hint=hint) from None
    try:
        document = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise ConfigError(f"not JSON: {str(exc)[:200]}", file=str(path), hint=hint) from None
    _validate(document, path, hint)
    try:
        return _artifact(document)
    except (TypeError, ValueError, KeyError) as exc:  # the schema lets through what the values refuse
        raise ConfigError(f"not a green-gate measurement: {str(exc)[:200]}", file=str(path), hint=hint) from None


def _validate(document: Any, path: Path, hint: str) -> None:
    from importlib import resources

    import jsonschema

    schema = json.loads(resources.files("gate.output").joinpath(SCHEMA).read_text(encoding="utf-8"))
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(document))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        raise ConfigError(
            f"not a green-gate measurement (format {FORMAT_VERSION}): at {where}: {error.message[:200]}",
            file=str(path),
            hint=hint + ", with the same green-gate version",
        )
    text = document["budget_text"]
    if budget_sha256(text) != document["provenance"]["budget_sha256"]:
        raise ConfigError("the measurement's budget text does not match its budget_sha256", file=str(path), hint=hint)


def _json(data: Any) -> Any:
    """Tuples as lists, as JSON holds them."""
    return json.loads(json.dumps(data))


def _artifact(doc: dict[str, Any]) -> Artifact:
    hw = doc["hardware"]
    hardware = Hardware(
        cpu_model=hw["cpu_model"],
        cpu_count=hw["cpu_count"],
        gpu_models=tuple(hw["gpu_models"]),
        gpus=tuple(
            GpuInfo(**{**g, "mig_uuids": tuple(g.get("mig_uuids", ())), "other_pids": tuple(g.get("other_pids", ()))})
            for g in hw["gpus"]
        ),
        notes=tuple(hw["notes"]),
    )
    return Artifact(
        provenance=Provenance(**doc["provenance"]),
        budget_text=doc["budget_text"],
        hardware=hardware,
        benchmarks=tuple(
            MeasuredBenchmark(
                name=b["name"],
                summary=summary_from_dict(b["summary"]) if b["summary"] else None,
                error=b["error"],
                output_tail=tuple(b["output_tail"]),
                notes=tuple(b["notes"]),
                baseline=_baseline(b["baseline"]) if b["baseline"] else None,
                base=summary_from_dict(b["base"]) if b["base"] else None,
            )
            for b in doc["benchmarks"]
        ),
        notes=tuple(doc["notes"]),
        complete=doc["complete"],
        gate_version=doc["gate_version"],
        created_at=doc["created_at"],
    )


def summary_from_dict(data: dict[str, Any]) -> RunSummary:
    intensity = data.get("intensity")
    return RunSummary(
        repeats=data["repeats"],
        metrics=dict(data["metrics"]),
        per_repeat={k: tuple(v) for k, v in data["per_repeat"].items()},
        quality=dict(data["quality"]),
        scopes=tuple(_scope(s) for s in data["scopes"]),
        intensity=Intensity(**{**intensity, "fallback": tuple(intensity.get("fallback", ()))}) if intensity else None,
        phases=tuple(PhaseSummary(**p) for p in data.get("phases", ())),
        phase_series={k: tuple(v) for k, v in data.get("phase_series", {}).items()},
        conditions=tuple(_conditions(c) for c in data.get("conditions", ())),
    )


def _scope(data: dict[str, Any]) -> ScopeSummary:
    per_gpu = {k: tuple(data.get(k, ())) for k in ("calibration", "counter_staleness_s")}
    return ScopeSummary(**{**data, **per_gpu})


def _conditions(data: dict[str, Any]) -> RepeatConditions:
    gpus = tuple(
        GpuConditions(**{**g, "reason_shares": dict(g["reason_shares"]), "tenants": tuple(g["tenants"])})
        for g in data.get("gpus", ())
    )
    return RepeatConditions(**{**data, "gpus": gpus})


def _baseline(data: dict[str, Any]) -> Baseline:
    return Baseline(**{**data, "per_repeat": {k: tuple(v) for k, v in data["per_repeat"].items()}})
