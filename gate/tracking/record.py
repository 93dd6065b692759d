"""One check as one MLflow run, as plain data: the record (what the spool keeps), what it logs
(metrics, per-repeat series, params, tags, run name, description), its `log_batch` calls, and the
per-repeat series derived on read. Pure: `mlflow_store` turns a `RunRecord` into MLflow calls."""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from gate.devices import conditions
from gate.energy.model import RunSummary, phase_metric
from gate.tracking.names import (
    CONDITIONS_PREFIX,
    GPU_CALIBRATION_METRIC,
    GPU_STALENESS_METRIC,
    MAX_BATCH_METRICS,
    MAX_BATCH_PARAMS_TAGS,
    MAX_METRIC_KEY_CHARS,
    MAX_PARAM_VALUE_CHARS,
    MAX_TAG_VALUE_CHARS,
    SERIES_PREFIX,
    TAG_BASELINE_RUN_ID,
    TAG_BENCHMARK,
    TAG_CONTEXT,
    TAG_ELIGIBLE,
    TAG_ENERGY_METHOD,
    TAG_GIT_BRANCH,
    TAG_GIT_COMMIT,
    TAG_GIT_REPO_URL,
    TAG_HARDWARE,
    TAG_NOTE,
    TAG_PR,
    TAG_PROVENANCE,
    TAG_RESULT_ID,
    TAG_SOURCE_NAME,
    TAG_UNIT,
    TAG_VERDICT,
    scope_metric,
)
from gate.tracking.run_context import encode_context, run_context
from gate.units import si_prefix

RECORD_FORMAT = 1


# Per-repeat values that follow from logged ones within a run are not logged; complete_series()
# derives them on read. kWh and gCO2eq are energy_j times a constant of the run.
PROPORTIONAL_TO_ENERGY = ("energy_kwh", "emissions_g")
DERIVED_SERIES = frozenset({*PROPORTIONAL_TO_ENERGY, "mean_power_w", "grid_intensity_g_per_kwh"})


def phase_metrics(summary: RunSummary) -> dict[str, float]:
    """Each measured phase's energy and J per item (geometric means), under its name with the characters
    MLflow refuses as `_` (pytest's `test_parse[small]`: phase.test_parse_small_.…); two phases whose
    names would give the same key are both left out rather than one logged as the other."""
    metrics: dict[str, float] = {}
    keys = Counter(phase_metric(phase.name, "energy_j") for phase in summary.phases)
    for phase in summary.phases:
        if not phase.name or keys[phase_metric(phase.name, "energy_j")] > 1:
            continue
        if len(phase_metric(phase.name, "energy_per_item_j")) > MAX_METRIC_KEY_CHARS:
            continue
        metrics[phase_metric(phase.name, "energy_j")] = phase.energy_j
        if phase.energy_per_item_j is not None:
            metrics[phase_metric(phase.name, "energy_per_item_j")] = phase.energy_per_item_j
    return metrics


def gpu_counter_metrics(summary: RunSummary) -> dict[str, float]:
    """k of the GPU whose power sensor is farthest from its energy counter, and the largest counter
    staleness: a run whose k drifts from 1, or whose staleness changes, measured on other hardware."""
    metrics: dict[str, float] = {}
    for s in summary.scopes:
        if s.scope == "gpu" and s.calibration:
            metrics[GPU_CALIBRATION_METRIC] = max(s.calibration, key=lambda k: abs(k - 1))
        if s.scope == "gpu" and s.counter_staleness_s:
            metrics[GPU_STALENESS_METRIC] = max(s.counter_staleness_s)
    return metrics


def condition_metrics(summary: RunSummary) -> dict[str, float]:
    """The runner's conditions as metrics: `conditions.<figure>`, the median over the repeats."""
    return {CONDITIONS_PREFIX + name: value for name, value in conditions.medians(summary.conditions).items()}


def split_conditions(metrics: Mapping[str, float]) -> tuple[dict[str, float], dict[str, float]]:
    """A run's metrics without `conditions.*`, and those conditions by figure name."""
    rest = {k: v for k, v in metrics.items() if not k.startswith(CONDITIONS_PREFIX)}
    found = {k[len(CONDITIONS_PREFIX) :]: v for k, v in metrics.items() if k.startswith(CONDITIONS_PREFIX)}
    return rest, found


@dataclass(frozen=True)
class RunRecord:
    """Everything one check logs as one MLflow run. Serialisable (the spool keeps these)."""

    result_id: str
    experiment: str
    run_name: str
    start_time_ms: int
    end_time_ms: int
    metrics: dict[str, float]  # summary values, logged at step 0
    series: dict[str, tuple[float, ...]]  # `repeat.<metric>` -> one value per repeat (step = index)
    params: dict[str, str]
    tags: dict[str, str]
    failed: bool

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["series"] = {k: list(v) for k, v in self.series.items()}
        return {"format": RECORD_FORMAT, **data}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunRecord:
        if data.get("format") != RECORD_FORMAT:
            raise ValueError(f"unsupported run record format {data.get('format')!r} (this gate reads {RECORD_FORMAT})")
        return cls(
            result_id=str(data["result_id"]),
            experiment=str(data["experiment"]),
            run_name=str(data["run_name"]),
            start_time_ms=int(data["start_time_ms"]),
            end_time_ms=int(data["end_time_ms"]),
            metrics={str(k): float(v) for k, v in data["metrics"].items()},
            series={str(k): tuple(float(x) for x in v) for k, v in data["series"].items()},
            params={str(k): str(v) for k, v in data["params"].items()},
            tags={str(k): str(v) for k, v in data["tags"].items()},
            failed=bool(data["failed"]),
        )


@dataclass(frozen=True)
class Batch:
    """One `log_batch` call's worth: within MLflow's 1000 metrics / 100 params+tags."""

    metrics: tuple[tuple[str, float, int, int], ...] = ()  # (key, value, timestamp_ms, step)
    params: tuple[tuple[str, str], ...] = ()
    tags: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class RunIdentity:
    """Where a run comes from (plain data from the CI context)."""

    benchmark: str
    repository: str | None
    commit: str | None
    branch: str | None
    base_branch: str | None = None
    pr_number: int | None = None
    event_name: str | None = None
    ci_run_url: str | None = None
    server_url: str = "https://github.com"


@dataclass(frozen=True)
class RunFacts:
    """What the gate learnt about the run: the parts of the schema that are not its identity."""

    verdict: str
    baseline_eligible: bool
    hardware: Mapping[str, Any]  # Hardware.to_dict(): includes "fingerprint"
    command: str
    kind: str
    repeats: int
    warmup: int
    timeout_s: float
    budget_file: str
    budget_sha256: str | None
    gate_version: str
    baseline_run_id: str | None = None
    failed: bool = False
    extra_tags: Mapping[str, str] = field(default_factory=dict)  # e.g. green_gate.comparison
    unit: str = "prediction"  # the benchmark's item word, kept as TAG_UNIT


def waiver_tag(label: str, login: str, reason: str) -> str:
    """TAG_WAIVER's value: which label, added by whom, and the reason the PR gave."""
    return json.dumps({"label": label, "by": login, "reason": reason}, ensure_ascii=False, sort_keys=True)


def run_name(
    identity: RunIdentity,
    verdict: str | None = None,
    energy_per_prediction_j: float | None = None,
    unit: str = "prediction",
) -> str:
    """Short commit first, so the MLflow UI's charts label each bar by commit; then the verdict and the
    energy per item (the run's figure, a geometric mean), so the runs table reads at a glance: Run Name
    is one of the few columns MLflow's runs table shows without configuring (docs/mlflow-schema.md)."""
    short = (identity.commit or "local")[:7]
    where = f"PR#{identity.pr_number}" if identity.pr_number is not None else (identity.branch or "detached")
    name = f"{short} {where} {identity.benchmark}"
    if verdict:
        name += f" {verdict}"
    if energy_per_prediction_j is not None and math.isfinite(energy_per_prediction_j):
        prefix = si_prefix(energy_per_prediction_j)
        scale, prefix_unit = prefix if prefix else (1.0, "")
        name += f" {energy_per_prediction_j / scale:.3g} {prefix_unit}J/{_UNIT_SHORT.get(unit, unit)}"
    return name


# The item word in a run name: short for the default, the budget's own word otherwise.
_UNIT_SHORT = {"prediction": "pred"}


def budget_sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def build_run_record(
    *,
    result_id: str,
    experiment: str,
    identity: RunIdentity,
    facts: RunFacts,
    summary: RunSummary,
    start_time_ms: int,
    end_time_ms: int,
) -> RunRecord:
    metrics: dict[str, float] = {**summary.metrics, **summary.quality}
    metrics.update({scope_metric(s.scope): s.energy_j for s in summary.scopes})
    metrics.update(phase_metrics(summary))
    metrics.update(gpu_counter_metrics(summary))
    metrics.update(condition_metrics(summary))
    series = {f"{SERIES_PREFIX}{k}": tuple(v) for k, v in summary.per_repeat.items() if k not in DERIVED_SERIES}
    # Each phase's repeats too (the names phase_metrics keeps): per-case limits decide on them.
    series.update({f"{SERIES_PREFIX}{k}": tuple(v) for k, v in summary.phase_series.items() if k in metrics})

    tags: dict[str, str] = {
        TAG_BENCHMARK: identity.benchmark,
        TAG_HARDWARE: str(facts.hardware.get("fingerprint", "")),
        TAG_VERDICT: facts.verdict,
        TAG_ELIGIBLE: "true" if facts.baseline_eligible else "false",
        TAG_PROVENANCE: summary.provenance,
        TAG_ENERGY_METHOD: summary.energy_method,
        TAG_RESULT_ID: result_id,
        TAG_SOURCE_NAME: identity.repository or "green-gate",
        TAG_CONTEXT: encode_context(run_context(identity, facts, summary)),
        TAG_UNIT: facts.unit,
    }
    if identity.commit:
        tags[TAG_GIT_COMMIT] = identity.commit
    if identity.branch:
        tags[TAG_GIT_BRANCH] = identity.branch
    if identity.repository:
        tags[TAG_GIT_REPO_URL] = f"{identity.server_url.rstrip('/')}/{identity.repository}"
    if identity.pr_number is not None:
        tags[TAG_PR] = str(identity.pr_number)
    if facts.baseline_run_id:
        tags[TAG_BASELINE_RUN_ID] = facts.baseline_run_id
    tags[TAG_NOTE] = _note(identity, facts, summary)
    tags.update(facts.extra_tags)

    # What the measurement means: the command, how many repeats its statistics rest on, which gate.
    # The rest of the benchmark's settings are the same for every run of an experiment: context.
    params: dict[str, str] = {
        "command": facts.command,
        "repeats": str(facts.repeats),
        "gate_version": facts.gate_version,
    }
    return RunRecord(
        result_id=result_id,
        experiment=experiment,
        run_name=run_name(identity, facts.verdict, summary.metrics.get("energy_per_prediction_j"), facts.unit),
        start_time_ms=start_time_ms,
        end_time_ms=end_time_ms,
        metrics=metrics,
        series=series,
        params={k: v[:MAX_PARAM_VALUE_CHARS] for k, v in params.items()},
        tags={k: v[:MAX_TAG_VALUE_CHARS] for k, v in tags.items()},
        failed=facts.failed,
    )


def complete_series(
    series: Mapping[str, tuple[float, ...]], metrics: Mapping[str, float]
) -> dict[str, tuple[float, ...]]:
    """A run's per-repeat series with those not logged (DERIVED_SERIES) derived from the logged ones
    and the run's summary metrics (geometric means): kWh and gCO2eq scale energy_j by the run's constant
    factor, mean power is energy over duration per repeat, the grid intensity is one value per run."""
    out = dict(series)
    energy = out.get("energy_j")
    if not energy:
        return out
    central_j = metrics.get("energy_j")
    for name in PROPORTIONAL_TO_ENERGY:
        if name not in out and name in metrics and central_j:
            factor = metrics[name] / central_j
            out[name] = tuple(e * factor for e in energy)
    duration = out.get("duration_s")
    if "mean_power_w" not in out and duration and len(duration) == len(energy):
        out["mean_power_w"] = tuple(e / d if d > 0 else 0.0 for e, d in zip(energy, duration, strict=True))
    if "grid_intensity_g_per_kwh" not in out and "grid_intensity_g_per_kwh" in metrics:
        out["grid_intensity_g_per_kwh"] = (metrics["grid_intensity_g_per_kwh"],) * len(energy)
    return out


def _note(identity: RunIdentity, facts: RunFacts, summary: RunSummary) -> str:
    where = f"PR #{identity.pr_number}" if identity.pr_number is not None else f"`{identity.branch or 'detached'}`"
    lines = [
        f"green-gate **{facts.verdict}** for `{identity.benchmark}` at `{(identity.commit or 'local')[:7]}` "
        f"on {where} ({summary.provenance}, geometric mean of {summary.repeats} repeats)."
    ]
    if facts.baseline_run_id:
        lines.append(f"Compared with run `{facts.baseline_run_id}`.")
    if identity.ci_run_url:
        lines.append(f"CI run: {identity.ci_run_url}")
    return "\n\n".join(lines)


def batches(record: RunRecord) -> list[Batch]:
    """The record's writes split into `log_batch` calls within MLflow's limits."""
    rows: list[tuple[str, float, int, int]] = [
        (k, float(v), record.start_time_ms, 0) for k, v in record.metrics.items()
    ]
    for key, values in record.series.items():
        rows.extend((key, float(v), record.start_time_ms, step) for step, v in enumerate(values))
    attrs: list[tuple[str, str, str]] = [("param", k, v) for k, v in record.params.items()]
    attrs.extend(("tag", k, v) for k, v in record.tags.items())
    out: list[Batch] = []
    metric_chunks = [tuple(rows[i : i + MAX_BATCH_METRICS]) for i in range(0, len(rows), MAX_BATCH_METRICS)]
    attr_chunks = [attrs[i : i + MAX_BATCH_PARAMS_TAGS] for i in range(0, len(attrs), MAX_BATCH_PARAMS_TAGS)]
    for index in range(max(len(metric_chunks), len(attr_chunks))):
        chunk = attr_chunks[index] if index < len(attr_chunks) else []
        out.append(
            Batch(
                metrics=metric_chunks[index] if index < len(metric_chunks) else (),
                params=tuple((k, v) for kind, k, v in chunk if kind == "param"),
                tags=tuple((k, v) for kind, k, v in chunk if kind == "tag"),
            )
        )
    return out
