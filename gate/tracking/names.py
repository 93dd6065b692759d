"""The names the gate gives what it writes to MLflow, and MLflow's limits on them: tags, metric
keys, per-repeat series, per-scope and per-phase metrics, benchmark metrics that would clash, pin tags.

Pure: no MLflow import, no I/O. docs/mlflow-schema.md documents every name defined here.
"""

from __future__ import annotations

import posixpath
import re
from typing import get_args

from gate.config.budget import EnergyScope
from gate.energy.model import METRICS

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
# The runner's condition during the run (gate.devices.conditions): `conditions.<figure>`, medians over
# the repeats; a baseline's are read back into Baseline.conditions, not its metrics.
CONDITIONS_PREFIX = "conditions."


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
GPU_CALIBRATION_METRIC = "gpu_calibration_k"
GPU_STALENESS_METRIC = "gpu_counter_staleness_s"


def benchmark_metric_problem(name: str) -> str | None:
    """Why a metric the benchmark reports cannot be logged as `name`, in words that follow the
    quoted name; None when it can."""
    if name in METRICS:
        return "is one of the metrics the gate computes itself"
    if name in SCOPE_METRICS:
        return "is a scope's energy, which the gate logs itself"
    if name in (GPU_CALIBRATION_METRIC, GPU_STALENESS_METRIC):
        return "is the GPU engine's own figure, which the gate logs itself"
    if name.startswith(SERIES_PREFIX):
        return f"starts with {SERIES_PREFIX!r}, the prefix of the gate's per-repeat series"
    if name.startswith(PHASE_PREFIX):
        return f"starts with {PHASE_PREFIX!r}, the prefix of the gate's per-phase figures"
    if name.startswith(CONDITIONS_PREFIX):
        return f"starts with {CONDITIONS_PREFIX!r}, the prefix of the runner's conditions"
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
    elif name.startswith(CONDITIONS_PREFIX):
        name = CONDITIONS_PREFIX.rstrip(".") + "_" + name[len(CONDITIONS_PREFIX) :]
    name = _METRIC_KEY_UNSAFE.sub("_", name)
    name = "/".join(part for part in name.split("/") if part not in ("", ".", ".."))
    name = name[:MAX_METRIC_KEY_CHARS].rstrip("/")
    return name if name and benchmark_metric_problem(name) is None else None


def pin_tag_key(branch: str) -> str:
    """The experiment tag holding the pin for `branch` (characters MLflow refuses in keys become `_`)."""
    return PIN_TAG_PREFIX + _TAG_KEY_UNSAFE.sub("_", branch)


def per_repeat_keys(metric_keys: list[str] | tuple[str, ...] | set[str]) -> dict[str, str]:
    """`repeat.<name>` metric keys of a run -> `<name>`."""
    return {k: k[len(SERIES_PREFIX) :] for k in sorted(metric_keys) if k.startswith(SERIES_PREFIX)}
