"""The gate's MLflow run schema as plain data: names, metrics, params, tags, search filters, pins.

Pure: no MLflow import, no I/O. `tracking_mlflow` turns a `RunRecord` into MLflow calls; the spool
stores it as JSON. docs/mlflow-schema.md documents every name defined here.
"""

from __future__ import annotations

import hashlib
import json
import math
import posixpath
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, get_args

from gate.carbon.intensity import intensity_provenance
from gate.config.budget import EnergyScope
from gate.energy.model import METRICS, RunSummary
from gate.units import si_prefix

RECORD_FORMAT = 1

# MLflow's own limits on one log_batch call, and on values.
MAX_BATCH_METRICS = 1000
MAX_BATCH_PARAMS_TAGS = 100
MAX_PARAM_VALUE_CHARS = 6000
MAX_TAG_VALUE_CHARS = 8000
MAX_METRIC_KEY_CHARS = 250

# Standard MLflow tags (the UI shows them in the run's header and source columns). Branch and commit
# live here only: the gate's searches filter on `mlflow.source.git.branch`.
TAG_GIT_COMMIT = "mlflow.source.git.commit"
TAG_GIT_BRANCH = "mlflow.source.git.branch"
TAG_GIT_REPO_URL = "mlflow.source.git.repoURL"
TAG_SOURCE_NAME = "mlflow.source.name"
TAG_NOTE = "mlflow.note.content"

# The gate's tags: the ones searches filter on or people read in the runs table. Values are strings;
# booleans are "true"/"false". Everything else about a run is one JSON tag, TAG_CONTEXT: every tag,
# param and latest metric is a database row that MLflow loads and serialises for each run a search
# returns, so fewer rows per run is what keeps history and the MLflow UI's runs table fast.
TAG_BENCHMARK = "green_gate.benchmark"
TAG_PR = "green_gate.pr"
TAG_HARDWARE = "green_gate.hardware_id"
TAG_VERDICT = "green_gate.verdict"
TAG_ELIGIBLE = "green_gate.baseline_eligible"  # "true" only on finished, compared, non-PR runs in budget
TAG_PROVENANCE = "green_gate.provenance"
TAG_COMPARISON = "green_gate.comparison"  # history | paired | paired-base
TAG_BASELINE_RUN_ID = "green_gate.baseline_run_id"
TAG_RESULT_ID = "green_gate.result_id"  # idempotency key: one result is one run, however often uploaded
TAG_CONTEXT = "green_gate.context"  # JSON, see run_context()
TAG_WAIVER = "green_gate.waiver"  # JSON {label, by, reason}: a PR label waived this run's regression
TAG_ENERGY_METHOD = "green_gate.energy_method"  # RunSummary.energy_method: runs that differ are not comparable
TAG_UNIT = "green_gate.unit"  # what energy_per_prediction_j counts (token, sample...); the metric name stays

# Read from runs logged by the first schema (0.x before the lean schema), never written.
LEGACY_TAG_HARDWARE_JSON = "green_gate.hardware"

# Experiment tags a release manager sets with `green-gate baseline pin`: one per baseline branch.
PIN_TAG_PREFIX = "green_gate.pin."

SERIES_PREFIX = "repeat."  # per-repeat values: metric `repeat.<name>`, one step per repeat
# Per-repeat values that follow from logged ones within a run are not logged; complete_series()
# derives them on read. kWh and gCO2eq are energy_j times a constant of the run.
PROPORTIONAL_TO_ENERGY = ("energy_kwh", "emissions_g")
DERIVED_SERIES = frozenset({*PROPORTIONAL_TO_ENERGY, "mean_power_w", "grid_intensity_g_per_kwh"})
CONTEXT_FORMAT = 1

_TAG_KEY_UNSAFE = re.compile(r"[^\w./\- ]")
# What MLflow takes in a metric key on every platform its server runs on (Windows refuses ':').
_METRIC_KEY_UNSAFE = _TAG_KEY_UNSAFE
# Benchmark-reported metrics are logged beside the gate's own, unprefixed: they may not take a name
# the gate logs, or one that would pass for a per-repeat series when the run becomes a baseline.
BENCHMARK_RENAME_PREFIX = "bench_"


def scope_metric(scope: str) -> str:
    """The metric holding one energy scope's energy (the geometric mean of the repeats): energy_gpu_j,
    energy_cpu_j, energy_ram_j."""
    return f"energy_{scope}_j"


SCOPE_METRICS = frozenset(scope_metric(scope) for scope in get_args(EnergyScope))
PHASE_PREFIX = "phase."  # each measured phase apart: phase.<name>.energy_j, phase.<name>.energy_per_item_j


def phase_metrics(summary: RunSummary) -> dict[str, float]:
    """Each measured phase's energy and J per item (geometric means), under its name; a name MLflow would refuse
    as a key part (a user's string) is left out rather than mangled into another phase's."""
    metrics: dict[str, float] = {}
    for phase in summary.phases:
        if not phase.name or "/" in phase.name or _METRIC_KEY_UNSAFE.search(phase.name):
            continue
        key = f"{PHASE_PREFIX}{phase.name}."
        if len(key) + len("energy_per_item_j") > MAX_METRIC_KEY_CHARS:
            continue
        metrics[key + "energy_j"] = phase.energy_j
        if phase.energy_per_item_j is not None:
            metrics[key + "energy_per_item_j"] = phase.energy_per_item_j
    return metrics


def benchmark_metric_problem(name: str) -> str | None:
    """Why a metric the benchmark reports cannot be logged as `name`, in words that follow the
    quoted name; None when it can."""
    if name in METRICS:
        return "is one of the metrics the gate computes itself"
    if name in SCOPE_METRICS:
        return "is a scope's energy, which the gate logs itself"
    if name.startswith(SERIES_PREFIX):
        return f"starts with {SERIES_PREFIX!r}, the prefix of the gate's per-repeat series"
    if name.startswith(PHASE_PREFIX):
        return f"starts with {PHASE_PREFIX!r}, the prefix of the gate's per-phase figures"
    if not name:
        return "is empty"
    if len(name) > MAX_METRIC_KEY_CHARS:
        return f"is longer than the {MAX_METRIC_KEY_CHARS} characters MLflow allows"
    if _METRIC_KEY_UNSAFE.search(name):
        return "has characters MLflow refuses (it takes letters, digits, spaces and _ - . /)"
    normal = posixpath.normpath(name)
    if normal != name or normal == "." or normal.startswith(("..", "/")):
        return "is not a plain path, which MLflow requires (no leading '/', '//', '.' or '..' parts, trailing '/')"
    return None


def benchmark_metric_rename(name: str) -> str | None:
    """A name close to `name` that benchmark_metric_problem() accepts; None when there is none."""
    if name in METRICS or name in SCOPE_METRICS:
        name = BENCHMARK_RENAME_PREFIX + name
    elif name.startswith(SERIES_PREFIX):
        name = SERIES_PREFIX.rstrip(".") + "_" + name[len(SERIES_PREFIX) :]
    elif name.startswith(PHASE_PREFIX):
        name = PHASE_PREFIX.rstrip(".") + "_" + name[len(PHASE_PREFIX) :]
    name = _METRIC_KEY_UNSAFE.sub("_", name)
    name = "/".join(part for part in name.split("/") if part not in ("", ".", ".."))
    name = name[:MAX_METRIC_KEY_CHARS].rstrip("/")
    return name if name and benchmark_metric_problem(name) is None else None


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
class Pin:
    """A release manager's choice of baseline for one branch, kept as an experiment tag."""

    run_id: str
    pinned_by: str | None = None
    pinned_at: str | None = None  # ISO 8601, UTC
    note: str | None = None

    def encode(self) -> str:
        return json.dumps({k: v for k, v in asdict(self).items() if v is not None}, sort_keys=True)

    @classmethod
    def decode(cls, value: str) -> Pin | None:
        try:
            data = json.loads(value)
        except ValueError:
            data = {"run_id": value}  # a bare run id set by hand in the MLflow UI
        if not isinstance(data, dict) or not isinstance(data.get("run_id"), str) or not data["run_id"].strip():
            return None
        return cls(
            run_id=data["run_id"].strip(),
            pinned_by=data.get("pinned_by"),
            pinned_at=data.get("pinned_at"),
            note=data.get("note"),
        )


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


def experiment_name(template: str, benchmark: str, repository: str | None) -> str:
    """The budget's `mlflow.experiment` with `{benchmark}` and `{repository}` filled in."""
    return template.replace("{repository}", repository or "local").replace("{benchmark}", benchmark)


def repository_from_remote(url: str | None) -> str | None:
    """`owner/name` from a git remote URL (https, ssh or scp-like), without credentials or `.git`."""
    if not url:
        return None
    text = url.strip().rstrip("/")
    text = text[:-4] if text.endswith(".git") else text
    match = re.search(r"[:/]([^/:@]+/[^/:@]+)$", text)
    return match.group(1) if match else None


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

# MLflow 3's UI opens in its GenAI view (traces, empty for green-gate's runs) unless told otherwise.
# Earlier 3.x releases read the experiment's kind tag (still set); recent ones (3.17 read here) take
# the view from the link's `workflowType` query, else the browser's last choice, else GenAI: the links
# the gate writes carry the query.
UI_CLASSIC_VIEW_QUERY = "workflowType=machine_learning"
TAG_EXPERIMENT_KIND = "mlflow.experimentKind"
EXPERIMENT_KIND = "custom_model_development"
EXPERIMENT_DESCRIPTION = """\
**green-gate energy runs** for one benchmark: one run per `green-gate check`, each figure the
geometric mean of its measured repeats (quality metrics: the median).

The run name carries the verdict and the energy per item (the runs table shows Run Name, Created,
Dataset, Duration, Source and Models by default; metrics and tags only once chosen). Open this
experiment in the classic view: add `?workflowType=machine_learning` to its link, or pick "Machine
learning" in the sidebar.

Columns worth adding in the runs table (Columns button):
- metrics `energy_per_prediction_j`, `energy_j`, `emissions_g`, `duration_s`, `mean_power_w`
  (per repeat as steps of `repeat.*`);
- tags `green_gate.verdict` (pass, warn, fail, error), `green_gate.baseline_eligible`,
  `green_gate.provenance` (measured or estimated), `green_gate.hardware_id`,
  `mlflow.source.git.branch`.

The run name reads `<commit> <branch or PR#n> <benchmark> <verdict> <J per item>`, e.g.
`9f2c4e1 main digits pass 11 mJ/pred`.

Baselines: a check compares with the latest finished run of the baseline branch on hardware with
the same `green_gate.hardware_id` whose `green_gate.baseline_eligible` is `true` (runs from pull
requests and runs over budget never are). A pin (experiment tag `green_gate.pin.<branch>`, set by
`green-gate baseline pin`) wins over the latest run.
"""


def experiment_tags() -> dict[str, str]:
    """The tags every green-gate experiment carries: its kind and its description."""
    return {TAG_EXPERIMENT_KIND: EXPERIMENT_KIND, TAG_NOTE: EXPERIMENT_DESCRIPTION}


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
    series = {f"{SERIES_PREFIX}{k}": tuple(v) for k, v in summary.per_repeat.items() if k not in DERIVED_SERIES}

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


def run_context(identity: RunIdentity, facts: RunFacts, summary: RunSummary) -> dict[str, Any]:
    """What a run keeps for audits and baseline matching but nobody filters on (the TAG_CONTEXT JSON):
    the hardware, how each energy scope was obtained, the carbon intensity's provenance (enough to
    recompute gCO2eq), the benchmark's settings, the budget file and its hash, the CI event."""
    context: dict[str, Any] = {
        "format": CONTEXT_FORMAT,
        "kind": facts.kind,
        "warmup": facts.warmup,
        "timeout_s": facts.timeout_s,
        "budget_file": facts.budget_file,
        "hardware": dict(facts.hardware),
        "scopes": {
            s.scope: {
                "provenance": s.provenance,
                "method": s.method,
                "gated": s.gated,
                **({"attribution": s.attribution} if s.attribution else {}),
            }
            for s in summary.scopes
        },
    }
    if summary.intensity is not None:
        context["intensity"] = intensity_provenance(summary.intensity)
    optional = {
        "base_branch": identity.base_branch,
        "budget_sha256": facts.budget_sha256,
        "event": identity.event_name,
        "ci_run_url": identity.ci_run_url,
    }
    context.update({k: v for k, v in optional.items() if v})
    return context


def encode_context(context: Mapping[str, Any], limit: int = MAX_TAG_VALUE_CHARS) -> str:
    """Compact JSON within MLflow's tag limit, never cut mid-way: when too long, the intensity's
    fallback notes go first, then the hardware keeps only its fingerprint."""

    def dump(data: Mapping[str, Any]) -> str:
        return json.dumps(data, sort_keys=True, separators=(",", ":"))

    data = dict(context)
    if len(dump(data)) > limit and isinstance(data.get("intensity"), dict) and data["intensity"].get("fallback"):
        data["intensity"] = {**data["intensity"], "fallback": ["(left out: too long for an MLflow tag)"]}
    if len(dump(data)) > limit and isinstance(data.get("hardware"), dict):
        data["hardware"] = {"fingerprint": data["hardware"].get("fingerprint", ""), "truncated": True}
    return dump(data)


def decode_context(tags: Mapping[str, str]) -> dict[str, Any]:
    """A run's context (run_context()); {} when missing or not JSON. Runs of the first schema kept
    their hardware in its own tag: it is read from there."""
    context = _json_object(tags.get(TAG_CONTEXT)) or {}
    if "hardware" not in context:
        legacy = _json_object(tags.get(LEGACY_TAG_HARDWARE_JSON))
        if legacy is not None:
            context["hardware"] = legacy
    return context


def _json_object(text: str | None) -> dict[str, Any] | None:
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


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


def pin_tag_key(branch: str) -> str:
    """The experiment tag holding the pin for `branch` (characters MLflow refuses in keys become `_`)."""
    return PIN_TAG_PREFIX + _TAG_KEY_UNSAFE.sub("_", branch)


def per_repeat_keys(metric_keys: list[str] | tuple[str, ...] | set[str]) -> dict[str, str]:
    """`repeat.<name>` metric keys of a run -> `<name>`."""
    return {k: k[len(SERIES_PREFIX) :] for k in sorted(metric_keys) if k.startswith(SERIES_PREFIX)}
